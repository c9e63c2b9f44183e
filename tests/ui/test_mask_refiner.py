"""Masks are computed off the window's thread and only the newest request is answered."""

from __future__ import annotations

import threading

import numpy as np

from paintnoise_desktop.core import masks
from paintnoise_desktop.core.jobs import MaskSettings
from paintnoise_desktop.ui.mask_refiner import MaskRefiner


def blob(x0: int, y0: int, shape=(30, 40)) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    mask[y0:y0 + 8, x0:x0 + 8] = 255
    return mask


def test_the_mask_arrives_in_the_window_thread_and_matches_the_pipeline(qtbot):
    refiner = MaskRefiner()
    computed_in, seen_in = [], []
    refiner.ready.connect(lambda request, mask: seen_in.append(threading.current_thread()))
    settings = MaskSettings()

    def make() -> np.ndarray:
        computed_in.append(threading.current_thread())
        return masks.mask_from_candidates([blob(2, 2), blob(20, 10)], 80, 60, settings)

    with qtbot.waitSignal(refiner.ready, timeout=10_000) as ready:
        request = refiner.compute(make)
    assert ready.args[0] == request
    expected = masks.mask_from_candidates([blob(2, 2), blob(20, 10)], 80, 60, settings)
    assert np.array_equal(ready.args[1], expected)
    assert computed_in != [threading.main_thread()] and len(computed_in) == 1
    assert seen_in == [threading.main_thread()]
    refiner.shutdown()


def test_only_the_newest_request_is_answered(qtbot):
    """The older request is held inside its computation until the newer one was asked for,
    so both really overlap, whatever the machine's load."""
    refiner = MaskRefiner()
    answers = []
    refiner.ready.connect(lambda request, mask: answers.append(request))
    started, release = threading.Event(), threading.Event()

    def held() -> np.ndarray:
        started.set()
        release.wait(10)
        return blob(2, 2)

    older = refiner.compute(held)
    assert started.wait(10)
    newest = refiner.compute(lambda: blob(20, 10))
    release.set()
    qtbot.waitUntil(lambda: newest in answers, timeout=10_000)
    qtbot.wait(50)
    assert older < newest and answers == [newest]
    refiner.shutdown()


def test_a_request_superseded_before_it_started_is_never_computed(qtbot):
    refiner = MaskRefiner()
    release = threading.Event()
    ran = []
    refiner.compute(lambda: (release.wait(10), blob(2, 2))[1])
    refiner.compute(lambda: (ran.append("middle"), blob(4, 4))[1])
    with qtbot.waitSignal(refiner.ready, timeout=10_000) as ready:
        newest = refiner.compute(lambda: (ran.append("newest"), blob(6, 6))[1])
        release.set()
    assert ready.args[0] == newest and ran == ["newest"]
    refiner.shutdown()


def test_busy_until_the_newest_answer_and_drop_answers_nothing(qtbot):
    refiner = MaskRefiner()
    changes, answers = [], []
    refiner.busyChanged.connect(changes.append)
    refiner.ready.connect(lambda request, mask: answers.append(request))
    release = threading.Event()
    refiner.compute(lambda: (release.wait(10), blob(2, 2))[1])
    assert refiner.busy and changes == [True]
    refiner.drop()
    assert not refiner.busy and changes == [True, False]
    release.set()
    qtbot.wait(100)
    assert answers == []
    with qtbot.waitSignal(refiner.busyChanged, timeout=10_000,
                          check_params_cb=lambda busy: not busy):
        refiner.compute(lambda: blob(4, 4))
    assert len(answers) == 1 and not refiner.busy and changes == [True, False, True, False]
    refiner.shutdown()


def test_a_failure_becomes_a_message(qtbot):
    refiner = MaskRefiner()
    with qtbot.waitSignal(refiner.failed, timeout=10_000) as failed:
        refiner.compute(lambda: masks.mask_from_candidates([np.zeros((0, 0), np.uint8)], 80, 60,
                                                           MaskSettings()))
    assert "brush" in failed.args[1]
    assert not refiner.busy
    refiner.shutdown()


def test_an_answer_that_is_ready_at_once_still_comes_after_compute_returns(qtbot):
    """A computation can finish before its done-callback is attached; the callback then runs
    in the calling thread, inside `compute`. The answer must still wait for the event loop,
    or the caller would not yet know the id it carries."""
    refiner = MaskRefiner()
    answers = []
    refiner.ready.connect(lambda request, mask: answers.append(request))
    release = threading.Event()
    request = refiner.compute(lambda: (release.wait(10), blob(2, 2))[1])
    refiner._computed.emit(request, blob(2, 2))  # what the early callback does, in this thread
    assert answers == []
    qtbot.waitUntil(lambda: answers == [request], timeout=10_000)
    release.set()
    refiner.shutdown()
