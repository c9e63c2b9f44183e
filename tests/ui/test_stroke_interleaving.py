"""Brush strokes interleaved with mask results and undos: undo always gives back exactly the
mask before each step. A mask result arriving while a stroke is held waits for the stroke's
end (and is then outdated by it); Ctrl+Z during a stroke ends the stroke first."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from PySide6.QtCore import Qt

from paintnoise_desktop.core.document import Document

from .conftest import photo
from .test_main_window import widget_point

WIDTH, HEIGHT = 96, 72
WAIT_MS = 10_000

points = st.tuples(st.integers(2, WIDTH - 3), st.integers(2, HEIGHT - 3))
strokes = st.tuples(st.just("stroke"), st.lists(points, min_size=2, max_size=4),
                    st.sampled_from(["", "result", "undo"]))
actions = st.lists(st.one_of(strokes, st.sampled_from([("grow",), ("undo",), ("redo",)])),
                   min_size=1, max_size=8)


def grow_and_wait(qtbot, window) -> None:
    """Ask for a Grow and wait until its mask has come back to the GUI thread."""
    with qtbot.waitSignal(window.mask_steps.refiner.ready, timeout=WAIT_MS):
        window.mask_steps.operate("grow", 3)


def stroke(qtbot, window, path, during: str) -> None:
    """A held stroke along `path`; halfway, a mask result arrives or Ctrl+Z is pressed."""
    canvas = window.canvas
    qtbot.mousePress(canvas, Qt.LeftButton, pos=widget_point(window, *path[0]))
    qtbot.mouseMove(canvas, pos=widget_point(window, *path[1]))
    if during == "result":
        grow_and_wait(qtbot, window)
    elif during == "undo":
        qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    for point in path[2:]:
        qtbot.mouseMove(canvas, pos=widget_point(window, *point))
    qtbot.mouseRelease(canvas, Qt.LeftButton, pos=widget_point(window, *path[-1]))
    qtbot.waitUntil(lambda: not window.mask_steps.busy, timeout=WAIT_MS)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(script=actions)
def test_undo_restores_the_mask_before_each_step(qtbot, make_window, tmp_path, script):
    path = tmp_path / "photo.png"
    if not path.exists():
        Image.fromarray(photo(WIDTH, HEIGHT)).save(path)
    window = _window(make_window)
    document = Document.open(path)
    window.session.open(document)
    window.mask_panel.size_slider.setValue(9)
    history = document.history
    known = {history.index: document.mask.copy()}  # history position -> the mask it had

    for action in script:
        before = history.index
        if action[0] == "stroke":
            stroke(qtbot, window, action[1], action[2])
        elif action[0] == "grow":
            grow_and_wait(qtbot, window)
            qtbot.waitUntil(lambda: not window.mask_steps.busy, timeout=WAIT_MS)
        elif action[0] == "undo":
            window.session.undo()
        else:
            window.session.redo()
        moved_back = action[0] in ("undo", "redo") or action[-1] == "undo"
        if not moved_back and history.index != before:  # a new step: the redo steps are gone
            known = {index: mask for index, mask in known.items() if index < history.index}
            known[history.index] = document.mask.copy()
        elif action[-1] == "undo":  # a stroke ended, then undone: its redo is unknown here
            known = {index: mask for index, mask in known.items() if index <= history.index}
        if history.index in known:
            assert np.array_equal(document.mask, known[history.index]), (action, history.names)

    while history.can_undo:
        window.session.undo()
        if history.index in known:
            assert np.array_equal(document.mask, known[history.index]), history.names
    assert not document.mask.any()



def _window(make_window):
    """One window for every example of the test (fixtures are made once per test)."""
    if not hasattr(make_window, "window"):
        make_window.window = make_window()
    return make_window.window


def opened(make_window, tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(photo(WIDTH, HEIGHT)).save(path)
    window = make_window()
    document = Document.open(path)
    window.session.open(document)
    window.mask_panel.size_slider.setValue(9)
    return window, document


def test_a_grow_arriving_mid_stroke_waits_for_its_end(qtbot, make_window, tmp_path):
    window, document = opened(make_window, tmp_path)
    canvas = window.canvas
    qtbot.mousePress(canvas, Qt.LeftButton, pos=widget_point(window, 20, 20))
    qtbot.mouseMove(canvas, pos=widget_point(window, 40, 20))
    grow_and_wait(qtbot, window)
    assert "Grow mask 3 px" not in document.history.names  # held: the stroke is on the mask
    assert window.mask_steps.busy
    qtbot.mouseMove(canvas, pos=widget_point(window, 60, 40))
    qtbot.mouseRelease(canvas, Qt.LeftButton, pos=widget_point(window, 60, 40))
    assert document.history.names[-1] == "Brush" and not window.mask_steps.busy
    window.session.undo()
    assert not document.mask.any()


def test_ctrl_z_mid_stroke_ends_the_stroke_then_undoes_it(qtbot, make_window, tmp_path):
    window, document = opened(make_window, tmp_path)
    canvas = window.canvas
    steps = len(document.history.names)
    qtbot.mousePress(canvas, Qt.LeftButton, pos=widget_point(window, 20, 20))
    qtbot.mouseMove(canvas, pos=widget_point(window, 40, 30))
    assert window.session.stroking
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    assert not window.session.stroking and not document.mask.any()
    qtbot.mouseMove(canvas, pos=widget_point(window, 60, 40))  # the button is still down
    qtbot.mouseRelease(canvas, Qt.LeftButton, pos=widget_point(window, 60, 40))
    assert not document.mask.any()
    window.session.redo()
    assert document.history.names[-1] == "Brush" and document.mask.any()
    assert len(document.history.names) == steps + 1
