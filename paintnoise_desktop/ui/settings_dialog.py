"""The settings dialog: where models live, how they run, and the editing defaults.

Engine settings (models folder, device, precision, memory profile, offline mode,
model paths) are saved in the settings file shared with the command line
(`engine.settings.settings_file()`), so `paintnoise models add` and this dialog
see the same thing. Editing defaults (steps, guidance, mask grow and feather,
inpainter) are window preferences and live in QSettings, next to `AppSettings`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ..engine.registry import models_dir
from ..engine.settings import EngineSettings, load_settings, save_settings
from .app_settings import AppSettings

DEVICE_CHOICES = ("auto", "cpu", "cuda", "cuda:0", "cuda:1", "mps")
PRECISION_CHOICES = (("auto", "Automatic"), ("fp16", "Half (fp16)"), ("bf16", "bfloat16"),
                     ("fp32", "Full (fp32)"))
MEMORY_CHOICES = (("auto", "Automatic (from free GPU memory)"), ("keep", "Keep loaded on the GPU"),
                  ("offload", "Offload to CPU when idle"),
                  ("low", "Low memory (offload, VAE tiling, attention slicing)"))
INPAINTER_CHOICES = (("opencv-telea", "OpenCV Telea (no model)"),
                     ("opencv-ns", "OpenCV Navier-Stokes (no model)"),
                     ("sd2-inpainting", "Stable Diffusion 2 inpainting"),
                     ("sd15-inpainting", "Stable Diffusion 1.5 inpainting"))


@dataclass(frozen=True)
class InpaintDefaults:
    steps: int = 25
    guidance: float = 7.5


def load_inpaint_defaults(qsettings: QSettings) -> InpaintDefaults:
    defaults = InpaintDefaults()
    try:
        return InpaintDefaults(int(qsettings.value("inpaint/steps", defaults.steps)),
                               float(qsettings.value("inpaint/guidance", defaults.guidance)))
    except (TypeError, ValueError):
        return defaults


def save_inpaint_defaults(qsettings: QSettings, defaults: InpaintDefaults) -> None:
    qsettings.setValue("inpaint/steps", defaults.steps)
    qsettings.setValue("inpaint/guidance", defaults.guidance)


class SettingsDialog(QDialog):
    engineSettingsChanged = Signal(object)  # EngineSettings, after OK changed them

    def __init__(self, app_settings: AppSettings, qsettings: QSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.app_settings = app_settings
        self.qsettings = qsettings or QSettings("PaintNoise", "PaintNoise Desktop")
        self.engine_settings = load_settings()

        self.models_dir_edit = QLineEdit(objectName="modelsDirEdit")
        self.models_dir_edit.setPlaceholderText(str(models_dir(EngineSettings())))
        browse = QPushButton("Browse…", objectName="modelsDirBrowse")
        browse.clicked.connect(self._browse_models_dir)
        self.device_combo = QComboBox(objectName="deviceCombo", editable=True)
        self.device_combo.addItems(DEVICE_CHOICES)
        self.precision_combo = _choices("precisionCombo", PRECISION_CHOICES)
        self.memory_combo = _choices("memoryCombo", MEMORY_CHOICES)
        self.offline_check = QCheckBox("Never use the network (offline mode)",
                                       objectName="offlineCheck")
        self.steps_spin = QSpinBox(objectName="stepsSpin", minimum=1, maximum=150)
        self.guidance_spin = QDoubleSpinBox(objectName="guidanceSpin", minimum=1.0, maximum=20.0,
                                            singleStep=0.5, decimals=1)
        self.grow_spin = QDoubleSpinBox(objectName="growSpin", minimum=0.0, maximum=30.0,
                                        singleStep=0.5, decimals=1, suffix=" % of object")
        self.grow_min_spin = QSpinBox(objectName="growMinSpin", minimum=0, maximum=200,
                                      suffix=" px")
        self.feather_spin = QSpinBox(objectName="featherSpin", minimum=0, maximum=100, suffix=" px")
        self.inpainter_combo = _choices("inpainterCombo", INPAINTER_CHOICES)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        folder_row = QHBoxLayout()
        folder_row.addWidget(self.models_dir_edit, 1)
        folder_row.addWidget(browse)
        form = QFormLayout(self)
        form.addRow("Models folder", folder_row)
        form.addRow("Device", self.device_combo)
        form.addRow("Precision", self.precision_combo)
        form.addRow("GPU memory", self.memory_combo)
        form.addRow("", self.offline_check)
        form.addRow("Inpainter", self.inpainter_combo)
        form.addRow("Steps", self.steps_spin)
        form.addRow("Guidance", self.guidance_spin)
        form.addRow("Grow mask by", self.grow_spin)
        form.addRow("… and at least", self.grow_min_spin)
        form.addRow("Feather mask edge", self.feather_spin)
        form.addRow(buttons)
        self._show_values()

    def _show_values(self) -> None:
        engine = self.engine_settings
        self.models_dir_edit.setText(str(engine.models_dir) if engine.models_dir else "")
        self.device_combo.setCurrentText(engine.device)
        _select(self.precision_combo, engine.precision)
        _select(self.memory_combo, engine.memory_profile)
        self.offline_check.setChecked(engine.offline)
        defaults = load_inpaint_defaults(self.qsettings)
        self.steps_spin.setValue(defaults.steps)
        self.guidance_spin.setValue(defaults.guidance)
        mask = self.app_settings.mask_settings
        self.grow_spin.setValue(mask.grow_fraction * 100)
        self.grow_min_spin.setValue(mask.grow_min_px)
        self.feather_spin.setValue(mask.feather_px)
        _select(self.inpainter_combo, self.app_settings.inpainter)

    def chosen_engine_settings(self) -> EngineSettings:
        """The engine settings as the form shows them (model paths kept as they were)."""
        folder = self.models_dir_edit.text().strip()
        return replace(
            self.engine_settings,
            models_dir=Path(folder).expanduser() if folder else None,
            device=self.device_combo.currentText().strip() or "auto",
            precision=self.precision_combo.currentData(),
            memory_profile=self.memory_combo.currentData(),
            offline=self.offline_check.isChecked(),
        )

    def accept(self) -> None:
        chosen = self.chosen_engine_settings()
        current = load_settings()  # keep model paths added meanwhile (model manager, command line)
        chosen = replace(chosen, model_paths=current.model_paths)
        save_settings(chosen)
        save_inpaint_defaults(self.qsettings, InpaintDefaults(self.steps_spin.value(),
                                                              self.guidance_spin.value()))
        self.app_settings.mask_settings = replace(
            self.app_settings.mask_settings, grow_fraction=self.grow_spin.value() / 100,
            grow_min_px=self.grow_min_spin.value(), feather_px=self.feather_spin.value())
        self.app_settings.inpainter = self.inpainter_combo.currentData()
        if chosen != self.engine_settings:
            self.engine_settings = chosen
            self.engineSettingsChanged.emit(chosen)
        super().accept()

    def _browse_models_dir(self) -> None:
        start = self.models_dir_edit.text()
        folder = QFileDialog.getExistingDirectory(self, "Models folder", start)
        if folder:
            self.models_dir_edit.setText(folder)


def _choices(name: str, choices: tuple[tuple[str, str], ...]) -> QComboBox:
    combo = QComboBox(objectName=name)
    for value, label in choices:
        combo.addItem(label, value)
    return combo


def _select(combo: QComboBox, value: str) -> None:
    index = combo.findData(value)
    if index < 0:  # a value saved by a newer version or typed by hand
        combo.addItem(value, value)
        index = combo.count() - 1
    combo.setCurrentIndex(index)
