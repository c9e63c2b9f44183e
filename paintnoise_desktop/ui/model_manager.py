"""The model manager: what is installed, downloads with progress, adding files, verifying.

Downloads run as `DownloadJob`s through the bridge, one model after another; this dialog
only shows their progress. Nothing is downloaded before the user has seen the sizes and
licences and said yes (`confirm_download`, which the offer of missing models asks too).
Verifying reads files (checksums of gigabytes), so it runs on a short-lived Python thread
and reports back by signal; a model it finds broken shows as "broken: …" until it is
verified again, downloaded or re-added.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import PaintNoiseError
from ..core.jobs import DownloadJob, Progress, Result, Status
from ..engine.models.catalog import ModelSpec, load_catalog
from ..engine.models.download import HUB_LOGIN, offline_reason, offline_remedy
from ..engine.models.model_check import Verdict, validate_model_path, verify_model
from ..engine.models.needs import purpose
from ..engine.models.registry import expected_path, install_status, models_dir
from ..engine.settings import EngineSettings, load_settings, save_settings, with_model_path
from .engine_bridge import EngineBridge

COLUMNS = ("Model", "Role", "Status", "Size", "Licence")
STATUS_COLUMN = 2


def describe_model(spec: ModelSpec) -> str:
    """One line for a question about downloading: name, what for, size, licence, access."""
    line = (f"\u2022 {spec.name}: {purpose(spec.id)}. About {spec.size_bytes / 1e9:.1f} GB; "
            f"licence: {spec.licence}")
    if spec.access == "gated":
        line += (f". Its hub page lets you download it only once you have accepted the licence "
                 f"at {spec.licence_url}; then {HUB_LOGIN}, so the download is sent as you")
    elif spec.licence_url:
        line += f" ({spec.licence_url})"
    return line + "."


def confirm_download(parent: QWidget | None, specs: list[ModelSpec], settings: EngineSettings,
                     intro: str, later: str = "") -> bool:
    """Ask once for all of `specs`, showing what each is, its size and licence; True for yes.

    `later` is said with the question: how to get the models when the answer is no.
    """
    them = "it" if len(specs) == 1 else "them"
    total = sum(spec.size_bytes for spec in specs) / 1e9
    question = QMessageBox(
        QMessageBox.Question, "Download models?" if len(specs) > 1 else "Download a model?",
        f"{intro}\n\n" + "\n".join(describe_model(spec) for spec in specs)
        + f"\n\nDownload {them} now (about {total:.1f} GB in all)?",
        QMessageBox.Yes | QMessageBox.No, parent)
    question.setObjectName("modelDownloadQuestion")
    question.button(QMessageBox.Yes).setText("Download")
    question.button(QMessageBox.No).setText("Not now")
    question.setDefaultButton(QMessageBox.Yes)
    if later:
        question.setInformativeText(later)
    question.setDetailedText("\n".join(
        f"{spec.id}: from {spec.source} into {expected_path(spec.id, settings)}"
        for spec in specs))
    return question.exec() == QMessageBox.Yes


class ModelManagerDialog(QDialog):
    settingsChanged = Signal(object)  # EngineSettings, after a model was added by path
    _verified = Signal(object)  # Verdict, from the verifying thread

    def __init__(self, bridge: EngineBridge, settings: EngineSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelManager")
        self.setWindowTitle("Models")
        self.bridge = bridge
        self.settings = settings or bridge.settings
        self.specs: list[ModelSpec] = list(load_catalog().values())
        self._download: tuple[int, str] | None = None  # (job id, model id) of the running one
        self._queued: list[str] = []  # the models still to download after it, in order
        self._outcomes: list[str] = []  # what each download of this batch came to
        self._broken: dict[str, str] = {}  # model id -> what the last verify found wrong

        self.table = QTableWidget(len(self.specs), len(COLUMNS), objectName="modelTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.progress_bar = QProgressBar(objectName="downloadProgress", maximum=1000, visible=False)
        self.status_label = QLabel(objectName="modelStatusLabel", wordWrap=True)
        self.download_button = QPushButton("Download", objectName="downloadButton")
        self.cancel_button = QPushButton("Cancel download", objectName="cancelDownloadButton",
                                         enabled=False)
        self.add_file_button = QPushButton("Add from file…", objectName="addFileButton")
        self.add_folder_button = QPushButton("Add from folder…", objectName="addFolderButton")
        self.verify_button = QPushButton("Verify", objectName="verifyButton")
        self.open_folder_button = QPushButton("Open models folder", objectName="openFolderButton")
        self._lay_out()
        self._fill_table()
        self.table.selectRow(0)
        self._show_offline()

        self.download_button.clicked.connect(lambda: self.ask_to_download(self.selected_model()))
        self.cancel_button.clicked.connect(self.cancel_download)
        self.add_file_button.clicked.connect(lambda: self._ask_for_path(folder=False))
        self.add_folder_button.clicked.connect(lambda: self._ask_for_path(folder=True))
        self.verify_button.clicked.connect(lambda: self.verify(self.selected_model()))
        self.open_folder_button.clicked.connect(self.open_models_folder)
        self.bridge.progress.connect(self._on_progress)
        self.bridge.finished.connect(self._on_finished)
        self._verified.connect(self._on_verified)

    def _lay_out(self) -> None:
        buttons = QHBoxLayout()
        for button in (self.download_button, self.cancel_button, self.add_file_button,
                       self.add_folder_button, self.verify_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.open_folder_button)
        column = QVBoxLayout(self)
        column.addWidget(self.table, 1)
        column.addWidget(self.progress_bar)
        column.addWidget(self.status_label)
        column.addLayout(buttons)
        self.resize(1000, 420)

    def _fill_table(self) -> None:
        for row, spec in enumerate(self.specs):
            cells = (f"{spec.name} ({spec.id})", spec.role, self._status_text(spec.id),
                     f"{spec.size_bytes / 1e9:.2f} GB", spec.licence)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.UserRole, spec.id)
                self.table.setItem(row, column, item)

    def refresh(self) -> None:
        for row, spec in enumerate(self.specs):
            item = self.table.item(row, STATUS_COLUMN)
            item.setText(self._status_text(spec.id))
            item.setToolTip(self._broken.get(spec.id, ""))

    def apply_settings(self, settings: EngineSettings) -> None:
        """Show the models and offline state under settings changed elsewhere (the Settings dialog)."""
        self.settings = settings
        self.refresh()
        self._show_offline()

    def _status_text(self, model_id: str) -> str:
        status = install_status(model_id, self.settings)
        if model_id in self._broken:
            return f"broken: {self._broken[model_id]}"
        return status

    def _show_offline(self) -> None:
        """Downloads are off, with the reason in view, while offline mode is on."""
        reason = offline_reason(self.settings)
        self.download_button.setEnabled(reason is None and self._download is None)
        if reason is None:
            if self.download_button.toolTip() == self.status_label.text():
                self.status_label.clear()  # the offline note no longer holds
            self.download_button.setToolTip("")
            return
        why = (f"Offline mode is on ({reason}), so downloads are off. To download, "
               f"{offline_remedy(self.settings)}; or add files you already have.")
        self.download_button.setToolTip(why)
        self.status_label.setText(why)

    def status_of(self, model_id: str) -> str:
        return self.table.item(self._row_of(model_id), STATUS_COLUMN).text()

    def selected_model(self) -> str:
        row = max(self.table.currentRow(), 0)
        return self.table.item(row, 0).data(Qt.UserRole)

    def select_model(self, model_id: str) -> None:
        self.table.selectRow(self._row_of(model_id))

    def _spec(self, model_id: str) -> ModelSpec:
        return self.specs[self._row_of(model_id)]

    def _row_of(self, model_id: str) -> int:
        return next(row for row, spec in enumerate(self.specs) if spec.id == model_id)

    # -- downloads --------------------------------------------------------------------------

    def ask_to_download(self, model_id: str) -> bool:
        """Show the model's size and licence and download it if the user says yes."""
        spec = self._spec(model_id)
        status = install_status(model_id, self.settings)
        if status not in ("not installed", "download not finished"):
            self.status_label.setText(f"{spec.name} is {status} already.")
            return False
        if offline_reason(self.settings) is not None or not confirm_download(
                self, [spec], self.settings, f"{spec.name}: {status}."):
            return False
        return self.start_downloads((model_id,))

    def start_downloads(self, model_ids: tuple[str, ...]) -> bool:
        """Download these models one after another (the user has said yes), after any download
        already running; False when offline mode is on."""
        if offline_reason(self.settings) is not None:
            self._show_offline()
            return False
        running = [self._download[1]] if self._download is not None else []
        new = [model_id for model_id in dict.fromkeys(model_ids)
               if model_id not in running + self._queued]
        if running:
            self._queued.extend(new)
            if new:
                self.status_label.setText(f"{', '.join(new)} will download after {running[0]}.")
        elif new:
            self._queued, self._outcomes = new, []
            self._start_next()
        return True

    def _start_next(self) -> None:
        model_id = self._queued.pop(0)
        self.select_model(model_id)
        job_id = self.bridge.submit(lambda job_id: DownloadJob(job_id, model_id))
        self._download = (job_id, model_id)
        self.progress_bar.setValue(0)
        self.progress_bar.setVisible(True)
        self.cancel_button.setEnabled(True)
        self.download_button.setEnabled(False)
        self.status_label.setText(f"Starting the download of {self._label(model_id)}…")

    def _label(self, model_id: str) -> str:
        """The model, with its place in the batch when there are several ("2 of 3")."""
        total = len(self._outcomes) + 1 + len(self._queued)
        return model_id if total == 1 else f"{model_id} ({len(self._outcomes) + 1} of {total})"

    def cancel_download(self) -> None:
        """Cancel the running download and the ones waiting after it."""
        if self._download is not None:
            self._queued.clear()
            self.bridge.cancel(self._download[0])

    def _on_progress(self, progress: Progress) -> None:
        if self._download is None or progress.job_id != self._download[0]:
            return
        self.progress_bar.setValue(round(progress.fraction * 1000))
        self.status_label.setText(f"{self._label(self._download[1])}: {progress.message}")

    def _on_finished(self, result: Result) -> None:
        if self._download is None or result.job_id != self._download[0]:
            return
        model_id = self._download[1]
        self._download = None
        self._broken.pop(model_id, None)  # its files changed: the last verdict no longer holds
        if result.status is Status.CANCELLED:
            message = ("Download cancelled; starting it again resumes where it stopped."
                       if install_status(model_id, self.settings) == "download not finished"
                       else "Download cancelled; nothing was downloaded.")
        else:
            message = result.message
        self._outcomes.append(f"{model_id}: {message}")
        self.refresh()
        if self._queued:
            self._start_next()
            return
        self.progress_bar.setVisible(False)
        self.cancel_button.setEnabled(False)
        self._show_offline()
        self.status_label.setText(" ".join(self._outcomes))

    # -- adding, verifying, the folder ------------------------------------------------------

    def _ask_for_path(self, folder: bool) -> None:
        model_id = self.selected_model()
        title = f"Choose the files of {model_id}"
        if folder:
            path = QFileDialog.getExistingDirectory(self, title)
        else:
            path, _ = QFileDialog.getOpenFileName(
                self, title, "", "Model weights (*.safetensors *.pth);;All files (*)")
        if path:
            self.add_path(model_id, Path(path))

    def add_path(self, model_id: str, path: Path) -> bool:
        """Use files the user already has for `model_id`, without copying them."""
        spec = self._spec(model_id)
        try:
            checked = validate_model_path(spec, path)
            self.settings = load_settings()  # the command line may have changed it meanwhile
            self.settings = with_model_path(self.settings, model_id, checked)
            save_settings(self.settings)
        except PaintNoiseError as error:
            self.status_label.setText(str(error))
            return False
        self.bridge.apply_settings(self.settings)
        self.settingsChanged.emit(self.settings)
        self._broken.pop(model_id, None)
        self.status_label.setText(f"{spec.name} now uses {checked}.")
        self.refresh()
        return True

    def verify(self, model_id: str) -> None:
        self.verify_button.setEnabled(False)
        self.status_label.setText(f"Checking {model_id}…")
        settings = self.settings
        threading.Thread(target=lambda: self._verified.emit(verify_model(model_id, settings)),
                         name="verify-model", daemon=True).start()

    def _on_verified(self, verdict: Verdict) -> None:
        self.verify_button.setEnabled(True)
        self.status_label.setText(f"{verdict.model_id}: {verdict.summary}")
        if verdict.location is not None and not verdict.ok:
            self._broken[verdict.model_id] = verdict.summary
        else:
            self._broken.pop(verdict.model_id, None)
        self.refresh()

    def open_models_folder(self) -> None:
        folder = models_dir(self.settings)
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
