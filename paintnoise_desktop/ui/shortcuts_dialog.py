"""Help > Keyboard Shortcuts: a sheet of every key, read from the real bindings.

The rows come from the window's QActions (their shortcuts as Qt shows them on this
platform) and from the keys widgets handle themselves (the canvas's `CANVAS_KEYS`, the
prompt bar's `PROMPT_KEYS`), so the sheet cannot drift from what the keys do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


def action_name(action: QAction) -> str:
    """The action's menu text without its mnemonic marks and trailing ellipsis."""
    text = action.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
    return text.removesuffix("…").removesuffix("...").strip()


def keyboard_shortcuts(actions: Iterable[QAction],
                       extra: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """(keys, what they do) for each action with a shortcut, in order, then `extra`."""
    rows: list[tuple[str, str]] = []
    seen: set[int] = set()
    for action in actions:
        keys = [key.toString(QKeySequence.NativeText) for key in action.shortcuts()]
        if id(action) in seen or not any(keys) or action.isSeparator():
            continue
        seen.add(id(action))
        rows.append((" or ".join(key for key in keys if key), action_name(action)))
    return rows + [tuple(row) for row in extra]


class ShortcutsDialog(QDialog):
    def __init__(self, actions: Iterable[QAction], extra: Sequence[tuple[str, str]] = (),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard Shortcuts")
        self.rows = keyboard_shortcuts(actions, extra)
        self.filter_edit = QLineEdit(objectName="shortcutsFilter",
                                     placeholderText="Type to filter, e.g. zoom")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._filter)
        self.table = QTableWidget(len(self.rows), 2, self, objectName="shortcutsTable")
        self.table.setHorizontalHeaderLabels(["Keys", "Does"])
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.horizontalHeader().setDefaultAlignment(Qt.AlignLeft | Qt.AlignVCenter)
        self.table.setFocusPolicy(Qt.NoFocus)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        for row, (keys, does) in enumerate(self.rows):
            key_item = QTableWidgetItem(keys)
            key_item.setTextAlignment(Qt.AlignVCenter | Qt.AlignLeft)
            font = key_item.font()
            font.setBold(True)
            key_item.setFont(font)
            self.table.setItem(row, 0, key_item)
            self.table.setItem(row, 1, QTableWidgetItem(does))
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(self._whole_table_size())

    def _whole_table_size(self) -> QSize:
        """Room for every row and the longest text whole, within most of the screen."""
        table = self.table
        table.resizeColumnsToContents()
        width = (table.horizontalHeader().length() + table.verticalScrollBar().sizeHint().width()
                 + 2 * table.frameWidth())
        height = (table.verticalHeader().length() + table.horizontalHeader().height()
                  + 2 * table.frameWidth())
        margins = self.layout().contentsMargins()
        others = (self.filter_edit.sizeHint().height() + self.findChild(QDialogButtonBox)
                  .sizeHint().height() + 2 * self.layout().spacing())
        wanted = QSize(width + margins.left() + margins.right(),
                       height + others + margins.top() + margins.bottom())
        screen = (self.parentWidget() or self).screen().availableGeometry().size()
        return wanted.boundedTo(screen * 0.85)

    def visible_rows(self) -> list[tuple[str, str]]:
        return [row for index, row in enumerate(self.rows) if not self.table.isRowHidden(index)]

    def _filter(self, text: str) -> None:
        words = text.lower().split()
        for index, (keys, does) in enumerate(self.rows):
            haystack = f"{keys} {does}".lower()
            self.table.setRowHidden(index, not all(word in haystack for word in words))
