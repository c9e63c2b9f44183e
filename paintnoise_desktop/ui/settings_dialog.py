"""The settings dialog: where models live and how they run, and the editing defaults.

Engine settings (models folder, device, precision, memory profile, offline mode,
model paths) are saved in the settings file shared with the command line
(`engine.settings.settings_file()`), so `paintnoise models add` and this dialog
see the same thing. The inpainter, steps, guidance and the found mask's grow and feather
shown here are the same AppSettings properties the generation and mask panels show:
OK sets them, and the panels follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
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
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ..core.errors import PaintNoiseError
from ..core.safe_write import os_reason
from ..engine.models.download import offline_from_environment
from ..engine.models.registry import models_dir
from ..engine.settings import (
    EngineSettings,
    load_settings,
    reset_settings,
    save_settings,
    settings_file,
)
from .app_settings import AppSettings, InpaintDefaults
from .generation_panel import choices_combo, inpainter_choices, uses_diffusion
from .properties import set_range

DEVICE_CHOICES = (("auto", "Automatic"), ("cpu", "cpu"), ("cuda", "cuda"), ("cuda:0", "cuda:0"),
                  ("cuda:1", "cuda:1"), ("mps", "mps"))
PRECISION_CHOICES = (("auto", "Automatic"), ("fp16", "Half (fp16)"), ("bf16", "bfloat16"),
                     ("fp32", "Full (fp32)"))
MEMORY_CHOICES = (("auto", "Automatic (from free GPU memory)"), ("keep", "Keep loaded on the GPU"),
                  ("offload", "Offload to CPU when idle"),
                  ("low", "Low memory (offload, VAE tiling, attention slicing)"))
OFFLINE_LABEL = "Never use the network (offline mode)"
GROW_PERCENT = 100  # the grow field shows the share of the object in percent
OVERLAY_COLOURS = (("#ff2020", "Red"), ("#20c8ff", "Cyan"), ("#30d040", "Green"),
                   ("#ffd000", "Yellow"), ("#e030e0", "Magenta"), ("#3050ff", "Blue"))


def load_inpaint_defaults(qsettings: QSettings) -> InpaintDefaults:
    """The generation settings stored in `qsettings`, read through AppSettings' one clamp."""
    return AppSettings(qsettings).inpaint_defaults()


