"""Mask handling in the window: a candidate pointed at is previewed, Shift+Enter adds a Find
to the mask, the tint's colour, opacity and outline, Zoom to Mask, Save and Load Mask."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtWidgets import QApplication

from paintnoise_desktop.core import masks

from .test_main_window import (
    WAIT_MS,
    KnownAnswerEngine,
    open_synthetic,
    square,
    wait_for_step,
)

W, H = 128, 96
CANDIDATES = (replace(square(4, 4, 10), score=0.7), replace(square(40, 20, 12), score=0.2))


def pixel(window, x: float, y: float):
    """The colour the canvas shows at photo point (x, y)."""
    window.canvas.flush()
    point = window.canvas.widget_point_of(QPointF(x, y)).toPoint()
    return window.canvas.grab().toImage().pixelColor(point)


def opaque(window) -> int:
    """How many widget pixels along row y = 18 of the photo, across the mask's left edge
    (x = 8), show the tint colour at full strength."""
    window.canvas.flush()
    shown = window.canvas.grab().toImage()
    edge = window.canvas.widget_point_of(QPointF(8, 18))
    colours = [shown.pixelColor(int(edge.x()) + dx, int(edge.y())) for dx in range(-4, 5)]
    return sum((c.red(), c.green(), c.blue()) == (0x20, 0xc8, 0xff) for c in colours)


def find(qtbot, window, text: str, modifier=Qt.NoModifier) -> None:
    window.prompt_bar.find_edit.setText(text)
    qtbot.keyClick(window.prompt_bar.find_edit, Qt.Key_Return, modifier)


def found(qtbot, make_window, app_settings, tmp_path):
    app_settings.tight = True
    window = make_window(engine_factory=lambda settings: KnownAnswerEngine(CANDIDATES))
    document = open_synthetic(qtbot, window, tmp_path, W, H)
    find(qtbot, window, "square")
    wait_for_step(qtbot, window, "Find: square", 1)
    return window, document


def test_pointing_at_a_candidate_previews_its_mask(qtbot, make_window, app_settings, tmp_path):
    window, document = found(qtbot, make_window, app_settings, tmp_path)
    window.candidate_dock.raise_()
    app_settings.overlay_opacity = 1.0
    tint = pixel(window, 18, 18)  # the found (first) candidate is tinted ...
    plain = pixel(window, 100, 60)  # ... the second's place not
    assert (tint.red(), tint.green()) == (255, 32) and plain != tint
    listed = window.candidate_panel.list
    listed.itemEntered.emit(listed.item(1))  # what the list says when the pointer enters it
    assert window.session.previewed_candidate == 1
    assert pixel(window, 100, 60) == tint and pixel(window, 18, 18) != tint
    assert np.array_equal(document.mask, masks.mask_from_candidates(
        [CANDIDATES[0].mask], W, H, app_settings.mask_settings))  # nothing applied
    QApplication.sendEvent(listed.viewport(), QEvent(QEvent.Leave))
    assert window.session.previewed_candidate == -1
    assert pixel(window, 18, 18) == tint and pixel(window, 100, 60) != tint
    window.session.preview_candidate(1)
    window.session.undo()  # any change of the document ends the preview
    assert window.session.previewed_candidate == -1


def test_shift_enter_adds_the_find_to_the_mask(qtbot, make_window, app_settings, tmp_path):
    window, document = found(qtbot, make_window, app_settings, tmp_path)
    first = document.mask.copy()
    brushed = np.zeros_like(first)
    brushed[70:90, 100:120] = 255
    window.session.set_mask("Brush", brushed)
    find(qtbot, window, "square", Qt.ShiftModifier)
    wait_for_step(qtbot, window, "Add find: square", 3)
    assert np.array_equal(document.mask, np.maximum(brushed, first))
    find(qtbot, window, "square")  # plain Enter replaces
    wait_for_step(qtbot, window, "Find: square", 4)
    assert np.array_equal(document.mask, first)


def test_overlay_colour_opacity_and_outline(qtbot, make_window, app_settings, tmp_path):
    window, _document = found(qtbot, make_window, app_settings, tmp_path)
    app_settings.overlay_colour = "#20c8ff"
    app_settings.overlay_opacity = 1.0
    inside = pixel(window, 18, 18)
    assert (inside.red(), inside.green(), inside.blue()) == (0x20, 0xc8, 0xff)
    app_settings.overlay_opacity = 0.2
    faint = pixel(window, 18, 18)
    assert faint != inside and opaque(window) == 0  # no line along the edge yet
    app_settings.overlay_outline = True
    assert opaque(window) > 0
    assert pixel(window, 18, 18) == faint  # inside, only the tint
    with pytest.raises(ValueError):
        app_settings.overlay_colour = "not a colour"
    assert app_settings.overlay_colour == "#20c8ff"


def test_overlay_settings_in_the_settings_dialog(qtbot, make_window, app_settings):
    window = make_window()
    dialog = window.open_settings()
    dialog.overlay_colour_combo.setCurrentIndex(dialog.overlay_colour_combo.findData("#30d040"))
    dialog.overlay_opacity_spin.setValue(70)
    dialog.overlay_outline_check.setChecked(True)
    dialog.accept()
    assert (app_settings.overlay_colour, app_settings.overlay_opacity,
            app_settings.overlay_outline) == ("#30d040", 0.7, True)
    again = window.open_settings()
    assert again.overlay_colour_combo.currentData() == "#30d040"
    assert again.overlay_opacity_spin.value() == 70 and again.overlay_outline_check.isChecked()
    again.reject()


def test_zoom_to_mask(qtbot, make_window, app_settings, tmp_path):
    window, _document = found(qtbot, make_window, app_settings, tmp_path)
    canvas = window.canvas
    fit = canvas.zoom
    window.commands.zoom_to_mask.trigger()
    assert canvas.zoom > 3 * fit
    centre = canvas.widget_point_of(QPointF(18, 18))  # the mask's centre
    assert abs(centre.x() - canvas.width() / 2) < 1 and abs(centre.y() - canvas.height() / 2) < 1
    window.session.set_mask("Clear", np.zeros((H, W), np.uint8))
    window.commands.zoom_to_mask.trigger()
    assert "no mask" in window.statusBar().currentMessage()


def test_save_and_load_mask(qtbot, make_window, app_settings, dialogs, tmp_path):
    window, document = found(qtbot, make_window, app_settings, tmp_path)
    path = tmp_path / "saved-mask.png"
    dialogs.mask_save_answers.append(str(path))
    with qtbot.waitSignal(window.mask_files.saved, timeout=WAIT_MS) as saved:
        window.commands.save_mask.trigger()
    assert saved.args == [True]
    assert dialogs.save_suggestions[-1].endswith("photo-mask.png")
    with Image.open(path) as image:
        assert image.mode == "L" and np.array_equal(np.asarray(image), document.mask)

    other = np.zeros((H, W), np.uint8)
    other[50:90, 60:120] = 255
    other_path = tmp_path / "other.png"
    Image.fromarray(other).convert("RGB").save(other_path)  # any mode loads
    steps = document.history.index
    dialogs.mask_open_answers.append(str(other_path))
    with qtbot.waitSignal(window.mask_files.loaded, timeout=WAIT_MS) as loaded:
        window.commands.load_mask.trigger()
    assert loaded.args == [True]
    assert np.array_equal(document.mask, other)
    assert document.history.index == steps + 1
    assert document.history.names[-1] == "Load mask: other.png"
    window.session.undo()
    with Image.open(path) as image:
        assert np.array_equal(document.mask, np.asarray(image))

    small = tmp_path / "small.png"
    Image.new("L", (W // 2, H // 2), 255).save(small)
    dialogs.mask_open_answers.append(str(small))
    with qtbot.waitSignal(window.mask_files.loaded, timeout=WAIT_MS) as loaded:
        window.commands.load_mask.trigger()
    assert loaded.args == [False]
    assert f"{W // 2} x {H // 2}" in window.error_box.text()
    assert document.history.index == steps


def test_a_mask_must_be_saved_as_png(qtbot, make_window, app_settings, dialogs, tmp_path):
    window, _document = found(qtbot, make_window, app_settings, tmp_path)
    dialogs.mask_save_answers.append(str(tmp_path / "mask.jpg"))
    assert not window.mask_files.save_dialog()
    assert "PNG" in window.error_box.text()
    assert not (tmp_path / "mask.jpg").exists()
