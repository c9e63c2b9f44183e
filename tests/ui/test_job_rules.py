"""What the window does with a Find or Replace while the user keeps editing, and the
messages and choices around a Replace: the default inpainter, the offline inpainter's
limits, results that change nothing, the mask overlay, quitting during a job."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt

from paintnoise_desktop.core.document import Document
from paintnoise_desktop.core.jobs import InpaintJob
from paintnoise_desktop.engine.inpaint.opencv import WHOLE_PHOTO_MASKED
from paintnoise_desktop.engine.models.needs import AUTOMATIC_INPAINTER
from paintnoise_desktop.engine.runner import Engine
from paintnoise_desktop.engine.settings import EngineSettings
from paintnoise_desktop.ui.edit_jobs import NOTHING_CHANGED, edit_name

from .test_main_window import (
    WAIT_MS,
    open_photo,
    open_with_stroke,
    paint_stroke,
    remove_masked,
    settle,
)


class GatedEngine(Engine):
    """The real engine, whose jobs wait at a gate (still answering Cancel) until it opens.

    It holds a job "running" while the test edits the photo, then runs it for real.
    """

    def __init__(self, settings: EngineSettings | None = None) -> None:
        super().__init__(settings)
        self.gate = threading.Event()
        self.jobs = []

    def _dispatch(self, job, step, cancel):
        self.jobs.append(job)
        while not self.gate.wait(0.01):
            step(0.0, "Waiting")  # raises JobCancelled once the job was cancelled
        return super()._dispatch(job, step, cancel)


@pytest.fixture
def gated(make_window):
    engine = GatedEngine()
    window = make_window(engine_factory=lambda settings: engine)
    yield window, engine
    engine.gate.set()


def start_remove(qtbot, window) -> None:
    with qtbot.waitSignal(window.bridge.progress, timeout=WAIT_MS):
        window.jobs.replace("", "")
    assert window.jobs.running


def finish(qtbot, window, engine) -> None:
    engine.gate.set()
    qtbot.waitUntil(lambda: not window.bridge.busy, timeout=WAIT_MS)


def status(window) -> str:
    return window.statusBar().currentMessage()


# -- edits while a job runs ----------------------------------------------------------------


def test_undo_during_a_replace_cancels_it_and_keeps_the_undone_step(qtbot, gated, sample_photo):
    window, engine = gated
    document = open_with_stroke(qtbot, window, sample_photo)
    before = document.rgb.copy()
    start_remove(qtbot, window)
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    assert not window.jobs.running
    assert status(window) == "Remove cancelled: a step was undone or redone."
    assert not window.prompt_bar.cancel_button.isEnabled()
    finish(qtbot, window, engine)
    assert document.history.names == ["Brush"] and document.history.index == 0
    assert np.array_equal(document.rgb, before) and not document.mask.any()
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert document.mask.any()  # the stroke was undone, not lost


def test_a_brush_stroke_during_a_replace_cancels_it(qtbot, gated, sample_photo):
    window, engine = gated
    document = open_with_stroke(qtbot, window, sample_photo)
    before = document.rgb.copy()
    start_remove(qtbot, window)
    w, h = document.width, document.height
    paint_stroke(qtbot, window, [(w // 5, h // 5), (w // 4, h // 5)])
    assert status(window) == "Remove cancelled: the mask changed."
    finish(qtbot, window, engine)
    assert document.history.names == ["Brush", "Brush"]
    assert np.array_equal(document.rgb, before)


def test_a_mask_operation_during_a_find_cancels_it(qtbot, gated, sample_photo):
    window, engine = gated
    document = open_with_stroke(qtbot, window, sample_photo)
    with qtbot.waitSignal(window.bridge.progress, timeout=WAIT_MS):
        window.jobs.find("red car")
    window.mask_steps.operate("grow", 3)
    assert status(window) == "Find cancelled: the mask changed."
    settle(qtbot, window)
    finish(qtbot, window, engine)
    assert document.history.names == ["Brush", "Grow mask 3 px"]


def test_a_result_for_an_older_state_of_the_history_is_not_applied(qtbot, gated, sample_photo):
    """Whatever path changed the history, a result lands only on the state it was asked for."""
    window, engine = gated
    document = open_with_stroke(qtbot, window, sample_photo)
    before = document.rgb.copy()
    start_remove(qtbot, window)
    asked_on = document.history.top
    document.undo()  # behind the window's back, so the job is not cancelled ...
    document.apply("Brush", (0, 0, 4, 4), mask=np.full((4, 4), 255, np.uint8))
    assert document.history.index == 1 and document.history.top is not asked_on  # ... same index
    finish(qtbot, window, engine)
    assert engine.jobs and document.history.names == ["Brush"]
    assert np.array_equal(document.rgb, before)
    assert status(window) == "Remove dropped: the photo changed while it ran."
    assert not window.jobs.running and not window.prompt_bar.cancel_button.isEnabled()


# -- the inpainter ---------------------------------------------------------------------------


def test_the_window_asks_for_the_best_installed_inpainter_unless_the_user_chose(
        qtbot, make_window, app_settings, sample_photo):
    assert app_settings.inpainter == AUTOMATIC_INPAINTER
    engine = GatedEngine()
    engine.gate.set()
    window = make_window(engine_factory=lambda settings: engine)
    open_with_stroke(qtbot, window, sample_photo)
    with qtbot.waitSignal(window.bridge.finished, timeout=WAIT_MS) as finished:
        window.jobs.replace("", "")
    assert finished.args[0].ok
    app_settings.remover = "opencv-ns"  # a choice the user made wins (removing: Remove with)
    with qtbot.waitSignal(window.bridge.finished, timeout=WAIT_MS):
        window.jobs.replace("", "")
    # The engine thread picks the automatic one: looking for models is too slow for the window.
    assert [job.inpainter for job in engine.jobs] == [AUTOMATIC_INPAINTER, "opencv-ns"]


def test_a_replace_with_words_but_no_painting_model_offers_it_and_never_removes(
        qtbot, make_window, app_settings, dialogs, sample_photo):
    app_settings.variants = 3
    engine = GatedEngine()
    engine.gate.set()
    window = make_window(engine_factory=lambda settings: engine)
    document = open_with_stroke(qtbot, window, sample_photo)
    before = document.rgb.copy()
    with qtbot.waitSignal(window.modelMissing, timeout=WAIT_MS) as missing:
        window.jobs.replace("", "a blue van")
    [job] = engine.jobs
    assert isinstance(job, InpaintJob) and job.variants == 3
    [model_ids] = missing.args
    assert model_ids and dialogs.download_offers == [model_ids]
    assert document.history.names == ["Brush"]  # nothing was removed in its place
    assert np.array_equal(document.rgb, before)
    assert status(window).endswith("not installed; the photo is unchanged.")
    assert not window.variants_panel.isVisible() and not window.jobs.running


def test_a_mask_over_the_whole_photo_is_refused_with_no_step(qtbot, make_window, sample_photo):
    window = make_window()
    document = open_with_stroke(qtbot, window, sample_photo)
    document.apply("Everything", (0, 0, document.width, document.height),
                   mask=np.full((document.height, document.width), 255, np.uint8))
    before = document.rgb.copy()
    with qtbot.waitSignal(window.bridge.finished, timeout=WAIT_MS):
        window.jobs.replace("", "")
    assert window.error_box.text() == WHOLE_PHOTO_MASKED
    assert document.history.names[-1] == "Everything" and not document.is_dirty
    assert np.array_equal(document.rgb, before)


def test_a_result_that_changes_no_pixel_adds_no_step(qtbot, make_window):
    window = make_window()
    document = Document.from_array(np.full((48, 64, 3), 128, np.uint8))  # nothing to continue
    window.session.open(document)
    document.apply("Square", (20, 15, 40, 30), mask=np.full((15, 20), 255, np.uint8))
    with qtbot.waitSignal(window.bridge.finished, timeout=WAIT_MS):
        window.jobs.replace("", "")
    assert status(window) == NOTHING_CHANGED
    assert document.history.names == ["Square"] and not document.is_dirty
    assert "*" not in window.windowTitle()


# -- the mask overlay --------------------------------------------------------------------------


def overlay_shown(window) -> bool:
    shown = window.canvas.overlay_visible
    assert window.commands.toggle_overlay.isChecked() == shown
    assert window.mask_panel.overlay_check.isChecked() == shown
    return shown


def test_the_overlay_hides_after_a_replace_and_returns_when_the_mask_is_edited(
        qtbot, make_window, sample_photo):
    window = make_window()
    document = open_with_stroke(qtbot, window, sample_photo)
    assert overlay_shown(window)
    remove_masked(qtbot, window)
    assert not overlay_shown(window)  # the repainted pixels are in view
    w, h = document.width, document.height
    paint_stroke(qtbot, window, [(w // 5, h // 5), (w // 4, h // 5)])
    assert overlay_shown(window)
    remove_masked(qtbot, window)
    assert not overlay_shown(window)
    window.mask_steps.operate("grow", 2)
    settle(qtbot, window)
    assert overlay_shown(window)


# -- window chrome ------------------------------------------------------------------------------


def test_the_title_names_the_app_as_about_does_and_no_photo_shows_no_zoom(qtbot, make_window,
                                                                          sample_photo):
    window = make_window()
    assert window.windowTitle() == "PaintNoise Desktop"
    assert window.zoom_label.text() == ""
    assert open_photo(qtbot, window, sample_photo)
    assert window.windowTitle() == "sample.jpg \u2014 PaintNoise Desktop"
    assert window.zoom_label.text().endswith("%")
    window.session.open(None)
    window.canvas.zoom_in()
    assert window.zoom_label.text() == ""


def test_quitting_during_a_job_asks_first(qtbot, gated, dialogs, sample_photo):
    window, _engine = gated
    asked, answers = [], [False, True]

    def cancel_job_and_quit(parent) -> bool:
        asked.append(parent)
        return answers.pop(0)

    dialogs.cancel_job_and_quit = cancel_job_and_quit
    open_with_stroke(qtbot, window, sample_photo)
    start_remove(qtbot, window)
    assert not window.close() and window.isVisible() and window.jobs.running
    assert window.close() and asked == [window, window]


class BrokenEngine(Engine):
    """The real engine around a job with a bug in it."""

    def _dispatch(self, job, step, cancel):
        raise RuntimeError("boom")


def test_a_job_that_breaks_says_so_and_keeps_the_details_for_a_report(
        qtbot, make_window, sample_photo):
    window = make_window(engine_factory=lambda settings: BrokenEngine())
    document = open_with_stroke(qtbot, window, sample_photo)
    before = document.rgb.copy()
    with qtbot.waitSignal(window.bridge.finished, timeout=WAIT_MS):
        window.jobs.replace("", "")
    assert window.error_box.isVisible()
    assert window.error_box.text() == ("Something went wrong (RuntimeError: boom). "
                                       "The photo is unchanged.")
    assert "Traceback" in window.error_box.detailedText()
    assert np.array_equal(document.rgb, before)


def test_a_removal_is_told_only_what_was_wanted_not_what_was_excluded(
        qtbot, make_window, sample_photo):
    engine = GatedEngine()
    engine.gate.set()
    window = make_window(engine_factory=lambda settings: engine)
    open_with_stroke(qtbot, window, sample_photo)
    with qtbot.waitSignal(window.bridge.finished, timeout=WAIT_MS):
        window.jobs.replace("spoon, not cup", "")
    [job] = engine.jobs
    assert job.find_text == "spoon"  # the negative prompt must not name the cup


def test_history_names_say_what_was_replaced_with_what():
    assert edit_name("spoon", "") == "Remove: spoon"
    assert edit_name("spoon, not cup", "a silver fork") == "Replace spoon with: a silver fork"
    assert edit_name("", "a silver fork") == "Replace with: a silver fork"
    assert edit_name("", "") == "Remove"