class SettingsDialog(QDialog):
    engineSettingsChanged = Signal(object)  # EngineSettings, after OK changed them

    def __init__(self, app_settings: AppSettings, qsettings: QSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.app_settings = app_settings
        self.qsettings = qsettings or app_settings.qsettings  # kept for callers; unused here
        # A settings file that cannot be read is said here, with a way out; the form shows
        # the defaults meanwhile, and OK writes them.
        self.problem_label = QLabel(objectName="settingsProblem", wordWrap=True)
        self.reset_button = QPushButton("Reset to Defaults", objectName="settingsResetButton")
        self.reset_button.setToolTip(f"Start again from the defaults; the file that was there "
                                     f"is kept as {settings_file().name}.broken")
        self.reset_button.clicked.connect(self._reset_engine_settings)
        self.engine_settings = self._read_engine_settings()

        self.models_dir_edit = QLineEdit(objectName="modelsDirEdit")
        self.models_dir_edit.setPlaceholderText(str(models_dir(EngineSettings())))
        browse = QPushButton("Browse…", objectName="modelsDirBrowse")
        browse.clicked.connect(self._browse_models_dir)
        self.device_combo = choices_combo("deviceCombo", DEVICE_CHOICES)
        self.device_combo.setEditable(True)  # any torch device name, e.g. cuda:2
        self.precision_combo = choices_combo("precisionCombo", PRECISION_CHOICES)
        self.memory_combo = choices_combo("memoryCombo", MEMORY_CHOICES)
        self.offline_check = QCheckBox(OFFLINE_LABEL, objectName="offlineCheck")
        self.steps_spin = QSpinBox(objectName="stepsSpin")
        self.guidance_spin = QDoubleSpinBox(objectName="guidanceSpin", singleStep=0.5, decimals=1)
        self.grow_spin = QDoubleSpinBox(objectName="growSpin", singleStep=0.5, decimals=1,
                                        suffix=" % of object")
        self.grow_min_spin = QSpinBox(objectName="growMinSpin", suffix=" px")
        self.feather_spin = QSpinBox(objectName="featherSpin", suffix=" px")
        self.overlay_colour_combo = choices_combo("overlayColourCombo", OVERLAY_COLOURS)
        self.overlay_opacity_spin = QSpinBox(objectName="overlayOpacitySpin", suffix=" %")
        set_range(self.overlay_opacity_spin, AppSettings.overlay_opacity, 100)
        self.overlay_outline_check = QCheckBox("Outline the mask's edge",
                                               objectName="overlayOutlineCheck")
        self.overlay_colour_combo.setToolTip("The mask's tint; pick one the object is not")
        for spin, name, scale in ((self.steps_spin, "steps", 1), (self.guidance_spin, "guidance", 1),
                                  (self.grow_spin, "grow_fraction", GROW_PERCENT),
                                  (self.grow_min_spin, "grow_min_px", 1),
                                  (self.feather_spin, "feather_px", 1)):
            set_range(spin, getattr(AppSettings, name), scale)
        self.inpainter_combo = choices_combo("inpainterCombo",
                                             inpainter_choices(self.engine_settings))
        self.inpaint_hint = QLabel("Steps and guidance apply to Stable Diffusion only.",
                                   objectName="inpaintHint")
        self.inpainter_combo.currentIndexChanged.connect(self._show_inpainter_fields)
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
        form.addRow("", self.inpaint_hint)
        form.addRow("Grow mask by", self.grow_spin)
        form.addRow("Grow at least", self.grow_min_spin)
        form.addRow("Feather mask edge", self.feather_spin)
        form.addRow("Mask colour", self.overlay_colour_combo)
        form.addRow("Mask opacity", self.overlay_opacity_spin)
        form.addRow("", self.overlay_outline_check)
        form.addRow(self.problem_label)
        form.addRow("", self.reset_button)
        form.addRow(buttons)
        self._show_values()

    def _show_values(self) -> None:
        engine = self.engine_settings
        self.models_dir_edit.setText(str(engine.models_dir) if engine.models_dir else "")
        _select(self.device_combo, engine.device)
        _select(self.precision_combo, engine.precision)
        _select(self.memory_combo, engine.memory_profile)
        self._show_offline(engine.offline)
        settings = self.app_settings
        self.steps_spin.setValue(settings.steps)
        self.guidance_spin.setValue(settings.guidance)
        mask = settings.mask_settings
        self.grow_spin.setValue(mask.grow_fraction * GROW_PERCENT)
        self.grow_min_spin.setValue(mask.grow_min_px)
        self.feather_spin.setValue(mask.feather_px)
        _select(self.inpainter_combo, self.app_settings.inpainter)
        self._show_inpainter_fields()
        _select(self.overlay_colour_combo, settings.overlay_colour)
        self.overlay_opacity_spin.setValue(round(settings.overlay_opacity * 100))
        self.overlay_outline_check.setChecked(settings.overlay_outline)

    def _show_offline(self, offline: bool) -> None:
        """The setting, unless the environment forces offline mode: then checked and locked."""
        variable = offline_from_environment()
        self.offline_check.setEnabled(variable is None)
        self.offline_check.setChecked(offline or variable is not None)
        if variable is not None:
            self.offline_check.setText(f"{OFFLINE_LABEL}: on, because {variable} is set "
                                       "in the environment")
            self.offline_check.setToolTip(
                f"{variable} is set in the environment, which turns offline mode on whatever "
                "this setting says. Unset it and start PaintNoise again to download models.")

    def _show_inpainter_fields(self) -> None:
        diffusion = uses_diffusion(self.inpainter_combo.currentData())
        self.steps_spin.setEnabled(diffusion)
        self.guidance_spin.setEnabled(diffusion)
        self.inpaint_hint.setVisible(not diffusion)

    def chosen_engine_settings(self) -> EngineSettings:
        """The engine settings as the form shows them (model paths kept as they were)."""
        folder = self.models_dir_edit.text().strip()
        return replace(
            self.engine_settings,
            models_dir=Path(folder).expanduser() if folder else None,
            device=self._chosen_device(),
            precision=self.precision_combo.currentData(),
            memory_profile=self.memory_combo.currentData(),
            # a checkbox the environment locked keeps the saved setting underneath
            offline=(self.offline_check.isChecked() if self.offline_check.isEnabled()
                     else self.engine_settings.offline),
        )

    def _chosen_device(self) -> str:
        text = self.device_combo.currentText().strip()
        index = self.device_combo.findText(text)
        return self.device_combo.itemData(index) if index >= 0 else text or "auto"

    def accept(self) -> None:
        chosen = self.chosen_engine_settings()
        # keep model paths added meanwhile (model manager, command line)
        current = self._read_engine_settings()
        chosen = replace(chosen, model_paths=current.model_paths)
        if not self._written(lambda: save_settings(chosen)):
            return  # said in the dialog, which stays open
        self.app_settings.steps = self.steps_spin.value()
        self.app_settings.guidance = self.guidance_spin.value()
        self.app_settings.mask_settings = replace(
            self.app_settings.mask_settings, grow_fraction=self.grow_spin.value() / GROW_PERCENT,
            grow_min_px=self.grow_min_spin.value(), feather_px=self.feather_spin.value())
        self.app_settings.inpainter = self.inpainter_combo.currentData()
        self.app_settings.overlay_colour = self.overlay_colour_combo.currentData()
        self.app_settings.overlay_opacity = self.overlay_opacity_spin.value() / 100
        self.app_settings.overlay_outline = self.overlay_outline_check.isChecked()
        if chosen != self.engine_settings:
            self.engine_settings = chosen
            self.engineSettingsChanged.emit(chosen)
        super().accept()

    def _read_engine_settings(self) -> EngineSettings:
        """The settings file's settings; the defaults, said so, when it cannot be read."""
        try:
            settings = load_settings()
        except PaintNoiseError as error:
            self.problem_label.setText(str(error))
            settings = EngineSettings()
        else:
            self.problem_label.clear()
        self.problem_label.setVisible(bool(self.problem_label.text()))
        self.reset_button.setVisible(bool(self.problem_label.text()))
        return settings

    def _reset_engine_settings(self) -> None:
        if self._written(reset_settings):
            self.engine_settings = self._read_engine_settings()
            self._show_values()

    def _written(self, write: Callable[[], object]) -> bool:
        """Run `write` (of the settings file); False, said in the dialog, when it failed."""
        try:
            write()
        except OSError as error:
            self.problem_label.setText(f"The settings could not be saved to {settings_file()}: "
                                       f"{os_reason(error)}.")
            self.problem_label.show()
            return False
        return True

    def _browse_models_dir(self) -> None:
        start = self.models_dir_edit.text()
        folder = QFileDialog.getExistingDirectory(self, "Models folder", start)
        if folder:
            self.models_dir_edit.setText(folder)


def _select(combo: QComboBox, value: str) -> None:
    index = combo.findData(value)
    if index < 0:  # a value saved by a newer version or typed by hand
        combo.addItem(value, value)
        index = combo.count() - 1
    combo.setCurrentIndex(index)
