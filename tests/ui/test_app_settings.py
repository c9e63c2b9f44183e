"""Settings are defined once with their ranges: corrupt stored values never break the window."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QSettings

from paintnoise_desktop.core.jobs import MaskSettings
from paintnoise_desktop.engine.inpaint.replace import MAX_VARIANTS
from paintnoise_desktop.ui.app_settings import (
    DEFAULT_BRUSH_SIZE,
    MAX_BRUSH,
    MAX_SEED,
    AppSettings,
    InpaintDefaults,
)
from paintnoise_desktop.ui.settings_dialog import load_inpaint_defaults

CORRUPT = ["nan", "inf", "-inf", float("nan"), float("inf"), 1e9, -1e9, 99999999999, "banana",
           "", [1, 2], True]


def _stored(tmp_path, key: str, value) -> AppSettings:
    """Settings read back from an INI file that holds `value` under `key`, as a file would."""
    path = str(tmp_path / "corrupt.ini")
    writer = QSettings(path, QSettings.IniFormat)
    writer.setValue(key, value)
    writer.sync()
    return AppSettings(QSettings(path, QSettings.IniFormat))


NUMBERS = {  # setting name -> key, low, high, default
    "brush_size": ("brush/size", 1, MAX_BRUSH, DEFAULT_BRUSH_SIZE),
    "variants": ("inpaint/variants", 1, MAX_VARIANTS, 1),
    "steps": ("inpaint/steps", 1, 150, 25),
    "guidance": ("inpaint/guidance", 1.0, 20.0, 7.5),
    "strength": ("inpaint/strength", 0.05, 1.0, 1.0),
    "grow_fraction": ("mask/grow_fraction", 0.0, 0.3, MaskSettings().grow_fraction),
    "grow_min_px": ("mask/grow_min_px", 0, 200, MaskSettings().grow_min_px),
    "feather_px": ("mask/feather_px", 0, 100, MaskSettings().feather_px),
}


@pytest.mark.parametrize("name", NUMBERS)
@pytest.mark.parametrize("value", CORRUPT)
def test_a_corrupt_number_is_clamped_or_reset(tmp_path, name, value):
    key, low, high, default = NUMBERS[name]
    read = getattr(_stored(tmp_path, key, value), name)
    assert isinstance(read, type(default)) and math.isfinite(read)
    assert low <= read <= high
    if value in (1e9, 99999999999):
        assert read == high
    elif value == -1e9:
        assert read == low
    elif isinstance(value, (str, list, bool)) or math.isnan(value) \
            or math.isinf(value):
        assert read == default


@pytest.mark.parametrize("value", [v for v in CORRUPT if v != 1e9]  # 1e9 is a seed
                         + ["-5", str(MAX_SEED + 1), "12.5"])
def test_a_corrupt_seed_reads_as_random(tmp_path, value):
    assert _stored(tmp_path, "inpaint/seed", value).seed is None
    assert _stored(tmp_path, "inpaint/seed", "1000000000").seed == 10**9


@pytest.mark.parametrize("key, name, default", [
    ("find/mode", "find_mode", "best"), ("inpaint/inpainter", "inpainter", "auto"),
    ("mask/tight", "tight", False)])
@pytest.mark.parametrize("value", CORRUPT)
def test_corrupt_choices_reset_to_their_default(tmp_path, key, name, default, value):
    read = getattr(_stored(tmp_path, key, value), name)
    if name == "inpainter" and isinstance(value, str) and value.strip():
        assert read == value  # a model id saved by a newer version is kept
    elif name == "tight" and value is True:
        assert read is True
    else:
        assert read == default


def test_corrupt_recent_files_and_window_state_read_as_none(tmp_path):
    settings = _stored(tmp_path, "recent/files", 12)
    assert settings.recent_files() == []
    settings.qsettings.setValue("window/geometry", "nonsense")
    assert settings.window_geometry() is None


def test_setting_clamps_and_announces_once(qtbot, app_settings):
    with qtbot.waitSignal(app_settings.variants_changed) as changed:
        app_settings.variants = 99
    assert changed.args == [MAX_VARIANTS] and app_settings.variants == MAX_VARIANTS
    with qtbot.assertNotEmitted(app_settings.variants_changed):
        app_settings.variants = MAX_VARIANTS + 5  # clamps to what it is already
    app_settings.brush_size = 0
    assert app_settings.brush_size == 1
    with pytest.raises(ValueError):
        app_settings.steps = float("nan")
    assert app_settings.steps == 25


def test_values_survive_a_restart(tmp_path):
    path = str(tmp_path / "s.ini")
    first = AppSettings(QSettings(path, QSettings.IniFormat))
    first.steps, first.guidance, first.seed, first.negative_prompt = 40, 5.5, 1234, "blurry"
    first.find_mode, first.tight = "all", True
    first.sync()
    second = AppSettings(QSettings(path, QSettings.IniFormat))
    assert (second.steps, second.guidance, second.seed, second.negative_prompt) == (
        40, 5.5, 1234, "blurry")
    assert second.find_mode == "all" and second.tight is True
    second.seed = None
    second.sync()
    assert AppSettings(QSettings(path, QSettings.IniFormat)).seed is None


def test_mask_settings_change_together_with_one_signal(qtbot, app_settings):
    wanted = MaskSettings(grow_fraction=0.1, grow_min_px=9, feather_px=30)
    seen = []
    app_settings.mask_settings_changed.connect(seen.append)
    app_settings.mask_settings = wanted
    assert app_settings.mask_settings == wanted and seen == [wanted]
    app_settings.feather_px = 3
    assert seen[1:] == [MaskSettings(grow_fraction=0.1, grow_min_px=9, feather_px=3)]
    app_settings.mask_settings = app_settings.mask_settings
    assert len(seen) == 2


def test_load_inpaint_defaults_reads_the_one_source(app_settings):
    assert load_inpaint_defaults(app_settings.qsettings) == InpaintDefaults()
    app_settings.steps, app_settings.strength, app_settings.seed = 12, 0.5, 7
    defaults = load_inpaint_defaults(app_settings.qsettings)
    assert (defaults.steps, defaults.strength, defaults.seed) == (12, 0.5, 7)
    assert defaults == app_settings.inpaint_defaults()
    app_settings.reset_generation()
    assert app_settings.inpaint_defaults() == InpaintDefaults()
