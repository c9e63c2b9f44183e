"""The start-up offer to recover the sessions a crash left behind, all in one dialog.

Each session is a row: its thumbnail, the photo's name, when it was last autosaved and
how many steps it holds, ticked to be recovered. Recover brings back the ticked ones and
throws the others away; Decide Later keeps them all for the next start.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.project import THUMBNAIL_PX, ProjectSummary
from ..core.recovery import Orphan


@dataclass(frozen=True)
class RecoveryOffer:
    orphan: Orphan
    summary: ProjectSummary

    @property
    def label(self) -> str:
        summary = self.summary
        when = summary.saved_at.astimezone().strftime("%Y-%m-%d %H:%M")
        steps = f"{summary.steps} step{'s' if summary.steps != 1 else ''}"
        return f"{summary.name}\n{steps}, autosaved {when}"


@dataclass(frozen=True)
class RecoveryAnswer:
    recover: tuple[Orphan, ...]
    discard: tuple[Orphan, ...]


class RecoveryDialog(QDialog):
    def __init__(self, offers: list[RecoveryOffer], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recoveryDialog")
        self.setWindowTitle("Recover unsaved work")
        self.offers = offers
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(
            "PaintNoise did not close properly. These sessions were not saved; tick the ones "
            "to recover (the others are thrown away)."))
        self.list = QListWidget(objectName="recoveryList")
        self.list.setIconSize(QSize(THUMBNAIL_PX // 2, THUMBNAIL_PX // 2))
        for offer in offers:
            item = QListWidgetItem(QIcon(_pixmap(offer.summary)), offer.label)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked)
            self.list.addItem(item)
        layout.addWidget(self.list)
        buttons = QDialogButtonBox()
        buttons.addButton("Recover", QDialogButtonBox.AcceptRole)
        buttons.addButton("Decide Later", QDialogButtonBox.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def answer(self) -> RecoveryAnswer:
        ticked = [self.list.item(i).checkState() == Qt.Checked for i in range(self.list.count())]
        return RecoveryAnswer(
            tuple(offer.orphan for offer, on in zip(self.offers, ticked) if on),
            tuple(offer.orphan for offer, on in zip(self.offers, ticked) if not on))


def ask_recovery(parent: QWidget | None, offers: list[RecoveryOffer]) -> RecoveryAnswer | None:
    """The user's answer; None: decide later."""
    dialog = RecoveryDialog(offers, parent)
    return dialog.answer() if dialog.exec() == QDialog.Accepted else None


def _pixmap(summary: ProjectSummary) -> QPixmap:
    thumbnail = summary.thumbnail
    height, width = thumbnail.shape[:2]
    image = QImage(thumbnail.data, width, height, 3 * width, QImage.Format_RGB888)
    return QPixmap.fromImage(image.copy())
