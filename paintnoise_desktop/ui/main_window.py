"""The main window: canvas, prompt bar, mask and history panels, menus and status bar.

The window lays the widgets out and connects them to the editing session (session.py),
which owns the photo and what is shown of it, and to the controllers that change it:
Find/Replace jobs (edit_jobs.py), mask steps (mask_steps.py), opening and saving
(photo_files.py). Nothing here decides anything about the photo.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QColor, QDragEnterEvent, QDropEvent, QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QGridLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from ..core.box import Box
from ..core.document import Document
from ..core.errors import PaintNoiseError
from ..core.jobs import Progress
from ..core.masks import bounding_box
from ..engine.settings import EngineSettings, load_settings
from .app_settings import AppSettings
from .autosave import Autosave
from .candidate_panel import CandidatePanel
from .canvas import CANVAS_KEYS, Canvas
from .dialogs import Dialogs
from .edit_jobs import EditJobs
from .engine_bridge import EngineBridge
from .generation_panel import GenerationPanel
from .history_panel import HistoryPanel
from .mask_files import MaskFiles
from .mask_panel import MaskPanel
from .mask_steps import MaskSteps
from .model_manager import ModelManagerDialog
from .photo_files import PhotoFiles
from .project_files import ProjectFiles
from .prompt_bar import PROMPT_KEYS, PromptBar
from .queue_panel import QueueLabel
from .select_tool import SELECT_KEYS, SelectTool
from .session import EditingSession
from .settings_dialog import SettingsDialog
from .shortcuts_dialog import ShortcutsDialog
from .variants_panel import VariantsPanel
from .window_actions import WindowActions

APP_NAME = "PaintNoise"
TITLE = f"{APP_NAME} Desktop"  # the window's title and the About box name the app alike
# The panels' arrangement; a layout saved under another number is not restored (this one
# tabs the candidates with the history, where an older one opened them in a column of their own).
LAYOUT_VERSION = 2
WINDOW_KEYS = (("Hold \\", "See the photo as it was opened"),)  # see keyPressEvent


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
        self.session = EditingSession(self)

        self.canvas = Canvas()
        self.prompt_bar = PromptBar()
        self.mask_panel = MaskPanel()
        self.candidate_panel = CandidatePanel()
        self.variants_panel = VariantsPanel()
        self.history_panel = HistoryPanel()
        self.generation_panel = GenerationPanel(self.settings, self.bridge.settings)
        self.error_box = QMessageBox(QMessageBox.Warning, TITLE, "", QMessageBox.Ok, self)
        self.error_box.setObjectName("errorBox")
        self.error_box.setWindowModality(Qt.NonModal)
        self.commands = WindowActions(self)
        self.dialogs = dialogs or Dialogs()
        self.files = PhotoFiles(self.session, self.settings, self.dialogs, self,
                                self.commands.recent_menu)
        self.autosave = Autosave(self.session, self)
        self.projects = ProjectFiles(self.session, self.files, self.autosave, self.settings,
                                     self.dialogs, self)
        self.files.save_project = lambda: self.projects.save(wait=True)
        self.mask_steps = MaskSteps(self.session, self)
        self.jobs = EditJobs(self.session, self.bridge, self.settings, self.mask_steps, self,
                             offer_remover=lambda: self.dialogs.offer_remover(self, self.bridge))
        self.queue_label = QueueLabel(self.jobs.queue)
        self.select_tool = SelectTool(self.canvas, self.session, self.jobs, self)
        self.mask_files = MaskFiles(self.session, self.files, self.dialogs, self)

        self._lay_out()
        self._build_status_bar()
        self._connect()
        self._restore_settings()
        self.session.open(None)
        if settings_problem:
            self.show_error(settings_problem)

    # -- layout -----------------------------------------------------------------------------

    def _lay_out(self) -> None:
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.prompt_bar)
        # The variants strip lies over the canvas's bottom edge: appearing after a Replace it
        # neither shrinks the canvas (no re-zoom) nor covers the mask panel (the brush).
        photo_area = QWidget()
        grid = QGridLayout(photo_area)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.canvas, 0, 0)
        grid.addWidget(self.variants_panel, 0, 0, Qt.AlignBottom | Qt.AlignHCenter)
        self.variants_panel.setAutoFillBackground(True)
        self.variants_panel.setVisible(False)
        column.addWidget(photo_area, 1)
        self.setCentralWidget(central)

        self.commands.build_menus(self)
        self.toolbar = self.commands.build_toolbar(self)
        # One column of panels (a second would not fit a small screen), each there from the
        # start or tabbed with one that is, so none appearing after a Find narrows the photo:
        # the candidates share the history's place.
        self.mask_dock = self._dock("Mask", "maskDock", self.mask_panel)
        self.generation_dock = self._dock("Generation", "generationDock", self.generation_panel)
        self.candidate_dock = self._dock("Candidates", "candidateDock", self.candidate_panel)
        self.history_dock = self._dock("History", "historyDock", self.history_panel)
        self.tabifyDockWidget(self.candidate_dock, self.history_dock)  # the history on top
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
        for label in (self.queue_label, self.notes_label, self.cursor_label, self.size_label, self.zoom_label,
                      self.device_label):
            label.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(label)

    def _connect(self) -> None:
        a, canvas, panel, session = self.commands, self.canvas, self.mask_panel, self.session
        jobs, files, mask_steps = self.jobs, self.files, self.mask_steps
        a.open.triggered.connect(files.open_dialog)
        a.save.triggered.connect(lambda: files.save())
        a.save_as.triggered.connect(lambda: files.save_as())
        a.open_project.triggered.connect(self.projects.open_dialog)
        a.save_project.triggered.connect(lambda: self.projects.save())
        a.quit.triggered.connect(self.close)
        a.undo.triggered.connect(session.undo)
        a.redo.triggered.connect(session.redo)
        a.zoom_in.triggered.connect(canvas.zoom_in)
        a.zoom_out.triggered.connect(canvas.zoom_out)
        a.zoom_fit.triggered.connect(canvas.zoom_fit)
        a.zoom_actual.triggered.connect(canvas.zoom_actual)
        a.toggle_overlay.toggled.connect(self.set_overlay_visible)
        a.brush_add.triggered.connect(lambda: self.set_tool("add"))
        a.brush_erase.triggered.connect(lambda: self.set_tool("erase"))
        a.select_tool.triggered.connect(lambda: self.set_tool("select"))
        a.zoom_to_mask.triggered.connect(self.zoom_to_mask)
        a.save_mask.triggered.connect(self.mask_files.save_dialog)
        a.load_mask.triggered.connect(self.mask_files.load_dialog)
        for name in ("overlay_colour", "overlay_opacity", "overlay_outline"):
            getattr(self.settings, f"{name}_changed").connect(self._show_overlay_style)
        self.candidate_panel.previewRequested.connect(session.preview_candidate)
        self.prompt_bar.findAddRequested.connect(lambda text: jobs.find(text, add=True))
        a.cancel_all.triggered.connect(lambda: jobs.cancel(everything=True))
        a.about.triggered.connect(self._about)
        a.shortcuts.triggered.connect(self.open_shortcuts)
        a.settings.triggered.connect(self.open_settings)
        a.model_manager.triggered.connect(self.open_model_manager)
        a.unload_models.triggered.connect(self.bridge.unload_models)
        self.bridge.modelsUnloaded.connect(self._models_unloaded)
        self.bridge.finished.connect(self._show_device)
        self.modelMissing.connect(
            lambda model_ids: self.dialogs.offer_model_download(self, model_ids, self.bridge))
        for name, action in a.mask_operations.items():
            action.triggered.connect(
                lambda _=False, op=name: mask_steps.operate(op, panel.amount_spin.value()))
        compare = self.toolbar.widgetForAction(a.show_original)
        compare.pressed.connect(lambda: session.show_original(True))
        compare.released.connect(lambda: session.show_original(False))

        session.documentChanged.connect(self._show_document)
        session.historyChanged.connect(self._show_history)
        session.candidatesChanged.connect(self._show_candidates)
        session.variantsChanged.connect(self._show_variants)
        session.displayChanged.connect(self._show_display)
        session.overlayWanted.connect(self.set_overlay_visible)
        session.message.connect(self.show_message)
        session.error.connect(self.show_error)
        session.modelsMissing.connect(self.modelMissing)
        files.busyChanged.connect(self._show_files_busy)

        canvas.zoomChanged.connect(self._show_zoom)
        canvas.cursorMoved.connect(self._show_cursor)
        canvas.brushSizeChanged.connect(self._brush_size_changed)
        canvas.maskEdited.connect(lambda _name: session.stroke_recorded())
        canvas.strokeBegun.connect(lambda: session.stroke_began(canvas.end_stroke))
        canvas.strokeEnded.connect(session.stroke_ended)
        for stroke_changed in (canvas.strokeBegun, canvas.strokeEnded):
            stroke_changed.connect(self._show_undo_redo)
        panel.toolChanged.connect(canvas.set_tool)
        panel.brushSizeChanged.connect(self._brush_size_changed)
        panel.hardnessChanged.connect(lambda hardness: setattr(canvas, "brush_hardness", hardness))
        panel.operationRequested.connect(mask_steps.operate)
        panel.overlayToggled.connect(self.set_overlay_visible)
        panel.foundSettingsChanged.connect(lambda control: jobs.found_settings_changed(
            control, panel.found_settings(self.settings.mask_settings)))
        mask_steps.busyChanged.connect(lambda _busy: self._update_mask_actions())
        self.history_panel.stepChosen.connect(session.go_to_step)
        self.generation_panel.toggle.toggled.connect(self._make_room_for_generation)
        self.candidate_panel.selectionChanged.connect(jobs.choose_candidates)
        self.variants_panel.variantChosen.connect(jobs.choose_variant)
        self.variants_panel.previewRequested.connect(session.preview_variant)
        self.prompt_bar.bind_settings(self.settings)
        self.prompt_bar.set_engine_settings(self.bridge.settings)
        # Once a job is asked for, however it goes on, keys (B, E, [, ], M, Ctrl+Z) act on
        # the photo again.
        self.prompt_bar.hand_focus_to(canvas)
        self.prompt_bar.findRequested.connect(jobs.find)
        self.prompt_bar.replaceRequested.connect(jobs.replace)
        self.prompt_bar.cancelRequested.connect(lambda: jobs.cancel(
            everything=bool(QApplication.keyboardModifiers() & Qt.ShiftModifier)))
        jobs.progress.connect(self.show_progress)
        jobs.queue.busyChanged.connect(self._show_busy)

    def _restore_settings(self) -> None:
        self.canvas.remember_brush_in(self.settings)
        self.mask_panel.set_brush_size(self.canvas.brush_size)
        self.mask_panel.set_found_settings(self.settings.mask_settings)
        self.mask_panel.set_hardness(self.canvas.brush_hardness)
        self._show_overlay_style()
        geometry, state = self.settings.window_geometry(), self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state, LAYOUT_VERSION)

    # -- views of the session -----------------------------------------------------------------

    @property
    def document(self) -> Document | None:
        return self.session.document

    def _show_document(self, document: Document | None) -> None:
        self.canvas.set_document(document)
        self.canvas.set_original(self.session.original, matches_document=True)
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

    def _show_undo_redo(self) -> None:
        """Undo is there while a stroke is held too: it ends the stroke, then undoes it."""
        history = self.document.history if self.document is not None else None
        self.commands.undo.setEnabled(self.session.stroking or bool(history and history.can_undo))
        self.commands.redo.setEnabled(bool(history and history.can_redo))

    def _show_history(self, box: Box | None) -> None:
        if box is not None:
            self.canvas.refresh(box)
        document = self.document
        history = document.history if document is not None else None
        self._show_undo_redo()
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

    def _show_candidates(self) -> None:
        """The last Find's candidates, best first, the chosen ones marked, on top of the
        history's tab; none: the history on top."""
        found, document = self.session.found, self.document
        if found is not None and found.candidates and document is not None:
            self.candidate_panel.set_candidates(found.candidates, document.rgb, found.chosen)
            self.candidate_dock.show()  # in its tab, unless the user moved it
            self.candidate_dock.raise_()
        else:
            self.candidate_panel.clear()
            self.history_dock.raise_()

    def _show_variants(self) -> None:
        """The last Replace's variants to compare; none: hide the strip."""
        replaced = self.session.replaced
        variants = replaced.variants if replaced is not None else ()
        self.variants_panel.set_variants(variants, replaced.applied if replaced else 0)
        self.variants_panel.setVisible(bool(variants))
        if variants:
            self.variants_panel.raise_()

    def _show_display(self) -> None:
        session, canvas = self.session, self.canvas
        canvas.set_showing_original(session.showing_original)
        index, replaced = session.previewed_variant, session.replaced
        self.variants_panel.set_previewed(index)
        if replaced is not None and 0 <= index < len(replaced.variants):
            variant = replaced.variants[index]
            canvas.set_display_override(variant.image, variant.box)
        else:
            canvas.set_display_override(None)
        preview = session.live_preview
        canvas.set_live_preview(*((preview.image, preview.box) if preview else (None, None)))
        canvas.set_mask_preview(session.display_mask)

    def _update_mask_actions(self) -> None:
        """Mask operations wait for the one being computed: their buttons are off meanwhile."""
        enabled = self.document is not None and not self.mask_steps.busy
        for action in self.commands.mask_operations.values():
            action.setEnabled(enabled)
        self.mask_panel.set_mask_enabled(enabled)

    def _show_busy(self, busy: bool) -> None:
        self.prompt_bar.set_busy(busy)

    def _show_files_busy(self, busy: bool) -> None:
        self.prompt_bar.progress_bar.setRange(0, 0 if busy else 1000)  # a busy bar, no fraction
        self.prompt_bar.progress_bar.setVisible(busy or self.jobs.running)

    # -- view -------------------------------------------------------------------------------

    def zoom_to_mask(self) -> None:
        """Show the masked part as large as fits (a word when there is no mask)."""
        document = self.document
        box = bounding_box(document.mask) if document is not None else None
        if box is None:
            self.show_message("There is no mask to zoom to.")
        else:
            self.canvas.zoom_to(box)

    def _show_overlay_style(self, _value: object = None) -> None:
        settings = self.settings
        self.canvas.set_overlay_style(QColor(settings.overlay_colour), settings.overlay_opacity,
                                      settings.overlay_outline)

    def set_tool(self, tool: str) -> None:
        self.canvas.set_tool(tool)
        self.mask_panel.set_tool(tool)

    def set_overlay_visible(self, visible: bool) -> None:
        self.canvas.set_overlay_visible(visible)
        self.mask_panel.set_overlay_visible(visible)
        self.commands.toggle_overlay.setChecked(visible)

    def _make_room_for_generation(self, opened: bool) -> None:
        """An opened generation panel takes the height it asks for from the panels beside
        it, as far as they can give it (the column's height stays)."""
        if opened:
            self.resizeDocks([self.generation_dock], [self.generation_dock.sizeHint().height()],
                             Qt.Vertical)

    def _brush_size_changed(self, size: int) -> None:
        self.canvas.set_brush_size(size)  # the canvas clamps it and remembers it
        self.mask_panel.set_brush_size(self.canvas.brush_size)

    def _show_zoom(self, zoom: float) -> None:
        self.zoom_label.setText(f"{zoom * 100:.0f}%" if self.document is not None else "")

    def _show_cursor(self, x: int, y: int) -> None:
        document = self.document
        inside = document is not None and 0 <= x < document.width and 0 <= y < document.height
        self.cursor_label.setText(f"{x}, {y}" if inside else "")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key_Backslash:
            if not event.isAutoRepeat():
                self.session.show_original(True)
        else:
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key_Backslash:
            if not event.isAutoRepeat():
                self.session.show_original(False)
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

    def _show_device(self, result) -> None:
        if result.device_status:
            self.device_label.setText(result.device_status)

    def _models_unloaded(self, device_status: str) -> None:
        if device_status:
            self.device_label.setText(device_status)
        self.show_message("Unloaded the models; they load again when next needed.")

    def show_progress(self, progress: Progress) -> None:
        self.prompt_bar.set_progress(progress.fraction)
        if progress.message:
            self.statusBar().showMessage(progress.message)

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
        self.settings.save_window(self.saveGeometry(), self.saveState(LAYOUT_VERSION))
        self.settings.sync()
        self.bridge.shutdown()
        self.mask_steps.shutdown()
        self.files.shutdown()
        self.autosave.close()
        event.accept()

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.settings, self.settings.qsettings, self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.engineSettingsChanged.connect(self.bridge.apply_settings)
        dialog.engineSettingsChanged.connect(self.generation_panel.set_engine_settings)
        dialog.engineSettingsChanged.connect(self.prompt_bar.set_engine_settings)
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
        manager.settingsChanged.connect(self.generation_panel.set_engine_settings)
        manager.settingsChanged.connect(self.prompt_bar.set_engine_settings)
        manager.show()
        return manager

    def open_shortcuts(self) -> ShortcutsDialog:
        sheet = ShortcutsDialog(self.actions(),
                                CANVAS_KEYS + SELECT_KEYS + PROMPT_KEYS + WINDOW_KEYS, self)
        sheet.setAttribute(Qt.WA_DeleteOnClose)
        sheet.open()
        return sheet

    def _about(self) -> None:
        QMessageBox.about(self, f"About {TITLE}", (
            f"<b>{TITLE} {__version__}</b><p>Find and replace in your own photos: "
            "masks from words, inpainting on your own computer.</p><p>Apache-2.0 licence.</p>"))
