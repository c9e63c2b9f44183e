"""The strip of Find's candidates: a thumbnail of each (its mask tinted) and its score.

Click picks one candidate, Ctrl-click adds or removes one; every change the user
makes is announced as the sorted list of chosen indices (`selectionChanged`). Pointing
at a candidate asks to show its mask on the photo (`previewRequested(index)`, -1 when the
pointer leaves the strip or a choice is made), as the variants strip does.
Setting candidates from code announces nothing. The strip is laid out before the first
Find (a line says what will appear in it), so its arrival never narrows the photo.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.jobs import MaskCandidate
from .thumbnails import THUMBNAIL, pixmap_of, thumbnail_strip

TINT = np.array([255, 40, 90], np.float32)  # the canvas's mask colour family
TINT_ALPHA = 0.45
MARGIN = 0.15  # context around the object, as a share of its longer side
EMPTY_HINT = "A Find's candidates show here."
CHOOSE_HINT = "Click one to use it; Ctrl+click adds or removes one."


def thumbnail(photo: np.ndarray, candidate: MaskCandidate, size: int = THUMBNAIL) -> np.ndarray:
    """The photo around the candidate's box, mask tinted, at most `size` px (nearest pixel)."""
    height, width = photo.shape[:2]
    x0, y0, x1, y1 = candidate.box
    pad = round(MARGIN * max(x1 - x0, y1 - y0))
    x0, y0, x1, y1 = max(0, x0 - pad), max(0, y0 - pad), min(width, x1 + pad), min(height, y1 + pad)
    scale = size / max(x1 - x0, y1 - y0, 1)
    tw, th = max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale))
    xs = np.minimum(x0 + ((np.arange(tw) + 0.5) / scale).astype(int), width - 1)
    ys = np.minimum(y0 + ((np.arange(th) + 0.5) / scale).astype(int), height - 1)
    mask_h, mask_w = candidate.mask.shape
    inside = candidate.mask[(ys * mask_h // height)[:, None], (xs * mask_w // width)[None, :]] > 127
    pixels = photo[ys[:, None], xs[None, :], :3].astype(np.float32)
    pixels[inside] = (1 - TINT_ALPHA) * pixels[inside] + TINT_ALPHA * TINT
    return np.ascontiguousarray(pixels.round().astype(np.uint8))


def score_text(score: float) -> str:
    """The score as a whole percentage; a small but real one reads "<1%", not "0%"."""
    return "<1%" if 0 < score < 0.005 else f"{score:.0%}"


class CandidatePanel(QWidget):
    selectionChanged = Signal(list)
    previewRequested = Signal(int)  # show this candidate's mask on the photo; -1: the mask

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = thumbnail_strip("candidateList", "Find candidates", self)
        self.list.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.list.itemSelectionChanged.connect(self._announce)
        self.list.setMouseTracking(True)
        self.list.itemEntered.connect(lambda item: self.previewRequested.emit(self.list.row(item)))
        self.list.viewport().installEventFilter(self)
        self.hint = QLabel(EMPTY_HINT, self, objectName="candidateHint", wordWrap=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.hint)
        layout.addWidget(self.list, 1)

    def sizeHint(self) -> QSize:
        """One thumbnail wide, so the strip leaves the photo its room."""
        return QSize(THUMBNAIL + 48, 4 * THUMBNAIL)

    def set_candidates(
        self,
        candidates: Sequence[MaskCandidate],
        photo_rgb: np.ndarray,
        selected: Sequence[int] = (),
    ) -> None:
        """Show `candidates` (best first) over `photo_rgb`, with `selected` marked as chosen."""
        self.list.blockSignals(True)
        try:
            self.list.clear()
            for number, candidate in enumerate(candidates):
                item = QListWidgetItem(
                    QIcon(pixmap_of(thumbnail(photo_rgb, candidate))), score_text(candidate.score)
                )
                item.setToolTip(
                    f"{number + 1}. {candidate.label or candidate.source}: "
                    f"score {score_text(candidate.score)}"
                )
                item.setTextAlignment(Qt.AlignHCenter)
                self.list.addItem(item)
            for index in selected:
                if 0 <= index < self.list.count():
                    self.list.item(index).setSelected(True)
            if selected:
                self.list.setCurrentRow(selected[0], QItemSelectionModel.NoUpdate)
        finally:
            self.list.blockSignals(False)
        self.hint.setText(CHOOSE_HINT if candidates else EMPTY_HINT)

    def selected(self) -> list[int]:
        return sorted(self.list.row(item) for item in self.list.selectedItems())

    def clear(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        self.list.blockSignals(False)
        self.hint.setText(EMPTY_HINT)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.list.viewport() and event.type() == QEvent.Leave:
            self.previewRequested.emit(-1)
        return super().eventFilter(watched, event)

    def _announce(self) -> None:
        chosen = self.selected()
        self.previewRequested.emit(-1)  # the choice is about to be the mask itself
        if chosen:  # clicking empty space deselects everything; the mask keeps what it has
            self.selectionChanged.emit(chosen)
