"""The settings dialog reads and writes the shared engine settings file and QSettings."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from paintnoise_desktop.engine.settings import (
    EngineSettings,
    load_settings,
    save_settings,
    with_model_path,
)
from paintnoise_desktop.ui.settings_dialog import SettingsDialog, load_inpaint_defaults


@pytest.fixture
def settings_file(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "engine-settings.json"
    monkeypatch.setenv("PAINTNOISE_SETTINGS", str(path))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # the tests' own setting would lock it
    return path


@pytest.fixture
def qsettings(app_settings) -> QSettings:
    """The window's store: the dialog's editing defaults are AppSettings' own properties."""
    return app_settings.qsettings


def test_the_dialog_shows_what_was_saved(qtbot, settings_file, app_settings, qsettings, tmp_path):
    save_settings(EngineSettings(device="cuda:1", precision="bf16", memory_profile="low",
                                 offline=True, models_dir=tmp_path / "m"))
    app_settings.inpainter = "sd15-inpainting"
    qsettings.setValue("inpaint/steps", 40)

    dialog = SettingsDialog(app_settings, qsettings)
    qtbot.addWidget(dialog)

    assert dialog.models_dir_edit.text() == str(tmp_path / "m")
    assert dialog.device_combo.currentText() == "cuda:1"
    assert dialog.precision_combo.currentData() == "bf16"
    assert dialog.memory_combo.currentData() == "low"
    assert dialog.offline_check.isChecked()
    assert dialog.inpainter_combo.currentData() == "sd15-inpainting"
    assert dialog.steps_spin.value() == 40
    assert dialog.guidance_spin.value() == 7.5
    assert dialog.grow_spin.value() == pytest.approx(app_settings.mask_settings.grow_fraction * 100)


def test_ok_saves_engine_settings_and_editing_defaults(qtbot, settings_file, app_settings,
                                                       qsettings, tmp_path):
    dialog = SettingsDialog(app_settings, qsettings)
    qtbot.addWidget(dialog)
    dialog.models_dir_edit.setText(str(tmp_path / "big-disk"))
    dialog.device_combo.setCurrentText("cpu")
    dialog.precision_combo.setCurrentIndex(dialog.precision_combo.findData("fp32"))
    dialog.memory_combo.setCurrentIndex(dialog.memory_combo.findData("offload"))
    dialog.offline_check.setChecked(True)
    dialog.steps_spin.setValue(30)
    dialog.guidance_spin.setValue(5.5)
    dialog.grow_spin.setValue(10.0)
    dialog.feather_spin.setValue(12)
    dialog.inpainter_combo.setCurrentIndex(dialog.inpainter_combo.findData("sd2-inpainting"))
    # meanwhile `paintnoise models add` stored a path: OK must not lose it
    save_settings(with_model_path(load_settings(), "sam-vit-h", tmp_path / "sam.pth"))

    with qtbot.waitSignal(dialog.engineSettingsChanged) as changed:
        dialog.accept()

    saved = load_settings()
    assert changed.args[0] == saved
    assert saved == EngineSettings(device="cpu", precision="fp32", memory_profile="offload",
                                   offline=True, models_dir=tmp_path / "big-disk",
                                   model_paths={"sam-vit-h": str(tmp_path / "sam.pth")})
    assert load_inpaint_defaults(qsettings).steps == 30
    assert load_inpaint_defaults(qsettings).guidance == 5.5
    assert app_settings.mask_settings.grow_fraction == pytest.approx(0.10)
    assert app_settings.mask_settings.feather_px == 12
    assert app_settings.inpainter == "sd2-inpainting"


def test_ranges_come_from_the_settings_and_ok_announces_the_change(qtbot, settings_file,
                                                                   app_settings):
    dialog = SettingsDialog(app_settings)
    qtbot.addWidget(dialog)
    assert (dialog.steps_spin.minimum(), dialog.steps_spin.maximum()) == (1, 150)
    assert dialog.grow_spin.maximum() == pytest.approx(30.0)  # the mask panel's range too
    assert dialog.feather_spin.maximum() == 100
    dialog.steps_spin.setValue(33)
    with qtbot.waitSignal(app_settings.steps_changed) as changed:
        dialog.accept()
    assert changed.args == [33]


