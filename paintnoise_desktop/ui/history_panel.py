"""The history dock: "Open photo" and every edit since, the current step highlighted.

Row 0 is the photo as opened; row n is the state after n edits. Clicking a row
asks the window to undo or redo until the document is at that step; steps after
the current one stay listed (greyed) until a new edit drops them.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QBrush, QPalette
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

ORIGINAL_STEP = "Open photo"


class HistoryPanel(QListWidget):
    stepChosen = Signal(int)  # the number of edits the user wants applied

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyView")
        self.setAlternatingRowColors(False)
        # Long names end in "…" (the whole name in the tooltip) instead of scrolling sideways.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setTextElideMode(Qt.ElideRight)
        self.currentRowChanged.connect(self._row_chosen)

    def show_history(self, names: Sequence[str], index: int) -> None:
        """List the edits; `index` is how many of them are applied now."""
        with QSignalBlocker(self):
            self.clear()
            undone = QBrush(self.palette().color(QPalette.Disabled, QPalette.Text))
            for row, name in enumerate([ORIGINAL_STEP, *names]):
                item = QListWidgetItem(name)
                item.setToolTip(name)
                if row > index:
                    item.setForeground(undone)
                self.addItem(item)
            self.setCurrentRow(index)
        self.scrollToItem(self.currentItem())

    def clear_history(self) -> None:
        with QSignalBlocker(self):
            self.clear()

    def _row_chosen(self, row: int) -> None:
        if row >= 0:
            self.stepChosen.emit(row)
