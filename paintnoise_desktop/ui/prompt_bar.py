"""The "Find ... Replace with ..." bar above the photo, with progress and Cancel.

The bar lays itself out in one row when it is wide enough and in two rows (Find above,
Replace with below) when not, so neither field is squeezed below a usable width. The
progress bar is a thin strip along its bottom edge whose room is kept while idle:
starting or ending a job moves nothing. Once Enter (or a button) has sent a request, the
keyboard goes back to the widget given to `hand_focus_to` (the canvas), so B, E, [, ] and
Ctrl+Z act on the photo again rather than on the text.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..engine.models.needs import AUTOMATIC_FINDER, find_needs, not_installed
from ..engine.settings import EngineSettings
from .app_settings import MAX_VARIANTS, AppSettings
from .properties import bind

FIND_MIN_WIDTH = 160
REPLACE_MIN_WIDTH = 200
PLACEHOLDER_ROOM = 40  # the line edit's frame and clear button, beside its placeholder
PROGRESS_HEIGHT = 5
GAP = 12  # between the Find and the Replace group
#: The selector beside Find: each method by the name users know it by (app_settings.FIND_METHODS).
FIND_METHOD_CHOICES = ((AUTOMATIC_FINDER, "Automatic"), ("segclip", "SegCLIP"),
                       ("sam3", "SAM 3"), ("clipseg", "CLIPSeg"),
                       ("segformer", "SegFormer + CLIP"), ("diffedit", "DiffEdit"))
METHOD_CHOICE_CHARS = 9  # characters the closed selector shows; the open list shows all
THRESHOLD_SCALE = 100  # the slider moves in hundredths
THRESHOLD_WIDTH = 80


def find_method_choices(engine_settings: EngineSettings) -> list[tuple[str, str]]:
    """The methods, each but "Automatic" marked installed or not, as the inpainters are."""
    choices = []
    for method, label in FIND_METHOD_CHOICES:
        if method != AUTOMATIC_FINDER:
            missing = not_installed(find_needs(method, engine_settings), engine_settings)
            label = f"{label} ({'not installed' if missing else 'installed'})"
        choices.append((method, label))
    return choices
#: The keys the bar handles itself, for the shortcuts sheet.
PROMPT_KEYS = (
    ("Enter in Find", "Find the words (keys then act on the photo)"),
    ("Shift+Enter in Find", "Find the words and add them to the mask"),
    ("Enter in Replace with", "Replace (or remove) what is masked"),
    ("Esc", "Cancel the running job"),
)


def _fit_placeholder(edit: QLineEdit, minimum: int) -> None:
    """At least `minimum` px wide, and wide enough to show the whole placeholder."""
    needed = edit.fontMetrics().horizontalAdvance(edit.placeholderText()) + PLACEHOLDER_ROOM
    edit.setMinimumWidth(max(minimum, needed))


def _row(*widgets: QWidget, stretching: QWidget | None) -> QHBoxLayout:
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(6)
    for widget in widgets:
        row.addWidget(widget, 1 if widget is stretching else 0)
    return row


class PromptBar(QWidget):
    findRequested = Signal(str)
    findAddRequested = Signal(str)  # find and add to the mask (Shift+Enter)
    replaceRequested = Signal(str, str)  # find text, replacement text ("" = remove)
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("promptBar")
        self.find_edit = QLineEdit(objectName="findEdit", placeholderText="e.g. red car")
        self.find_button = QPushButton("Find", objectName="findButton")
        self.mode_combo = QComboBox(objectName="findModeCombo")
        self.mode_combo.addItem("Best match", "best")
        self.mode_combo.addItem("All matches", "all")
        self.mode_combo.setToolTip("Mask the best match only, or every one that matches about "
                                   "as well (all the cars)")
        self.method_combo = QComboBox(objectName="findMethodCombo")
        for method, label in FIND_METHOD_CHOICES:  # marked installed by set_engine_settings
            self.method_combo.addItem(label, method)
        self.method_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.method_combo.setMinimumContentsLength(METHOD_CHOICE_CHARS)
        self.method_combo.setToolTip(
            "How to find: Automatic (SAM 3 when installed, else SegCLIP); SegCLIP for objects; "
            "CLIPSeg for sky, water, shadows and many things at once (with its threshold); "
            "SegFormer + CLIP for road, wall, floor; DiffEdit contrasts Find with Replace")
        self.threshold_slider = QSlider(Qt.Orientation.Horizontal,
                                        objectName="clipsegThresholdSlider")
        self.threshold_slider.setFixedWidth(THRESHOLD_WIDTH)
        self.threshold_slider.setToolTip("CLIPSeg's threshold: higher masks only where it is "
                                         "surer (changes the found mask as it moves)")
        self.threshold_label = QLabel(objectName="clipsegThresholdLabel")
        self.threshold_box = QWidget(objectName="clipsegThresholdBox")
        threshold_row = QHBoxLayout(self.threshold_box)
        threshold_row.setContentsMargins(0, 0, 0, 0)
        threshold_row.addWidget(self.threshold_slider)
        threshold_row.addWidget(self.threshold_label)
        self.threshold_box.setVisible(False)
        self.replace_edit = QLineEdit(objectName="replaceEdit", placeholderText="nothing = remove")
        self.replace_button = QPushButton("Replace", objectName="replaceButton")
        self.variants_spin = QSpinBox(objectName="variantsSpin", prefix="\u00d7", minimum=1,
                                      maximum=MAX_VARIANTS)
        self.variants_spin.setToolTip("How many versions to paint, to compare and choose from")
        self.cancel_button = QPushButton("Cancel", objectName="cancelButton", enabled=False)
        self.cancel_button.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Fixed)
        self.progress_bar = QProgressBar(objectName="progressBar", textVisible=False)
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setFixedHeight(PROGRESS_HEIGHT)
        keep_room = self.progress_bar.sizePolicy()
        keep_room.setRetainSizeWhenHidden(True)
        self.progress_bar.setSizePolicy(keep_room)
        self.progress_bar.setVisible(False)
        self.find_edit.setClearButtonEnabled(True)
        self.replace_edit.setClearButtonEnabled(True)
        _fit_placeholder(self.find_edit, FIND_MIN_WIDTH)
        _fit_placeholder(self.replace_edit, REPLACE_MIN_WIDTH)
        self.find_edit.setToolTip("What to find, e.g. red car (Enter finds it)")
        self.replace_edit.setToolTip("What to paint in its place; leave empty to remove it")
        self.find_button.setToolTip("Make a mask from the words (Enter)")
        self.replace_button.setToolTip("Repaint the masked region with the replacement (Enter)")
        self.cancel_button.setToolTip("Stop the running job (Esc)")

        self._find_row = _row(QLabel("Find"), self.find_edit, self.mode_combo, self.find_button,
                              stretching=self.find_edit)
        self._method_row = _row(self.method_combo, self.threshold_box, stretching=None)
        self._method_row.addStretch(1)
        self._replace_row = _row(QLabel("Replace with"), self.replace_edit, self.variants_spin,
                                 self.replace_button, stretching=self.replace_edit)
        self._grid = QGridLayout()
        self._grid.setHorizontalSpacing(GAP)
        self._grid.setVerticalSpacing(6)
        self._one_row: bool | None = None
        self._focus_target: QWidget | None = None
        self._arrange(one_row=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 2)
        layout.setSpacing(3)
        layout.addLayout(self._grid)
        layout.addWidget(self.progress_bar)

        self.find_edit.returnPressed.connect(self._request_find)
        self.find_edit.installEventFilter(self)  # Shift+Enter adds: see eventFilter
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

    @property
    def one_row(self) -> bool:
        """Whether Find and Replace with share one row (the bar is wide enough)."""
        return bool(self._one_row)

    def hand_focus_to(self, widget: QWidget | None) -> None:
        """After each Find or Replace request, give the keyboard focus to `widget`."""
        self._focus_target = widget

    def bind_settings(self, settings: AppSettings) -> None:
        """Show and set the find method and mode, CLIPSeg's threshold and the variants count of
        `settings`, both ways; the threshold shows while the method is CLIPSeg."""
        bind(settings, "find_method", self.method_combo)
        bind(settings, "clipseg_threshold", self.threshold_slider, scale=THRESHOLD_SCALE)
        bind(settings, "find_mode", self.mode_combo)
        bind(settings, "variants", self.variants_spin)

        def show_threshold(_value: object = None) -> None:
            self.threshold_box.setVisible(settings.find_method == "clipseg")
            self.threshold_label.setText(f"{settings.clipseg_threshold:.2f}")
            self._method_row.invalidate()
            self._one_row = None  # the Find row's width changed: lay out again
            self._arrange(one_row=self.width() >= self._one_row_width())

        settings.find_method_changed.connect(show_threshold)
        settings.clipseg_threshold_changed.connect(show_threshold)
        show_threshold()

    def set_engine_settings(self, engine_settings: EngineSettings) -> None:
        """Mark each find method installed or not for these engine settings."""
        for method, label in find_method_choices(engine_settings):
            self.method_combo.setItemText(self.method_combo.findData(method), label)

    def set_find_mode(self, mode: str) -> None:
        self.mode_combo.setCurrentIndex(max(0, self.mode_combo.findData(mode)))

    def set_busy(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)
        self.progress_bar.setVisible(busy)
        if busy:
            self.progress_bar.setValue(0)

    def set_progress(self, fraction: float) -> None:
        self.progress_bar.setValue(round(max(0.0, min(1.0, fraction)) * 1000))

    # -- layout -----------------------------------------------------------------------------

    def minimumSizeHint(self) -> QSize:
        """As narrow as the two-row layout allows: the bar never makes the window wider."""
        return QSize(self._two_rows_width(), super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._arrange(one_row=event.size().width() >= self._one_row_width())
        super().resizeEvent(event)

    def _margins_width(self) -> int:
        margins = self.layout().contentsMargins() if self.layout() else None
        return margins.left() + margins.right() if margins else 0

    def _one_row_width(self) -> int:
        return (self._find_row.minimumSize().width() + self._method_row.minimumSize().width()
                + self._replace_row.minimumSize().width()
                + self.cancel_button.sizeHint().width() + 3 * GAP + self._margins_width())

    def _two_rows_width(self) -> int:
        top = self._find_row.minimumSize().width() + GAP + self.cancel_button.sizeHint().width()
        return max(top, self._method_row.minimumSize().width(),
                   self._replace_row.minimumSize().width()) + self._margins_width()

    def _arrange(self, one_row: bool) -> None:
        """One row: Find | method | Replace with | Cancel. Narrower: Find | Cancel above the
        method above Replace with (the method has no room beside Find there)."""
        if one_row == self._one_row:
            return
        self._one_row = one_row
        grid = self._grid
        for item in (self._find_row, self._method_row, self._replace_row):
            grid.removeItem(item)
        grid.removeWidget(self.cancel_button)
        grid.addLayout(self._find_row, 0, 0)
        if one_row:
            grid.addLayout(self._method_row, 0, 1)
            grid.addLayout(self._replace_row, 0, 2)
            grid.addWidget(self.cancel_button, 0, 3)
            for column, stretch in enumerate((3, 0, 4, 0)):
                grid.setColumnStretch(column, stretch)
        else:
            grid.addWidget(self.cancel_button, 0, 1)
            grid.addLayout(self._method_row, 1, 0, 1, 2)
            grid.addLayout(self._replace_row, 2, 0, 1, 2)
            for column, stretch in enumerate((1, 0, 0, 0)):
                grid.setColumnStretch(column, stretch)

    # -- requests ---------------------------------------------------------------------------

    def _request_find(self) -> None:
        self.findRequested.emit(self.find_text)
        self._hand_focus_back()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Shift+Enter in the Find field finds and adds to the mask (plain Enter replaces)."""
        if (watched is self.find_edit and event.type() == QEvent.Type.KeyPress
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and event.modifiers() & Qt.KeyboardModifier.ShiftModifier):
            self.findAddRequested.emit(self.find_text)
            self._hand_focus_back()
            return True
        return super().eventFilter(watched, event)

    def _request_replace(self) -> None:
        self.replaceRequested.emit(self.find_text, self.replace_text)
        self._hand_focus_back()

    def _hand_focus_back(self) -> None:
        target = self._focus_target
        if target is not None and target.isVisible() and target.isEnabled():
            target.setFocus(Qt.FocusReason.OtherFocusReason)

    def _escape(self) -> None:
        if self.cancel_button.isEnabled():
            self.cancelRequested.emit()
