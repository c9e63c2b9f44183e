"""The strip of Replace's variants: a row of thumbnails of the repainted region, with seeds.

It is meant to sit under the canvas (or beside the prompt bar), one thumbnail high whatever
it shows, so opening it hides no panel and never moves the photo: long text wraps beside the
thumbnails or is cut short, and more variants scroll sideways.

Pointing at a variant (mouse over it, or selecting it with the arrow keys) asks to show it
on the canvas without applying it (`previewRequested(index)`); -1 asks to stop previewing,
when the mouse leaves with no other variant selected, or once one is chosen.
Clicking it, or Enter, chooses it (`variantChosen(index)`) and marks it as the applied one
(the first, until another is chosen). The panel never touches the document.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from PySide6.QtCore import QEvent, QObject, QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QFont, QIcon, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidgetItem,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..core.box import Box
from ..core.jobs import InpaintVariant
from .thumbnails import THUMBNAIL, pixmap_of, thumbnail_strip

TEXT_WIDTH = 160  # the seed and hint column beside the thumbnails
LISTED_SEEDS = 3  # more seeds than this are summed up as first ... last
APPLIED = "\u2713 "  # marks the applied variant's caption
CONTEXT = 0.25  # photo shown around the repainted box, as a share of its longer side
COMPARE_HINT = "Point at one to preview it, click to use it. Hold \\ to see the original."
COMPARE_TIP = (
    "Point at a variant to see it on the photo; click one to use it. "
    "Hold Compare with Original (or \\) to see the photo as it was."
)


def thumbnail(image: np.ndarray, box: Box, size: int = THUMBNAIL) -> np.ndarray:
    """The image around `box`, scaled to fit `size` px, as contiguous RGB uint8."""
    height, width = image.shape[:2]
    x0, y0, x1, y1 = box
    pad = round(CONTEXT * max(x1 - x0, y1 - y0))
    x0, y0, x1, y1 = max(0, x0 - pad), max(0, y0 - pad), min(width, x1 + pad), min(height, y1 + pad)
    region = image[y0:y1, x0:x1, :3]
    scale = size / max(x1 - x0, y1 - y0)
    target = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return np.ascontiguousarray(cv2.resize(region, target, interpolation=interpolation))


class VariantsPanel(QWidget):
    variantChosen = Signal(int)  # apply this variant
    previewRequested = Signal(int)  # show this variant on the canvas; -1: show the document again

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("variantsPanel")
        self._seeds: list[int] = []
        self._previewed = -1
        self._applied = -1
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)

        self.list = thumbnail_strip("variantList", "Replace variants", self, horizontal=True)
        cell = QSize(THUMBNAIL + 16, THUMBNAIL + 2 * self.fontMetrics().height())
        self.list.setGridSize(cell)
        self.list.setTextElideMode(Qt.ElideRight)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOn)
        self.list.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.list.setMinimumWidth(cell.width() + 2 * self.list.frameWidth())
        self.list.setFixedHeight(cell.height() + self.list.horizontalScrollBar().sizeHint().height()
                                 + 2 * self.list.frameWidth() + 4)
        self.list.setMouseTracking(True)
        self.list.itemEntered.connect(lambda item: self._preview(self.list.row(item)))
        self.list.itemSelectionChanged.connect(lambda: self._preview(self._selected_row()))
        self.list.itemClicked.connect(lambda item: self._choose(self.list.row(item)))
        self.list.itemActivated.connect(lambda item: self._choose(self.list.row(item)))
        self.list.viewport().installEventFilter(self)

        self.seed_label = QLabel(self)
        self.seed_label.setObjectName("variantSeedLabel")
        self.seed_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.seed_label.setWordWrap(True)
        self.hint = QLabel(COMPARE_HINT, self)
        self.hint.setObjectName("variantHint")
        self.hint.setWordWrap(True)
        self.hint.setToolTip(COMPARE_TIP)

        self.text = QWidget(self)  # the seeds and the hint, beside the thumbnails when room
        self.text.setFixedWidth(TEXT_WIDTH)
        text = QVBoxLayout(self.text)
        text.setContentsMargins(0, 0, 0, 0)
        text.addWidget(self.seed_label)
        text.addWidget(self.hint)
        text.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.text)
        self.setFixedHeight(self.list.height() + 4)
        self._show_seed(-1)

    def sizeHint(self) -> QSize:
        """Every thumbnail and the seeds (the window lays the strip over the canvas, so
        its width moves nothing; a narrower canvas gets a scrolling strip)."""
        thumbnails = max(1, self.list.count()) * self.list.gridSize().width()
        return QSize(thumbnails + 2 * self.list.frameWidth() + TEXT_WIDTH + 16, self.height())

    def minimumSizeHint(self) -> QSize:
        """One thumbnail: the strip never makes the window wider (the seeds go when narrow;
        each thumbnail's tooltip still names its seed)."""
        return QSize(self.list.minimumWidth() + 8, self.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        self.text.setVisible(event.size().width() >= self._text_room())
        super().resizeEvent(event)

    def _text_room(self) -> int:
        """The width from which the seeds and hint show beside one thumbnail or more."""
        return self.list.minimumWidth() + TEXT_WIDTH + 16

    def set_variants(self, variants: Sequence[InpaintVariant], applied: int = 0) -> None:
        """Show a Replace job's variants, variant `applied` marked as on the photo
        (announces nothing)."""
        self.list.blockSignals(True)
        try:
            self.list.clear()
            for number, variant in enumerate(variants):
                item = QListWidgetItem(QIcon(pixmap_of(thumbnail(variant.image, variant.box))), "")
                tip = f"Variant {number + 1}, seed {variant.seed}"
                item.setToolTip(f"{tip}\n{variant.note}" if variant.note else tip)
                item.setTextAlignment(Qt.AlignHCenter)
                self.list.addItem(item)
        finally:
            self.list.blockSignals(False)
        self.updateGeometry()
        self._seeds = [variant.seed for variant in variants]
        self._previewed = -1
        self.seed_label.setToolTip("Seeds: " + ", ".join(map(str, self._seeds)) if variants else "")
        self.set_applied(applied if variants else -1)
        self._show_seed(-1)

    @property
    def applied(self) -> int:
        """The row of the variant on the photo; -1 when none is shown."""
        return self._applied

    def set_applied(self, row: int) -> None:
        """Mark variant `row` as the one on the photo (announces nothing)."""
        self._applied = row if 0 <= row < self.list.count() else -1
        for number, seed in enumerate(self._seeds):
            item = self.list.item(number)
            chosen = number == self._applied
            item.setText(f"{APPLIED if chosen else ''}{seed}")
            font = QFont(item.font())
            font.setBold(chosen)
            item.setFont(font)

    def clear_variants(self) -> None:
        self.set_variants([])

    def set_previewed(self, row: int) -> None:
        """The variant the canvas shows now (-1: none; the window passes the session's),
        announcing nothing, so pointing at a row previews it whenever the canvas does not
        show it already. With none, the selection goes too."""
        if row == -1:
            with QSignalBlocker(self.list):
                self.list.clearSelection()
        self._previewed = row if 0 <= row < self.list.count() else -1
        self._show_seed(self._previewed)

    @property
    def seeds(self) -> list[int]:
        return list(self._seeds)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.list.viewport() and event.type() == QEvent.Leave:
            selected = self._selected_row()
            self._preview(selected if selected != self._applied else -1)
        return super().eventFilter(watched, event)

    def _choose(self, row: int) -> None:
        self.set_applied(row)
        self.variantChosen.emit(row)
        self._preview(-1)  # it is on the photo now: nothing left to preview

    def _selected_row(self) -> int:
        selected = self.list.selectedIndexes()
        return selected[0].row() if selected else -1

    def _preview(self, row: int) -> None:
        if row == self._previewed:
            return
        self._previewed = row
        self._show_seed(row)
        self.previewRequested.emit(row)

    def _show_seed(self, row: int) -> None:
        if 0 <= row < len(self._seeds):
            self.seed_label.setText(f"Seed: {self._seeds[row]}")
        elif self._seeds:
            seeds = [str(seed) for seed in self._seeds]
            if len(seeds) > LISTED_SEEDS:
                seeds = [seeds[0], "\u2026", seeds[-1]]
            self.seed_label.setText("Seeds: " + ", ".join(seeds))
        else:
            self.seed_label.setText("No variants yet")
