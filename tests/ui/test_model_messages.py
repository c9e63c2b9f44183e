"""Messages that send the user to a menu or a setting name them as the window spells them."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMainWindow, QMenuBar

from paintnoise_desktop.core.errors import ModelMissingError
from paintnoise_desktop.engine.models.download import OFFLINE_SETTING
from paintnoise_desktop.engine.models.needs import missing_models_error
from paintnoise_desktop.engine.models.registry import require_model
from paintnoise_desktop.engine.settings import EngineSettings
from paintnoise_desktop.ui.settings_dialog import OFFLINE_LABEL
from paintnoise_desktop.ui.window_actions import WindowActions


@pytest.fixture
def menus(qtbot) -> dict[str, list[str]]:
    window = QMainWindow()
    qtbot.addWidget(window)
    WindowActions(window).build_menus(window)
    return _menu_paths(window.menuBar())


def _menu_paths(bar: QMenuBar) -> dict[str, list[str]]:
    """Each top menu's action texts as shown (without the & of the shortcut letter)."""
    return {top.text().replace("&", ""): [act.text().replace("&", "") for act in top.menu().actions()]
            for top in bar.actions() if top.menu() is not None}


def test_a_missing_model_names_the_model_manager_as_the_menu_shows_it(menus, tmp_path):
    with pytest.raises(ModelMissingError) as raised:
        require_model("sam-vit-b", EngineSettings(models_dir=tmp_path))

    message = str(raised.value)
    assert message.endswith("paintnoise models download sam-vit-b.")
    path = message.split("Download it from ")[1].split(", or run")[0]
    menu, action = path.split(" > ")
    assert action in menus[menu]


def test_an_action_lacking_models_names_the_model_manager_as_the_menu_shows_it(menus, tmp_path):
    error = missing_models_error(("Finding \u201ccup\u201d",), ("sam-vit-b", "clip-vit-base-patch32"),
                                 EngineSettings(models_dir=tmp_path))
    path = str(error).split("download them from ")[1].split(", or run")[0]
    menu, action = path.split(" > ")
    assert action in menus[menu]


def test_the_offline_setting_names_the_real_menu_and_checkbox(menus):
    menu, action, checkbox = OFFLINE_SETTING.split(" > ")
    assert action in menus[menu]
    assert OFFLINE_LABEL.startswith(checkbox)