def test_cancel_changes_nothing(qtbot, settings_file, app_settings, qsettings):
    dialog = SettingsDialog(app_settings, qsettings)
    qtbot.addWidget(dialog)
    dialog.offline_check.setChecked(True)
    dialog.reject()
    assert not settings_file.exists()
    assert load_settings() == EngineSettings()


def test_offline_forced_by_the_environment_shows_checked_locked_and_why(
        qtbot, settings_file, app_settings, qsettings, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    dialog = SettingsDialog(app_settings, qsettings)
    qtbot.addWidget(dialog)

    assert dialog.offline_check.isChecked() and not dialog.offline_check.isEnabled()
    assert "HF_HUB_OFFLINE=1 is set in the environment" in dialog.offline_check.text()
    assert "HF_HUB_OFFLINE=1" in dialog.offline_check.toolTip()
    dialog.accept()
    assert load_settings().offline is False  # the saved setting is not overwritten


def test_the_device_box_says_automatic_and_keeps_typed_devices(qtbot, settings_file, app_settings,
                                                               qsettings):
    dialog = SettingsDialog(app_settings, qsettings)
    qtbot.addWidget(dialog)
    assert dialog.device_combo.currentText() == "Automatic"
    assert dialog.chosen_engine_settings().device == "auto"

    dialog.device_combo.setCurrentText("cuda:2")
    assert dialog.chosen_engine_settings().device == "cuda:2"


def test_steps_and_guidance_are_off_for_opencv_inpainters(qtbot, settings_file, app_settings,
                                                          qsettings):
    app_settings.inpainter = "opencv-telea"
    dialog = SettingsDialog(app_settings, qsettings)
    qtbot.addWidget(dialog)
    assert not dialog.steps_spin.isEnabled() and not dialog.guidance_spin.isEnabled()
    assert not dialog.inpaint_hint.isHidden()

    dialog.inpainter_combo.setCurrentIndex(dialog.inpainter_combo.findData("sd2-inpainting"))
    assert dialog.steps_spin.isEnabled() and dialog.guidance_spin.isEnabled()
    assert dialog.inpaint_hint.isHidden()


def test_the_grow_minimum_reads_as_a_phrase(qtbot, settings_file, app_settings, qsettings):
    dialog = SettingsDialog(app_settings, qsettings)
    qtbot.addWidget(dialog)
    assert dialog.layout().labelForField(dialog.grow_min_spin).text() == "Grow at least"


def test_the_inpainter_list_marks_installed_models(qtbot, settings_file, app_settings, qsettings,
                                                   tmp_path, monkeypatch):
    models = tmp_path / "models"
    (models / "sd2-inpainting").mkdir(parents=True)
    (models / "sd2-inpainting" / "model_index.json").write_text("{}")
    monkeypatch.setenv("PAINTNOISE_MODELS_DIR", str(models))
    dialog = SettingsDialog(app_settings, qsettings)
    qtbot.addWidget(dialog)
    combo = dialog.inpainter_combo

    assert combo.itemText(combo.findData("sd2-inpainting")).endswith(" (installed)")
    assert combo.itemText(combo.findData("sd15-inpainting")).endswith(" (not installed)")
    assert combo.itemText(combo.findData("opencv-telea")) == "OpenCV Telea (no model)"


def test_an_automatic_inpainter_setting_is_shown_and_kept(qtbot, settings_file, app_settings,
                                                          qsettings):
    app_settings.inpainter = "auto"
    dialog = SettingsDialog(app_settings, qsettings)
    qtbot.addWidget(dialog)
    assert dialog.inpainter_combo.currentText() == "Automatic (best installed)"
    assert dialog.steps_spin.isEnabled()
    dialog.accept()
    assert app_settings.inpainter == "auto"
