"""The window's actions with their shortcuts, and the menus and toolbar built from them."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QAction,
    QColor,
    QIcon,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QMainWindow, QMenu, QStyle, QToolBar

from .mask_panel import MASK_OPERATIONS


class WindowActions:
    """Every menu and toolbar action; the window connects them to what they do."""

    def __init__(self, window: QMainWindow) -> None:
        icon = window.style().standardIcon

        def action(text: str, *shortcuts: QKeySequence | str, tip: str = "",
                   checkable: bool = False, standard_icon: QStyle.StandardPixmap | None = None
                   ) -> QAction:
            act = QAction(text, window, checkable=checkable)
            # A standard key with no binding on this platform would show as no shortcut.
            keys = [key for key in map(QKeySequence, shortcuts) if not key.isEmpty()]
            if keys:
                act.setShortcuts(keys)
            if tip:
                act.setToolTip(tip)
                act.setStatusTip(tip)
            if standard_icon is not None:
                act.setIcon(icon(standard_icon))
            window.addAction(act)  # shortcuts work even when the menu bar is hidden
            return act

        self.open = action("&Open…", QKeySequence.Open, tip="Open a photo",
                           standard_icon=QStyle.SP_DialogOpenButton)
        self.save = action("&Save", QKeySequence.Save, tip="Save the edited photo",
                           standard_icon=QStyle.SP_DialogSaveButton)
        self.save_as = action("Save &As / Export…", "Ctrl+Shift+S",
                              tip="Save the edited photo under a new name")
        self.open_project = action("Open Pro&ject…",
                                   tip="Open a project: a photo with its mask and whole history")
        self.save_project = action("Save &Project…", "Ctrl+Alt+S", tip=(
            "Save the photo, the mask and the whole history (with how each step was made) "
            "in one .paintnoise file"))
        self.quit = action("&Quit", QKeySequence.Quit)
        self.undo = action("&Undo", QKeySequence.Undo, tip="Undo the last step")
        self.redo = action("&Redo", "Ctrl+Shift+Z", "Ctrl+Y", tip="Redo the undone step")
        ink = window.palette().color(QPalette.WindowText)
        self.undo.setIcon(QIcon.fromTheme("edit-undo", _turn_arrow(ink, mirrored=False)))
        self.redo.setIcon(QIcon.fromTheme("edit-redo", _turn_arrow(ink, mirrored=True)))
        self.mask_operations = {
            name: action(f"{text} mask" if uses_amount else text, tip=tip)
            for name, (text, tip, uses_amount) in MASK_OPERATIONS.items()
        }
        self.cancel_all = action("Cancel &All Jobs", "Shift+Esc",
                                 tip="Stop the running Find or Replace and empty the queue")
        self.brush_add = action("Brush: &Add to mask", "B")
        self.brush_erase = action("Brush: &Erase from mask", "E")
        self.select_tool = action("&Select: click on the object", "S", tip=(
            "Click on the object to mask it (Alt+click: not this; drag: a box; Shift: add)"))
        self.save_mask = action("Save Mas&k…", tip="Save the mask as a PNG (white = repaint)")
        self.load_mask = action("&Load Mask…", tip=(
            "Make the mask from a PNG the size of the photo (white = repaint)"))
        self.zoom_to_mask = action("Zoom to Mas&k", "Ctrl+M", tip="Show the masked part, large")
        self.zoom_in = action("Zoom &In", QKeySequence.ZoomIn, "Ctrl+=")
        self.zoom_out = action("Zoom &Out", QKeySequence.ZoomOut)
        self.zoom_fit = action("&Fit to Window", "Ctrl+0", tip="Show the whole photo")
        self.zoom_actual = action("&Actual Pixels", "Ctrl+1", tip="Zoom to 100%")
        self.toggle_overlay = action("Show &Mask", "M", checkable=True,
                                     tip="Show or hide the mask over the photo")
        self.toggle_overlay.setChecked(True)
        self.show_original = action("Compare with &Original", tip=(
            "Hold to see the photo as it was opened (or hold \\)"))
        self.settings = action("&Settings…", "Ctrl+,",
                               tip="Models folder, device, inpainter and mask defaults")
        self.model_manager = action("&Model Manager…", tip="Download, add or check models")
        self.unload_models = action("&Unload Models", tip=(
            "Give back the memory the loaded models hold; they load again when next needed"))
        self.shortcuts = action("&Keyboard Shortcuts", "Ctrl+/",
                                tip="Every key the window knows, in one sheet")
        self.about = action("&About PaintNoise")
        self.recent_menu = QMenu("Open &Recent", window)
        self.recent_menu.setObjectName("recentMenu")
        self.photo_actions = (self.save, self.save_as, self.save_project, self.show_original, self.zoom_in,
                              self.zoom_out, self.zoom_fit, self.zoom_actual, self.toggle_overlay,
                              self.save_mask, self.load_mask, self.zoom_to_mask)

    def set_photo_open(self, has_photo: bool) -> None:
        """Enable the actions that need a photo (saving, zooming, the mask) or not."""
        for act in self.photo_actions:
            act.setEnabled(has_photo)

    def build_menus(self, window: QMainWindow) -> None:
        bar = window.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.open)
        file_menu.addAction(self.open_project)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addActions([self.save, self.save_as, self.save_project])
        file_menu.addSeparator()
        file_menu.addActions([self.save_mask, self.load_mask])
        file_menu.addSeparator()
        file_menu.addAction(self.quit)

        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([self.undo, self.redo])
        edit_menu.addSeparator()
        edit_menu.addAction(self.cancel_all)
        edit_menu.addSeparator()
        edit_menu.addActions([self.brush_add, self.brush_erase, self.select_tool])
        mask_menu = edit_menu.addMenu("&Mask")
        mask_menu.addActions(list(self.mask_operations.values()))
        edit_menu.addSeparator()
        edit_menu.addAction(self.settings)

        view_menu = bar.addMenu("&View")
        view_menu.addActions([self.zoom_in, self.zoom_out, self.zoom_fit, self.zoom_actual,
                              self.zoom_to_mask])
        view_menu.addSeparator()
        view_menu.addAction(self.toggle_overlay)
        self.panels_menu = view_menu.addMenu("&Panels")

        models_menu = bar.addMenu("&Models")
        models_menu.addAction(self.model_manager)
        models_menu.addAction(self.unload_models)

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.shortcuts)
        help_menu.addAction(self.about)

    def build_toolbar(self, window: QMainWindow) -> QToolBar:
        toolbar = QToolBar("Main", window, objectName="mainToolBar", movable=False)
        toolbar.addActions([self.open, self.save])
        toolbar.addSeparator()
        toolbar.addActions([self.undo, self.redo])
        toolbar.addSeparator()
        toolbar.addActions([self.zoom_fit, self.zoom_actual, self.toggle_overlay])
        toolbar.addSeparator()
        toolbar.addAction(self.show_original)
        window.addToolBar(toolbar)
        return toolbar


def _turn_arrow(colour: QColor, mirrored: bool, size: int = 32) -> QIcon:
    """An arrow that turns back on itself (pointing left; right when `mirrored`): the usual
    undo and redo sign, for desktops whose icon theme has none."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.Antialiasing)
    painter.scale(size / 32, size / 32)
    if mirrored:
        painter.translate(32, 0)
        painter.scale(-1, 1)
    painter.setPen(QPen(colour, 3, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))
    path = QPainterPath(QPointF(7, 12))
    path.lineTo(19, 12)
    path.arcTo(QRectF(12, 12, 14, 14), 90, -180)
    path.lineTo(11, 26)
    path.moveTo(12, 7)
    path.lineTo(7, 12)
    path.lineTo(12, 17)
    painter.drawPath(path)
    painter.end()
    return QIcon(pixmap)
