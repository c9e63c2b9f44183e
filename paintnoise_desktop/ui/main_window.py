"""The main window: canvas, prompt bar, mask and history panels, menus and status bar.

Opening and saving live in photo_files.py, Find/Replace jobs in edit_jobs.py;
this module lays the window out and keeps every view in step with the document.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QKeyEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QGridLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from ..core import masks
from ..core.box import Box, union
from ..core.document import Document
from ..core.errors import PaintNoiseError
from ..core.jobs import InpaintVariant, MaskCandidate, Progress, Result
from ..engine.models.catalog import known_spec
from ..engine.settings import EngineSettings, load_settings
from .app_settings import AppSettings
from .candidate_panel import CandidatePanel
from .canvas import Canvas
from .dialogs import Dialogs
from .edit_jobs import EditJobs
from .engine_bridge import EngineBridge
from .history_panel import HistoryPanel
from .mask_panel import MaskPanel
from .mask_steps import MaskStep, MaskSteps
from .model_manager import ModelManagerDialog
from .photo_files import PhotoFiles
from .prompt_bar import PromptBar
from .settings_dialog import SettingsDialog
from .thumbnails import pixmap_of
from .variants_panel import VariantsPanel
from .window_actions import WindowActions

APP_NAME = "PaintNoise"
TITLE = f"{APP_NAME} Desktop"  # the window's title and the About box name the app alike
PREVIEW_SIZE = 160
PROGRESS_INTERVAL_S = 0.05  # at most 20 progress repaints a second
SLIDER_SETTLE_MS = 150  # remake the found mask once a slider has rested this long

# Mask panel operation -> (history name, new mask from the mask and the pixel amount)
MASK_OPERATIONS = {
    "grow": ("Grow mask {px} px", masks.grow),
    "shrink": ("Shrink mask {px} px", masks.shrink),
    "feather": ("Feather mask {px} px", masks.feather),
    "fill_holes": ("Fill holes", lambda mask, px: masks.fill_holes(mask)),
    "invert": ("Invert mask", lambda mask, px: masks.invert(mask)),
    "clear": ("Clear mask", lambda mask, px: masks.clear(mask.shape)),
}


class MainWindow(QMainWindow):
    modelMissing = Signal(object)  # a job failed for want of these model ids (tuple): offer them

    def __init__(self, settings: AppSettings | None = None, bridge: EngineBridge | None = None,
                 dialogs: Dialogs | None = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        self.settings = settings or AppSettings()
        settings_problem = ""
        if bridge is None:
            try:
                engine_settings = load_settings()
            except PaintNoiseError as error:
                engine_settings, settings_problem = EngineSettings(), str(error)
            bridge = EngineBridge(engine_settings, parent=self)
        self.bridge = bridge
        self.document: Document | None = None
        self._original_rgb: np.ndarray | None = None

        self.canvas = Canvas()
        self.prompt_bar = PromptBar()
        self.mask_panel = MaskPanel()
        self.candidate_panel = CandidatePanel()
        self.variants_panel = VariantsPanel()
        self.history_panel = HistoryPanel()
        self.preview_label = QLabel(objectName="previewLabel", visible=False)
        self._progress_shown_at = 0.0
        self.preview_label.setStyleSheet("border: 1px solid #888; background: #222;")
        self.error_box = QMessageBox(QMessageBox.Warning, TITLE, "", QMessageBox.Ok, self)
        self.error_box.setObjectName("errorBox")
        self.error_box.setWindowModality(Qt.NonModal)
        self.commands = WindowActions(self)
        self.dialogs = dialogs or Dialogs()
        self.files = PhotoFiles(self, self.settings, self.dialogs)
        self.mask_steps = MaskSteps(self)
        self.jobs = EditJobs(self, self.bridge, self.settings, self.mask_steps)
        self._found_control = ""
        self._found_timer = QTimer(self, singleShot=True, interval=SLIDER_SETTLE_MS)
        self._found_timer.timeout.connect(self._adjust_found_mask)

        self._lay_out()
        self._build_status_bar()
        self._connect()
        self._restore_settings()
        self.set_document(None)
        if settings_problem:
            self.show_error(settings_problem)

    # -- layout -----------------------------------------------------------------------------

    def _lay_out(self) -> None:
        photo_area = QWidget()
        grid = QGridLayout(photo_area)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.canvas, 0, 0)
        grid.addWidget(self.preview_label, 0, 0, Qt.AlignTop | Qt.AlignRight)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.prompt_bar)
        column.addWidget(photo_area, 1)
        self.setCentralWidget(central)

        self.commands.build_menus(self)
        self.toolbar = self.commands.build_toolbar(self)
        self.candidate_dock = self._dock("Candidates", "candidateDock", self.candidate_panel,
                                         Qt.LeftDockWidgetArea)
        self.mask_dock = self._dock("Mask", "maskDock", self.mask_panel)
        # Tabbed with the mask panel: a third column of panels would not fit a small screen.
        self.variants_dock = self._dock("Variants", "variantsDock", self.variants_panel)
        self.tabifyDockWidget(self.mask_dock, self.variants_dock)
        self.history_dock = self._dock("History", "historyDock", self.history_panel)
        self.resize(1280, 800)

    def _dock(self, title: str, name: str, widget: QWidget,
              area: Qt.DockWidgetArea = Qt.RightDockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self, objectName=name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetClosable)
        self.addDockWidget(area, dock)
        self.commands.panels_menu.addAction(dock.toggleViewAction())
        return dock

    def _build_status_bar(self) -> None:
        self.cursor_label = QLabel(objectName="cursorLabel")
        self.size_label = QLabel(objectName="sizeLabel")
        self.zoom_label = QLabel(objectName="zoomLabel")
        self.notes_label = QLabel(objectName="notesLabel")
        self.device_label = QLabel(objectName="deviceLabel")
        self.device_label.setToolTip("Where the models run, and its memory in use / in all")
        bar = self.statusBar()
        for label in (self.notes_label, self.cursor_label, self.size_label, self.zoom_label,
                      self.device_label):
            label.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(label)

    def _connect(self) -> None:
        a, canvas, panel = self.commands, self.canvas, self.mask_panel
        a.open.triggered.connect(self.files.open_dialog)
        a.save.triggered.connect(self.files.save)
        a.save_as.triggered.connect(self.files.save_as)
        a.quit.triggered.connect(self.close)
        a.undo.triggered.connect(self.undo)
        a.redo.triggered.connect(self.redo)
        a.zoom_in.triggered.connect(canvas.zoom_in)
        a.zoom_out.triggered.connect(canvas.zoom_out)
        a.zoom_fit.triggered.connect(canvas.zoom_fit)
        a.zoom_actual.triggered.connect(canvas.zoom_actual)
        a.toggle_overlay.toggled.connect(self.set_overlay_visible)
        a.brush_add.triggered.connect(lambda: self.set_tool("add"))
        a.brush_erase.triggered.connect(lambda: self.set_tool("erase"))
        a.about.triggered.connect(self._about)
        a.settings.triggered.connect(self.open_settings)
        a.model_manager.triggered.connect(self.open_model_manager)
        a.unload_models.triggered.connect(self.bridge.unload_models)
        self.bridge.modelsUnloaded.connect(self._models_unloaded)
        self.bridge.finished.connect(self._show_device)
        self.modelMissing.connect(
            lambda model_ids: self.dialogs.offer_model_download(self, model_ids, self.bridge))
        for name, action in a.mask_operations.items():
            action.triggered.connect(
                lambda _=False, op=name: self.apply_mask_operation(op, panel.amount_spin.value()))
        compare = self.toolbar.widgetForAction(a.show_original)
        compare.pressed.connect(lambda: self.show_original(True))
        compare.released.connect(lambda: self.show_original(False))

        canvas.zoomChanged.connect(self._show_zoom)
        canvas.cursorMoved.connect(self._show_cursor)
        canvas.brushSizeChanged.connect(self._brush_size_changed)
        canvas.maskEdited.connect(self._mask_painted)
        panel.toolChanged.connect(canvas.set_tool)
        panel.brushSizeChanged.connect(self._brush_size_changed)
        panel.hardnessChanged.connect(lambda hardness: setattr(canvas, "brush_hardness", hardness))
        panel.operationRequested.connect(self.apply_mask_operation)
        panel.overlayToggled.connect(self.set_overlay_visible)
        panel.foundSettingsChanged.connect(self._found_settings_changed)
        self.mask_steps.busyChanged.connect(lambda _busy: self._update_mask_actions())
        self.history_panel.stepChosen.connect(self.go_to_step)
        self.candidate_panel.selectionChanged.connect(self.jobs.choose_candidates)
        self.variants_panel.variantChosen.connect(self.jobs.choose_variant)
        self.variants_panel.previewRequested.connect(
            lambda index: canvas.set_display_override(self.jobs.variant_image(index)))
        self.prompt_bar.variants_spin.valueChanged.connect(
            lambda count: setattr(self.settings, "variants", count))
        self.prompt_bar.mode_combo.currentIndexChanged.connect(
            lambda _index: setattr(self.settings, "find_mode", self.prompt_bar.find_mode))

        self.prompt_bar.findRequested.connect(self.jobs.find)
        self.prompt_bar.replaceRequested.connect(self.jobs.replace)
        self.prompt_bar.cancelRequested.connect(self.jobs.cancel)

    def _restore_settings(self) -> None:
        self._brush_size_changed(self.settings.brush_size)
        self.prompt_bar.variants_spin.setValue(self.settings.variants)
        self.prompt_bar.set_find_mode(self.settings.find_mode)
        self.mask_panel.set_found_settings(self.settings.mask_settings)
        self.mask_panel.set_hardness(self.canvas.brush_hardness)
        geometry, state = self.settings.window_geometry(), self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    # -- the document -----------------------------------------------------------------------

    def set_document(self, document: Document | None) -> None:
        """Show `document` (None: no photo); a job in flight for the old one is dropped."""
        self.jobs.forget()
        self.mask_steps.drop()
        self.document = document
        self._original_rgb = document.rgb.copy() if document is not None else None
        self.canvas.set_document(document)
        self.show_candidates((), ())
        self.show_variants(())
        has_photo = document is not None
        self.commands.set_photo_open(has_photo)
        self.mask_panel.setEnabled(has_photo)
        self._update_mask_actions()
        if document is None:
            for label in (self.size_label, self.notes_label, self.zoom_label, self.cursor_label):
                label.setText("")
        else:
            self.size_label.setText(f"{document.width} \u00d7 {document.height}")
            notes = "; ".join(document.notes)
            self.notes_label.setText(notes)
            self.notes_label.setToolTip(notes)
            self.show_message(f"Opened {self.files.display_name}.")
        self._history_changed()

    def document_edited(self, box: Box | None) -> None:
        """The document's history changed, and its pixels or mask inside `box` (None: none)."""
        if box is not None:
            self.canvas.refresh(box)
        self._history_changed()

    def document_saved(self) -> None:
        self._update_title()
        self.show_message(f"Saved {self.document.saved_path}.")

    def _history_changed(self) -> None:
        document = self.document
        history = document.history if document is not None else None
        self.commands.undo.setEnabled(bool(history and history.can_undo))
        self.commands.redo.setEnabled(bool(history and history.can_redo))
        if history is None:
            self.history_panel.clear_history()
        else:
            self.history_panel.show_history(history.names, history.index)
        self._update_title()

    def _update_title(self) -> None:
        if self.document is None:
            self.setWindowTitle(TITLE)
            return
        dirty = "*" if self.document.is_dirty else ""
        self.setWindowTitle(f"{self.files.display_name}{dirty} \u2014 {TITLE}")

    def undo(self) -> None:
        if self.document is not None and self.document.history.can_undo:
            self._before_history_move()
            self.document_edited(self.document.undo())

    def redo(self) -> None:
        if self.document is not None and self.document.history.can_redo:
            self._before_history_move()
            self.document_edited(self.document.redo())

    def _before_history_move(self) -> None:
        """Undo, redo or a history click: what is being computed for this state is moot."""
        self.mask_steps.drop()
        self.jobs.cancel_stale("a step was undone or redone")

    def go_to_step(self, step: int) -> None:
        """Undo or redo until `step` edits are applied (the history panel's rows)."""
        document = self.document
        if document is None or step == document.history.index:
            return
        self._before_history_move()
        changed: Box | None = None
        while document.history.index > step and document.history.can_undo:
            changed = union(changed, document.undo())
        while document.history.index < step and document.history.can_redo:
            changed = union(changed, document.redo())
        if changed is not None:
            self.document_edited(changed)

    def apply_mask_operation(self, operation: str, px: int) -> None:
        """Grow, Invert ... off the GUI thread (a 24 MP mask takes ~0.5 s); one undo step."""
        document = self.document
        if document is None:
            return
        name, operate = MASK_OPERATIONS[operation]
        self.jobs.cancel_stale("the mask changed")
        mask = document.mask.copy()  # the brush may paint on the document's own while it runs
        self.mask_steps.request(MaskStep(document, name.format(px=px)),
                                lambda: operate(mask, px))

    def _update_mask_actions(self) -> None:
        """Mask operations wait for the one being computed: their buttons are off meanwhile."""
        enabled = self.document is not None and not self.mask_steps.busy
        for action in self.commands.mask_operations.values():
            action.setEnabled(enabled)
        self.mask_panel.set_mask_enabled(enabled)

    def _mask_painted(self, _name: str) -> None:
        """A brush stroke (drawn already): it is newer than any mask still being computed."""
        if self.mask_steps.busy:
            self.mask_steps.drop()
            self.show_message("Painting went first; the mask being computed was dropped.")
        self.jobs.cancel_stale("the mask changed")
        self.set_overlay_visible(True)
        self.document_edited(None)

    def _found_settings_changed(self, control: str) -> None:
        """A found-mask slider moved: remember it, and remake the mask once it rests."""
        self.settings.mask_settings = self.mask_panel.found_settings(self.settings.mask_settings)
        if self._found_timer.isActive() and control != self._found_control:
            self._adjust_found_mask()  # another control: the first one's change is its own step
        self._found_control = control
        self._found_timer.start()

    def _adjust_found_mask(self) -> None:
        self._found_timer.stop()
        if not self.jobs.adjust_found_mask(self._found_control) and self.document is not None:
            self.show_message("Grow and feather apply to the next Find: the found mask was "
                              "edited since, or there is none.")

    # -- view -------------------------------------------------------------------------------

    def set_tool(self, tool: str) -> None:
        self.canvas.set_tool(tool)
        self.mask_panel.set_tool(tool)

    def set_overlay_visible(self, visible: bool) -> None:
        self.canvas.set_overlay_visible(visible)
        self.mask_panel.set_overlay_visible(visible)
        self.commands.toggle_overlay.setChecked(visible)

    def show_original(self, on: bool) -> None:
        """While held, show the photo as it was opened."""
        if self.document is not None:
            self.canvas.set_display_override(self._original_rgb if on else None)

    def _brush_size_changed(self, size: int) -> None:
        self.canvas.set_brush_size(size)
        self.mask_panel.set_brush_size(self.canvas.brush_size)
        self.settings.brush_size = self.canvas.brush_size

    def _show_zoom(self, zoom: float) -> None:
        self.zoom_label.setText(f"{zoom * 100:.0f}%" if self.document is not None else "")

    def _show_cursor(self, x: int, y: int) -> None:
        document = self.document
        inside = document is not None and 0 <= x < document.width and 0 <= y < document.height
        self.cursor_label.setText(f"{x}, {y}" if inside else "")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key_Backslash:
            if not event.isAutoRepeat():
                self.show_original(True)
        else:
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key_Backslash:
            if not event.isAutoRepeat():
                self.show_original(False)
        else:
            super().keyReleaseEvent(event)

    # -- messages and jobs ------------------------------------------------------------------

    def show_message(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    def show_error(self, message: str, detail: str = "") -> None:
        """Say what went wrong without blocking: status bar and a non-modal message box,
        whose "Show Details" holds what a bug report needs."""
        self.statusBar().showMessage(message, 15000)
        self.error_box.setText(message)
        self.error_box.setDetailedText(detail)
        self.error_box.open()

    def show_job_error(self, result: Result) -> None:
        """A failed job's message; for a model the catalogue knows, the offer to download it."""
        specs = [known_spec(model_id) for model_id in result.missing_models]
        if specs and all(spec is not None for spec in specs):
            # The offer explains the rest; the status bar keeps one sentence.
            names = " and ".join(spec.name for spec in specs)
            verb = "is" if len(specs) == 1 else "are"
            self.statusBar().showMessage(f"{names} {verb} not installed; the photo is unchanged.",
                                         15000)
            self.modelMissing.emit(result.missing_models)
        else:
            self.show_error(result.message, result.detail)

    def _show_device(self, result: Result) -> None:
        if result.device_status:
            self.device_label.setText(result.device_status)

    def _models_unloaded(self, device_status: str) -> None:
        if device_status:
            self.device_label.setText(device_status)
        self.show_message("Unloaded the models; they load again when next needed.")

    def show_progress(self, progress: Progress) -> None:
        # Each update repaints the bar at once; a job that reports often must not flood the window.
        now = time.monotonic()
        if now - self._progress_shown_at < PROGRESS_INTERVAL_S and progress.fraction < 1.0:
            return
        self._progress_shown_at = now
        self.prompt_bar.set_progress(progress.fraction)
        if progress.message:
            self.statusBar().showMessage(progress.message)
        if progress.preview is not None:
            self.preview_label.setPixmap(pixmap_of(progress.preview).scaled(
                PREVIEW_SIZE, PREVIEW_SIZE, Qt.KeepAspectRatio, Qt.SmoothTransformation))
            self.preview_label.setVisible(True)

    def job_started(self) -> None:
        self.prompt_bar.set_busy(True)

    def job_ended(self) -> None:
        self.prompt_bar.set_busy(False)
        self.preview_label.setVisible(False)
        self.preview_label.clear()

    def show_candidates(self, candidates: Sequence[MaskCandidate], chosen: Sequence[int]) -> None:
        """The last Find's candidates, best first, the chosen ones marked; none: hide the strip."""
        if candidates and self.document is not None:
            self.candidate_panel.set_candidates(candidates, self.document.rgb, chosen)
        else:
            self.candidate_panel.clear()
        self.candidate_dock.setVisible(bool(candidates))

    def show_variants(self, variants: Sequence[InpaintVariant]) -> None:
        """The last Replace's variants to compare; none: hide the strip."""
        self.canvas.set_display_override(None)
        self.variants_panel.set_variants(variants)
        self.variants_dock.setVisible(bool(variants))
        if variants:
            self.variants_dock.raise_()
        else:
            self.mask_dock.raise_()

    # -- files ------------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.files.open_photo(paths[0])

    def closeEvent(self, event: QCloseEvent) -> None:
        if ((self.jobs.running and not self.dialogs.cancel_job_and_quit(self))
                or not self.files.maybe_keep_changes()):
            event.ignore()
            return
        self.settings.save_window(self.saveGeometry(), self.saveState())
        self.settings.sync()
        self.bridge.shutdown()
        self.mask_steps.shutdown()
        event.accept()

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.settings, self.settings.qsettings, self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.engineSettingsChanged.connect(self.bridge.apply_settings)
        for manager in self.findChildren(ModelManagerDialog):
            dialog.engineSettingsChanged.connect(manager.apply_settings)
        dialog.accepted.connect(
            lambda: self.mask_panel.set_found_settings(self.settings.mask_settings))
        dialog.open()
        return dialog

    def open_model_manager(self) -> ModelManagerDialog:
        manager = ModelManagerDialog(self.bridge, parent=self)
        manager.setAttribute(Qt.WA_DeleteOnClose)
        manager.settingsChanged.connect(self.bridge.apply_settings)
        manager.show()
        return manager

    def _about(self) -> None:
        QMessageBox.about(self, f"About {TITLE}", (
            f"<b>{TITLE} {__version__}</b><p>Find and replace in your own photos: "
            "masks from words, inpainting on your own computer.</p><p>Apache-2.0 licence.</p>"))
