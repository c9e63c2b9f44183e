"""The questions the window asks the user in modal dialogs, in one replaceable place.

Tests hand the window a `Dialogs` whose answers are scripted, so open, save and
"unsaved changes" run through the real window code without a modal loop.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from ..core.imagefile import AVIF, OPEN_FILTER

if TYPE_CHECKING:
    from .engine_bridge import EngineBridge
    from .recovery_dialog import RecoveryAnswer, RecoveryOffer

PROJECT_FILTER = "PaintNoise projects (*.paintnoise)"
MASK_FILTER = "PNG mask, white = repaint (*.png);;All files (*)"
SAVE_FILTER = ("JPEG (*.jpg *.jpeg);;PNG (*.png);;WebP (*.webp);;TIFF (*.tif *.tiff);;"
               f"{'AVIF (*.avif);;' if AVIF else ''}All files (*)")


class UnsavedChoice(Enum):
    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


class ChangedOnDiskChoice(Enum):
    OVERWRITE = "overwrite"
    SAVE_AS = "save as"
    CANCEL = "cancel"


class Dialogs:
    def open_path(self, parent: QWidget, directory: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(parent, "Open photo", directory,
                                              f"{OPEN_FILTER};;{PROJECT_FILTER}")
        return path or None

    def open_project_path(self, parent: QWidget, directory: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(parent, "Open project", directory, PROJECT_FILTER)
        return path or None

    def save_project_path(self, parent: QWidget, suggested: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(parent, "Save project as", suggested,
                                              PROJECT_FILTER)
        return path or None

    def open_mask_path(self, parent: QWidget, directory: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(parent, "Load mask", directory, MASK_FILTER)
        return path or None

    def save_mask_path(self, parent: QWidget, suggested: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(parent, "Save mask as", suggested, MASK_FILTER)
        return path or None

    def save_path(self, parent: QWidget, suggested: str) -> str | None:
        """Where to save; the file dialog itself confirms writing over an existing file."""
        path, _ = QFileDialog.getSaveFileName(parent, "Save photo as", suggested, SAVE_FILTER)
        return path or None

    def unsaved_changes(self, parent: QWidget, name: str) -> UnsavedChoice:
        answer = QMessageBox.question(
            parent, "Unsaved changes",
            f"{name} has changes that are not saved. Save them first?",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
        if answer == QMessageBox.Save:
            return UnsavedChoice.SAVE
        if answer == QMessageBox.Discard:
            return UnsavedChoice.DISCARD
        return UnsavedChoice.CANCEL

    def changed_on_disk(self, parent: QWidget, name: str) -> ChangedOnDiskChoice:
        """Asked when Save would write over a file another program changed since."""
        box = QMessageBox(QMessageBox.Warning, "File changed on disk",
                          f"{name} was changed by another program since PaintNoise opened or "
                          "saved it. Write over it with this photo?", parent=parent)
        overwrite = box.addButton("Overwrite", QMessageBox.DestructiveRole)
        save_as = box.addButton("Save As\u2026", QMessageBox.AcceptRole)
        box.addButton(QMessageBox.Cancel)
        box.setDefaultButton(save_as)
        box.exec()
        if box.clickedButton() is overwrite:
            return ChangedOnDiskChoice.OVERWRITE
        if box.clickedButton() is save_as:
            return ChangedOnDiskChoice.SAVE_AS
        return ChangedOnDiskChoice.CANCEL

    def cancel_job_and_quit(self, parent: QWidget) -> bool:
        """Asked on quitting while a job runs: True to cancel it and quit."""
        answer = QMessageBox.question(
            parent, "A job is running", "A job is running. Cancel it and quit?",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes

    def offer_model_download(self, parent: QWidget, model_ids: tuple[str, ...],
                             bridge: EngineBridge) -> None:
        """Ask once whether to download all the missing models; on yes the model manager
        downloads them, one after another."""
        from .model_offer import offer_download

        offer_download(parent, model_ids, bridge)

    def offer_remover(self, parent: QWidget, bridge: EngineBridge) -> bool:
        """Removing with no learned remover installed: offer LaMa; True to remove now with
        what is installed."""
        from .model_offer import offer_remover

        return offer_remover(parent, bridge)

    def offer_recovery(self, parent: QWidget, offers: list[RecoveryOffer]
                       ) -> RecoveryAnswer | None:
        """Which sessions a crash left to recover and which to throw away; None: later."""
        from .recovery_dialog import ask_recovery

        return ask_recovery(parent, offers)
