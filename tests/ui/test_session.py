"""The editing session: what the canvas shows is always the document, unless an override is
on, and every change of the document (an edit, undo, redo, another photo) clears it."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication

from paintnoise_desktop.core.document import Document
from paintnoise_desktop.ui.spare_arrays import SpareArrays

from .conftest import COLOURS, YELLOW, photo
from .test_main_window import WAIT_MS, open_photo, saved


def shown_colour(window) -> tuple[int, int, int]:
    """The photo's colour the canvas shows at the middle of the square, as painted on screen
    (with the mask's tint, shown again after an undo, taken off for the moment)."""
    canvas = window.canvas
    point = canvas.widget_rect_of((79, 59, 81, 61)).center()
    tinted = canvas.overlay_visible
    canvas.set_overlay_visible(False)
    colour = canvas.grab().toImage().pixelColor(point)
    canvas.set_overlay_visible(tinted)
    return colour.red(), colour.green(), colour.blue()


def close_to(colour, expected) -> bool:
    return all(abs(a - b) <= 12 for a, b in zip(colour, expected, strict=True))


def click_variant(qtbot, window, row: int) -> None:
    listed = window.variants_panel.list
    qtbot.mouseClick(listed.viewport(), Qt.LeftButton,
                     pos=listed.visualItemRect(listed.item(row)).center())


def test_undo_after_choosing_a_variant_shows_and_saves_the_undone_photo(
        qtbot, painted, dialogs, tmp_path):
    """Replace x3, click the 2nd variant, move the mouse off the strip, Ctrl+Z."""
    window, _engine = painted
    document = window.document
    assert close_to(shown_colour(window), COLOURS[0])
    click_variant(qtbot, window, 1)
    assert close_to(shown_colour(window), COLOURS[1])
    QApplication.sendEvent(window.variants_panel.list.viewport(), QEvent(QEvent.Leave))
    assert close_to(shown_colour(window), COLOURS[1])
    assert document.history.names == ["Square", "Replace with: a silver fork"]

    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    assert document.history.index == 1 and "*" not in window.windowTitle()
    assert window.session.display_image is None
    assert close_to(shown_colour(window), YELLOW)  # the canvas shows the undone photo

    target = tmp_path / "saved.png"
    dialogs.save_answers = [str(target)]
    assert saved(qtbot, window, window.files.save_as)
    written = Document.open(target).rgb
    assert np.array_equal(written, document.rgb)
    assert close_to(tuple(int(v) for v in written[60, 80]), shown_colour(window))


def test_undoing_a_replace_shows_the_mask_it_painted_through_again(qtbot, painted):
    window, _engine = painted
    assert not window.canvas.overlay_visible  # hidden to show what was painted
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    assert window.document.history.names[window.document.history.index - 1] == "Square"
    assert window.canvas.overlay_visible and window.commands.toggle_overlay.isChecked()
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)  # redo: the painting
    assert window.document.history.index == 2


@pytest.mark.parametrize("override", ["variant preview", "original", "live preview"])
def test_undo_and_redo_clear_every_display_override(qtbot, painted, override):
    window, _engine = painted
    session, document = window.session, window.document
    for move, expected in ((session.undo, YELLOW), (session.redo, COLOURS[0])):
        if override == "variant preview":
            window.variants_panel.previewRequested.emit(2)
            assert close_to(shown_colour(window), COLOURS[2])
        elif override == "original":
            qtbot.keyPress(window, Qt.Key_Backslash)
            assert session.showing_original and close_to(shown_colour(window), YELLOW)
        else:
            session.set_live_preview(np.full((8, 8, 3), (0, 0, 255), np.uint8))
            assert close_to(shown_colour(window), (0, 0, 255))
        move()
        assert session.display_image is None and not session.showing_original
        assert close_to(shown_colour(window), expected)
        assert np.array_equal(document.rgb[60, 80], expected)
        if override == "original":
            qtbot.keyRelease(window, Qt.Key_Backslash)
        session.set_live_preview(None)


def test_an_edit_or_another_photo_clears_the_variant_preview(qtbot, painted, tmp_path):
    window, _engine = painted
    session = window.session
    window.variants_panel.previewRequested.emit(2)
    assert session.display_image is not None
    window.mask_steps.operate("grow", 2)
    qtbot.waitUntil(lambda: not window.mask_steps.busy, timeout=WAIT_MS)
    window.set_overlay_visible(False)  # the grown mask is tinted over the photo
    assert session.display_image is None and close_to(shown_colour(window), COLOURS[0])
    window.variants_panel.previewRequested.emit(1)
    assert session.display_image is not None
    other = tmp_path / "other.png"
    Image.fromarray(photo(64, 48)).save(other)
    assert open_photo(qtbot, window, other)
    assert session.display_image is None and session.replaced is None
    assert not window.variants_panel.isVisible()


def test_choosing_variants_one_after_another_is_one_undo_step(qtbot, painted):
    window, _engine = painted
    document = window.document
    for row in (1, 2, 0, 2):
        click_variant(qtbot, window, row)
        assert np.array_equal(document.rgb[60, 80], COLOURS[row])
    assert document.history.names == ["Square", "Replace with: a silver fork"]
    window.session.undo()
    assert document.history.index == 1
    assert np.array_equal(document.rgb, photo(160, 120))  # as opened, every variant undone
    window.session.redo()
    assert np.array_equal(document.rgb[60, 80], COLOURS[2])


def test_focus_returns_to_the_canvas_once_enter_starts_a_job(qtbot, painted):
    window, engine = painted
    engine.gate.clear()
    bar = window.prompt_bar
    for field, text in ((bar.replace_edit, "a bowl"), (bar.find_edit, "square")):
        field.setFocus()
        qtbot.keyClicks(field, text)
        qtbot.keyClick(field, Qt.Key_Return)
        assert window.canvas.hasFocus()
    qtbot.keyClick(window.canvas, Qt.Key_E)  # a key for the photo, not for the field
    assert window.canvas.tool == "erase" and bar.find_edit.text() == "square"
    window.jobs.cancel(everything=True)
    engine.gate.set()
    qtbot.waitUntil(lambda: not window.jobs.running, timeout=WAIT_MS)


def test_copies_for_workers_are_equal_and_independent_in_spares_and_out():
    """A copy taken into a spare is the array's pixels and shares nothing: neither with the
    document, nor with an earlier copy, nor with the spare made next."""
    spares = SpareArrays()
    big = np.random.default_rng(2).integers(0, 256, (800, 2000, 3), dtype=np.uint8)
    small = big[:10, :10].copy()
    spares.prepare(big, small)
    key = (big.shape, big.dtype.str)
    first_spare = spares._spares[key].result(timeout=30)
    first = spares.copy(big)
    assert first is first_spare  # the spare was used...
    second_spare = spares._spares[key]
    second = spares.copy(big)  # ...and the next one may still be being made
    third_spare = spares._spares[key].result(timeout=30)
    assert second_spare.result(timeout=30) is not first
    third = spares.copy(big)
    assert third is third_spare
    copies = (first, second, third, spares.copy(small))
    assert (small.shape, small.dtype.str) not in spares._spares  # small: a plain copy
    before = big.copy()
    big[:] = 7
    for copy, source in zip(copies, (before, before, before, small), strict=True):
        assert not np.shares_memory(copy, big)
        assert np.array_equal(copy, source[: copy.shape[0], : copy.shape[1]])
    for a, b in ((first, second), (first, third), (second, third)):
        assert not np.shares_memory(a, b)
