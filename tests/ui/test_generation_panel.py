"""The generation panel shows the one set of generation settings, both ways."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from paintnoise_desktop.engine.inpaint.replace import MAX_VARIANTS
from paintnoise_desktop.ui.app_settings import MAX_SEED, AppSettings, InpaintDefaults
from paintnoise_desktop.ui.generation_panel import GenerationPanel
from paintnoise_desktop.ui.settings_dialog import SettingsDialog


@pytest.fixture
def panel(qtbot, app_settings) -> GenerationPanel:
    widget = GenerationPanel(app_settings)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_controls_take_their_ranges_and_values_from_the_settings(panel, app_settings):
    assert panel.variants_spin.maximum() == MAX_VARIANTS
    assert (panel.steps_spin.minimum(), panel.steps_spin.maximum()) == (1, 150)
    assert panel.strength_spin.maximum() == pytest.approx(1.0)
    assert panel.steps_spin.value() == InpaintDefaults().steps
    assert panel.seed_edit.text() == "" and panel.seed_edit.placeholderText() == "random"
    assert panel.inpainter_combo.currentData() == app_settings.inpainter


def test_editing_a_control_sets_the_setting(qtbot, panel, app_settings):
    panel.steps_spin.setValue(40)
    panel.guidance_spin.setValue(4.5)
    panel.variants_spin.setValue(3)
    panel.inpainter_combo.setCurrentIndex(panel.inpainter_combo.findData("sd15-inpainting"))
    panel.negative_edit.setText("blurry")
    panel.negative_edit.editingFinished.emit()
    qtbot.keyClicks(panel.seed_edit, "1234")
    qtbot.keyClick(panel.seed_edit, Qt.Key_Return)
    assert (app_settings.steps, app_settings.guidance, app_settings.variants) == (40, 4.5, 3)
    assert app_settings.inpainter == "sd15-inpainting"
    assert (app_settings.negative_prompt, app_settings.seed) == ("blurry", 1234)
    panel.seed_edit.clear()
    panel.seed_edit.editingFinished.emit()
    assert app_settings.seed is None


def test_a_seed_beyond_the_range_cannot_be_typed(qtbot, panel, app_settings):
    qtbot.keyClicks(panel.seed_edit, str(MAX_SEED * 10))
    qtbot.keyClick(panel.seed_edit, Qt.Key_Return)
    assert app_settings.seed is None or app_settings.seed <= MAX_SEED


def test_a_change_elsewhere_shows_here_and_in_a_second_view(qtbot, panel, app_settings):
    other = GenerationPanel(app_settings)
    qtbot.addWidget(other)
    app_settings.steps = 12
    app_settings.seed = 99
    assert panel.steps_spin.value() == 12 and other.steps_spin.value() == 12
    assert panel.seed_edit.text() == "99"
    other.variants_spin.setValue(5)
    assert panel.variants_spin.value() == 5
    panel.reset_button.click()
    assert other.steps_spin.value() == InpaintDefaults().steps and other.seed_edit.text() == ""


def test_the_settings_dialog_shows_the_same_properties(qtbot, panel, app_settings, tmp_path,
                                                       monkeypatch):
    monkeypatch.setenv("PAINTNOISE_SETTINGS", str(tmp_path / "engine.json"))
    dialog = SettingsDialog(app_settings)
    qtbot.addWidget(dialog)
    dialog.steps_spin.setValue(44)
    dialog.inpainter_combo.setCurrentIndex(dialog.inpainter_combo.findData("opencv-ns"))
    dialog.accept()
    assert panel.steps_spin.value() == 44
    assert panel.inpainter_combo.currentData() == "opencv-ns"
    assert not panel.steps_spin.isEnabled() and not panel.hint.isHidden()  # OpenCV: no steps


def test_the_panel_folds_and_remembers_it(qtbot, panel, app_settings):
    assert not panel.expanded and not panel.body.isVisible()
    panel.toggle.click()
    assert panel.expanded and panel.body.isVisible()
    assert app_settings.generation_panel_open
    again = GenerationPanel(AppSettings(app_settings.qsettings))
    qtbot.addWidget(again)
    assert again.expanded


def test_a_closed_panel_leaves_no_slot_behind(qtbot, app_settings):
    widget = GenerationPanel(app_settings)
    widget.deleteLater()
    qtbot.wait(10)
    app_settings.steps = 77  # would raise on a deleted widget
    assert app_settings.steps == 77


def test_the_header_sums_the_settings_up_rather_than_repeating_the_docks_title(
        qtbot, panel, app_settings):
    assert panel.toggle.text() == "Automatic \u00b7 \u00d71"
    app_settings.variants = 3
    app_settings.seed = 42
    app_settings.inpainter = "opencv-ns"
    assert panel.toggle.text() == "OpenCV Navier-Stokes \u00b7 \u00d73 \u00b7 seed 42"


def test_the_generation_dock_shows_its_title_once(qtbot, make_window):
    window = make_window()
    assert window.generation_dock.windowTitle() == "Generation"
    assert "Generation" not in window.generation_panel.toggle.text()


def test_the_wheel_over_a_field_not_being_edited_scrolls_the_panel_not_the_value(
        qtbot, panel, app_settings):
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    panel.set_expanded(True)
    panel.resize(300, 160)  # shorter than the form: the panel scrolls
    qtbot.waitUntil(lambda: panel.scroll.verticalScrollBar().maximum() > 0)
    bar = panel.scroll.verticalScrollBar()
    spin = panel.strength_spin

    def wheel_down(widget) -> None:
        centre = QPointF(widget.rect().center())
        event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0),
                            QPoint(0, -120), Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
        QApplication.sendEvent(widget, event)

    before = app_settings.strength
    wheel_down(spin)
    assert app_settings.strength == before and bar.value() > 0
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    wheel_down(spin)
    assert app_settings.strength < before  # a field being edited takes the wheel
