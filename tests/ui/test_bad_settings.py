"""No stored setting stops the app: each bad value is replaced (with one log line), an unreadable
settings file is said with its path and can be reset from Settings, which always opens."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from paintnoise_desktop.core.jobs import MaskSettings
from paintnoise_desktop.engine.settings import EngineSettings, load_settings
from paintnoise_desktop.ui import properties
from paintnoise_desktop.ui.main_window import MainWindow
from paintnoise_desktop.ui.mask_panel import GROW_SLIDER_SCALE

DEFAULT = MaskSettings()


@pytest.fixture(autouse=True)
def _nothing_reported_yet(monkeypatch):
    """A bad value is logged once per process: each test starts as a new process would."""
    monkeypatch.setattr(properties, "_reported", set())


@pytest.mark.parametrize(("key", "raw", "name", "expected"), [
    ("mask/grow_fraction", "nan", "grow_fraction", DEFAULT.grow_fraction),
    ("mask/grow_fraction", "inf", "grow_fraction", DEFAULT.grow_fraction),
    ("mask/grow_fraction", "-inf", "grow_fraction", DEFAULT.grow_fraction),
    ("mask/grow_fraction", "1e9", "grow_fraction", 0.3),
    ("mask/grow_fraction", "-1e9", "grow_fraction", 0.0),
    ("mask/grow_min_px", "99999999999", "grow_min_px", 200),
    ("mask/feather_px", "1e20", "feather_px", 100),
    ("mask/feather_px", "a lot", "feather_px", DEFAULT.feather_px),
])
def test_a_bad_stored_mask_value_still_opens_the_window(qtbot, make_window, app_settings,
                                                        caplog, key, raw, name, expected):
    app_settings.qsettings.setValue(key, raw)
    with caplog.at_level(logging.WARNING):
        window = make_window()
        assert getattr(app_settings, name) == expected
    panel = window.mask_panel
    found = panel.found_settings(DEFAULT)
    assert getattr(found, name) == pytest.approx(expected, abs=1 / GROW_SLIDER_SCALE)
    replaced = [r for r in caplog.records if key in r.getMessage()]
    assert len(replaced) == (1 if expected == getattr(DEFAULT, name) else 0)
    window.open_settings().close()


@pytest.fixture
def settings_json(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "settings.json"
    monkeypatch.setenv("PAINTNOISE_SETTINGS", str(path))
    return path


def real_window(qtbot, app_settings, dialogs) -> MainWindow:
    """The window as the app makes it: its engine settings from the settings file."""
    window = MainWindow(app_settings, None, dialogs)
    qtbot.addWidget(window)
    window.show()
    return window


@pytest.mark.parametrize("models_dir", [123, True, [1, 2], {"a": 1}])
def test_a_models_folder_of_the_wrong_type_is_replaced_by_the_default(
        qtbot, app_settings, dialogs, settings_json, caplog, models_dir):
    settings_json.write_text(json.dumps({"models_dir": models_dir, "device": "cpu"}))
    with caplog.at_level(logging.WARNING):
        window = real_window(qtbot, app_settings, dialogs)
    assert window.bridge.settings == EngineSettings(device="cpu")
    assert not window.error_box.isVisible()
    assert sum("models_dir" in record.getMessage() for record in caplog.records) == 1
    assert window.close()


def test_a_garbage_settings_file_is_said_and_reset_from_settings(qtbot, app_settings, dialogs,
                                                                 settings_json):
    settings_json.write_text("\x00garbage{")
    window = real_window(qtbot, app_settings, dialogs)
    qtbot.waitUntil(window.error_box.isVisible)
    assert str(settings_json) in window.error_box.text()

    dialog = window.open_settings()
    assert dialog.isVisible()
    assert str(settings_json) in dialog.problem_label.text()
    assert dialog.problem_label.isVisible() and dialog.reset_button.isVisible()
    qtbot.mouseClick(dialog.reset_button, Qt.LeftButton)
    assert load_settings() == EngineSettings()
    assert settings_json.with_name("settings.json.broken").read_text() == "\x00garbage{"
    assert not dialog.problem_label.isVisible() and not dialog.reset_button.isVisible()
    dialog.accept()
    assert window.close()


def test_the_app_itself_starts_with_every_bad_value_at_once(tmp_path):
    """The real start-up, in a process of its own (the reported aborts were at start)."""
    config = tmp_path / "config"
    (config / "PaintNoise").mkdir(parents=True)
    (config / "PaintNoise" / "PaintNoise Desktop.conf").write_text(
        "[mask]\ngrow_fraction=nan\ngrow_min_px=99999999999\nfeather_px=1e20\n")
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"models_dir": 123, "offline": "yes", "precision": None}))
    environment = {**os.environ, "XDG_CONFIG_HOME": str(config), "QT_QPA_PLATFORM": "offscreen",
                   "PAINTNOISE_SETTINGS": str(settings), "PAINTNOISE_QUIT_AFTER_MS": "1500"}
    run = subprocess.run([sys.executable, "-m", "paintnoise_desktop"], env=environment,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert "PAINTNOISE_QUIT_AFTER_MS: closing" in run.stderr


def test_settings_that_cannot_be_written_are_said_and_the_dialog_stays(qtbot, app_settings,
                                                                       dialogs, tmp_path,
                                                                       monkeypatch):
    blocked = tmp_path / "a file" / "settings.json"  # its folder is a file
    (tmp_path / "a file").write_text("not a folder")
    monkeypatch.setenv("PAINTNOISE_SETTINGS", str(blocked))
    window = real_window(qtbot, app_settings, dialogs)
    dialog = window.open_settings()
    dialog.accept()
    assert dialog.isVisible()
    assert dialog.problem_label.text().startswith(f"The settings could not be saved to {blocked}")
    dialog.reject()
    assert window.close()
