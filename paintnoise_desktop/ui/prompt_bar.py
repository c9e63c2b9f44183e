"""The "Find ... Replace with ..." bar above the photo, with progress and Cancel."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QWidget,
)

from .app_settings import MAX_VARIANTS


class PromptBar(QWidget):
    findRequested = Signal(str)
    replaceRequested = Signal(str, str)  # find text, replacement text ("" = remove)
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("promptBar")
        self.find_edit = QLineEdit(objectName="findEdit",
                                   placeholderText="what to find, e.g. red car")
        self.find_button = QPushButton("Find", objectName="findButton")
        self.mode_combo = QComboBox(objectName="findModeCombo")
        self.mode_combo.addItem("Best match", "best")
        self.mode_combo.addItem("All matches", "all")
        self.mode_combo.setToolTip("Mask the best match only, or every one that matches about "
                                   "as well (all the cars)")
        self.replace_edit = QLineEdit(objectName="replaceEdit", placeholderText="nothing = remove")
        self.replace_button = QPushButton("Replace", objectName="replaceButton")
        self.variants_spin = QSpinBox(objectName="variantsSpin", prefix="\u00d7", minimum=1,
                                      maximum=MAX_VARIANTS)
        self.variants_spin.setToolTip("How many versions to paint, to compare and choose from")
        self.cancel_button = QPushButton("Cancel", objectName="cancelButton", enabled=False)
        self.progress_bar = QProgressBar(objectName="progressBar", textVisible=False)
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setFixedWidth(140)
        self.progress_bar.setVisible(False)
        self.find_edit.setClearButtonEnabled(True)
        self.replace_edit.setClearButtonEnabled(True)
        self.find_button.setToolTip("Make a mask from the words (Enter)")
        self.replace_button.setToolTip("Repaint the masked region with the replacement (Enter)")
        self.cancel_button.setToolTip("Stop the running job (Esc)")

        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(QLabel("Find"))
        layout.addWidget(self.find_edit, 3)
        layout.addWidget(self.mode_combo)
        layout.addWidget(self.find_button)
        layout.addSpacing(12)
        layout.addWidget(QLabel("Replace with"))
        layout.addWidget(self.replace_edit, 3)
        layout.addWidget(self.variants_spin)
        layout.addWidget(self.replace_button)
        layout.addSpacing(12)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.cancel_button)

        self.find_edit.returnPressed.connect(self._request_find)
        self.find_button.clicked.connect(self._request_find)
        self.replace_edit.returnPressed.connect(self._request_replace)
        self.replace_button.clicked.connect(self._request_replace)
        self.cancel_button.clicked.connect(self.cancelRequested)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self, context=Qt.WindowShortcut)
        escape.activated.connect(self._escape)

    @property
    def find_text(self) -> str:
        return self.find_edit.text().strip()

    @property
    def replace_text(self) -> str:
        return self.replace_edit.text().strip()

    @property
    def find_mode(self) -> str:
        return self.mode_combo.currentData()

    def set_find_mode(self, mode: str) -> None:
        self.mode_combo.setCurrentIndex(max(0, self.mode_combo.findData(mode)))

    def set_busy(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)
        self.progress_bar.setVisible(busy)
        if busy:
            self.progress_bar.setValue(0)

    def set_progress(self, fraction: float) -> None:
        self.progress_bar.setValue(round(max(0.0, min(1.0, fraction)) * 1000))

    def _request_find(self) -> None:
        self.findRequested.emit(self.find_text)

    def _request_replace(self) -> None:
        self.replaceRequested.emit(self.find_text, self.replace_text)

    def _escape(self) -> None:
        if self.cancel_button.isEnabled():
            self.cancelRequested.emit()
