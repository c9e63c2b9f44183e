"""The mask tools dock: brush, the found mask's grow/feather, and mask operations.

The panel only says what the user asked for; the window turns each operation
into one undo step on the document, and remakes a found mask when its settings move.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.jobs import MaskSettings
from .app_settings import MAX_BRUSH, MIN_BRUSH, AppSettings
from .properties import set_range

GROW_STEPS_PER_PERCENT = 10  # the grow slider moves in 0.1 % steps
GROW_SLIDER_SCALE = 100 * GROW_STEPS_PER_PERCENT  # slider steps per unit of grow_fraction

# Operation name -> (button text, tooltip, uses the pixel amount)
MASK_OPERATIONS: dict[str, tuple[str, str, bool]] = {
    "grow": ("Grow", "Grow the mask by the amount", True),
    "shrink": ("Shrink", "Shrink the mask by the amount", True),
    "feather": ("Feather", "Soften the mask's edge over the amount", True),
    "fill_holes": ("Fill holes", "Fill the holes inside the mask", False),
    "invert": ("Invert", "Swap masked and unmasked", False),
    "clear": ("Clear", "Remove the whole mask", False),
}


class MaskPanel(QWidget):
    toolChanged = Signal(str)  # "add", "erase" or "select"
    brushSizeChanged = Signal(int)
    hardnessChanged = Signal(float)  # 0 = soft edge, 1 = hard edge
    operationRequested = Signal(str, int)  # operation name, pixel amount
    overlayToggled = Signal(bool)
    foundSettingsChanged = Signal(str)  # which control moved: "grow", "grow_min", "feather", "tight"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("maskPanel")
        layout = QVBoxLayout(self)
        layout.addWidget(self._brush_box())
        layout.addWidget(self._found_box())
        layout.addWidget(self._operations_box())
        self.overlay_check = QCheckBox("Show mask (M)", objectName="overlayCheck", checked=True)
        self.overlay_check.toggled.connect(self.overlayToggled)
        layout.addWidget(self.overlay_check)
        layout.addStretch(1)

    def _brush_box(self) -> QGroupBox:
        box = QGroupBox("Brush")
        self.add_button = QToolButton(text="Add", objectName="addBrushButton", checkable=True)
        self.erase_button = QToolButton(text="Erase", objectName="eraseBrushButton",
                                        checkable=True)
        self.select_button = QToolButton(text="Select", objectName="selectToolButton",
                                         checkable=True)
        self.add_button.setToolTip("Paint to add to the mask (B)")
        self.erase_button.setToolTip("Paint to remove from the mask (E)")
        self.select_button.setToolTip("Click on the object to mask it; Alt+click: not this, "
                                      "drag: a box, Shift: add, Tab: other ways, Esc: done (S)")
        self.add_button.setChecked(True)
        group = QButtonGroup(box)
        group.setExclusive(True)
        for button in (self.add_button, self.erase_button, self.select_button):
            button.setToolButtonStyle(Qt.ToolButtonTextOnly)
            button.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
            group.addButton(button)
        self.add_button.toggled.connect(lambda on: on and self.toolChanged.emit("add"))
        self.erase_button.toggled.connect(lambda on: on and self.toolChanged.emit("erase"))
        self.select_button.toggled.connect(lambda on: on and self.toolChanged.emit("select"))
        modes = QHBoxLayout()
        modes.addWidget(self.add_button)
        modes.addWidget(self.erase_button)
        modes.addWidget(self.select_button)

        self.size_slider = QSlider(Qt.Horizontal, objectName="brushSizeSlider")
        self.size_spin = QSpinBox(suffix=" px", objectName="brushSizeSpin")
        for widget in (self.size_slider, self.size_spin):
            widget.setRange(MIN_BRUSH, MAX_BRUSH)
            widget.setToolTip("The brush's diameter in photo pixels ([ and ] change it); "
                              "it keeps its share of the photo from one photo to the next")
        self.size_slider.valueChanged.connect(self._size_from_widget)
        self.size_spin.valueChanged.connect(self._size_from_widget)
        size_row = QHBoxLayout()
        size_row.addWidget(self.size_slider, 1)
        size_row.addWidget(self.size_spin)

        self.hardness_slider = QSlider(Qt.Horizontal, objectName="brushHardnessSlider")
        self.hardness_slider.setRange(0, 100)
        self.hardness_slider.setToolTip("Soft (left) to hard (right) brush edge")
        self.hardness_slider.valueChanged.connect(
            lambda value: self.hardnessChanged.emit(value / 100))

        form = QFormLayout(box)
        form.addRow(modes)
        form.addRow("Size", size_row)
        form.addRow("Hardness", self.hardness_slider)
        return box

    def _found_box(self) -> QGroupBox:
        box = QGroupBox("Found mask")
        box.setToolTip("How Find's mask is grown and softened; moving these remakes the mask "
                       "from the chosen candidates until you paint on it")
        self.grow_slider = QSlider(Qt.Horizontal, objectName="growSlider")
        set_range(self.grow_slider, AppSettings.grow_fraction, GROW_SLIDER_SCALE)
        self.grow_slider.setToolTip("Grow by this share of the object's size")
        self.grow_label = QLabel(objectName="growLabel", minimumWidth=44)
        self.grow_min_spin = QSpinBox(suffix=" px", objectName="growMinSpin")
        set_range(self.grow_min_spin, AppSettings.grow_min_px)
        self.grow_min_spin.setToolTip("Grow by at least this many pixels")
        self.feather_slider = QSlider(Qt.Horizontal, objectName="featherSlider")
        set_range(self.feather_slider, AppSettings.feather_px)
        self.feather_slider.setToolTip("Soften the grown edge over this many pixels")
        self.feather_label = QLabel(objectName="featherLabel", minimumWidth=44)
        self.tight_check = QCheckBox("Tight (the raw mask)", objectName="tightCheck")
        self.tight_check.setToolTip("Use the mask exactly as found: no grow, feather or filling")
        self.grow_slider.valueChanged.connect(lambda: self._found_changed("grow"))
        self.grow_min_spin.valueChanged.connect(lambda: self._found_changed("grow_min"))
        self.feather_slider.valueChanged.connect(lambda: self._found_changed("feather"))
        self.tight_check.toggled.connect(lambda: self._found_changed("tight"))
        grow_row = QHBoxLayout()
        grow_row.addWidget(self.grow_slider, 1)
        grow_row.addWidget(self.grow_label)
        feather_row = QHBoxLayout()
        feather_row.addWidget(self.feather_slider, 1)
        feather_row.addWidget(self.feather_label)
        form = QFormLayout(box)
        form.addRow("Grow", grow_row)
        form.addRow("at least", self.grow_min_spin)
        form.addRow("Feather", feather_row)
        form.addRow(self.tight_check)
        return box

    def _operations_box(self) -> QGroupBox:
        box = QGroupBox("Mask")
        self.amount_spin = QSpinBox(suffix=" px", objectName="maskAmountSpin")
        self.amount_spin.setRange(1, 200)
        self.amount_spin.setValue(8)
        self.operation_buttons: dict[str, QPushButton] = {}
        grid = QGridLayout(box)
        amount_row = QFormLayout()
        amount_row.addRow("Amount", self.amount_spin)
        grid.addLayout(amount_row, 0, 0, 1, 3)
        for index, (name, (text, tip, _)) in enumerate(MASK_OPERATIONS.items()):
            button = QPushButton(text, objectName=f"{name}Button", toolTip=tip)
            button.clicked.connect(lambda _=False, op=name: self._request(op))
            self.operation_buttons[name] = button
            grid.addWidget(button, 1 + index // 3, index % 3)
        return box

    @property
    def brush_size(self) -> int:
        return self.size_slider.value()

    def set_brush_size(self, size: int) -> None:
        """Show a size that changed elsewhere (the canvas's wheel), without echoing it back."""
        with QSignalBlocker(self.size_slider), QSignalBlocker(self.size_spin):
            self.size_slider.setValue(size)
            self.size_spin.setValue(size)

    def set_hardness(self, hardness: float) -> None:
        with QSignalBlocker(self.hardness_slider):
            self.hardness_slider.setValue(round(hardness * 100))

    def set_tool(self, tool: str) -> None:
        buttons = {"erase": self.erase_button, "select": self.select_button}
        buttons.get(tool, self.add_button).setChecked(True)

    def set_overlay_visible(self, visible: bool) -> None:
        with QSignalBlocker(self.overlay_check):
            self.overlay_check.setChecked(visible)

    def set_found_settings(self, settings: MaskSettings) -> None:
        """Show the found-mask settings (from AppSettings), without announcing a change."""
        widgets = (self.grow_slider, self.grow_min_spin, self.feather_slider, self.tight_check)
        blockers = [QSignalBlocker(widget) for widget in widgets]
        self.grow_slider.setValue(round(settings.grow_fraction * GROW_SLIDER_SCALE))
        self.grow_min_spin.setValue(settings.grow_min_px)
        self.feather_slider.setValue(settings.feather_px)
        self.tight_check.setChecked(settings.tight)
        del blockers
        self._show_found_values()

    def found_settings(self, base: MaskSettings) -> MaskSettings:
        """`base` with what the found-mask controls show."""
        return replace(
            base,
            tight=self.tight_check.isChecked(),
            grow_fraction=self.grow_slider.value() / GROW_SLIDER_SCALE,
            grow_min_px=self.grow_min_spin.value(),
            feather_px=self.feather_slider.value(),
        )

    def _found_changed(self, control: str) -> None:
        self._show_found_values()
        self.foundSettingsChanged.emit(control)

    def _show_found_values(self) -> None:
        self.grow_label.setText(f"{self.grow_slider.value() / GROW_STEPS_PER_PERCENT:.1f}%")
        self.feather_label.setText(f"{self.feather_slider.value()} px")
        loose = not self.tight_check.isChecked()
        for widget in (self.grow_slider, self.grow_min_spin, self.feather_slider):
            widget.setEnabled(loose)

    def set_mask_enabled(self, enabled: bool) -> None:
        for button in self.operation_buttons.values():
            button.setEnabled(enabled)

    def _size_from_widget(self, size: int) -> None:
        self.set_brush_size(size)
        self.brushSizeChanged.emit(size)

    def _request(self, operation: str) -> None:
        self.operationRequested.emit(operation, self.amount_spin.value())
