"""Found masks are refined off the window's thread and only the newest answer is delivered."""

from __future__ import annotations

import threading

import numpy as np

from paintnoise_desktop.core import masks
from paintnoise_desktop.core.jobs import MaskSettings
from paintnoise_desktop.ui.mask_refiner import MaskRefiner, refine


def blob(x0: int, y0: int, shape=(30, 40)) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    mask[y0:y0 + 8, x0:x0 + 8] = 255
    return mask


def test_the_mask_arrives_in_the_window_thread_and_matches_the_pipeline(qtbot):
    refiner = MaskRefiner()
    seen_in = []
    refiner.ready.connect(lambda request, mask: seen_in.append(threading.current_thread()))
    settings = MaskSettings()
    with qtbot.waitSignal(refiner.ready, timeout=10_000) as ready:
        request = refiner.refine([blob(2, 2), blob(20, 10)], 80, 60, settings)
    assert ready.args[0] == request
    union = masks.union([masks.resize_mask(blob(2, 2), 80, 60),
                         masks.resize_mask(blob(20, 10), 80, 60)])
    expected = masks.postprocess(union, settings)
    assert np.array_equal(ready.args[1], expected)
    assert np.array_equal(ready.args[1], refine([blob(2, 2), blob(20, 10)], 80, 60, settings))
    assert seen_in == [threading.main_thread()]
    refiner.shutdown()


def test_only_the_newest_request_is_answered(qtbot):
    refiner = MaskRefiner()
    answers = []
    refiner.ready.connect(lambda request, mask: answers.append(request))
    refiner.refine([blob(2, 2)], 800, 600, MaskSettings())
    newest = refiner.refine([blob(20, 10)], 80, 60, MaskSettings())
    qtbot.waitUntil(lambda: newest in answers, timeout=10_000)
    qtbot.wait(50)
    assert answers == [newest]
    refiner.shutdown()


def test_a_failure_becomes_a_message(qtbot):
    refiner = MaskRefiner()
    with qtbot.waitSignal(refiner.failed, timeout=10_000) as failed:
        refiner.refine([np.zeros((0, 0), np.uint8)], 80, 60, MaskSettings())
    assert "brush" in failed.args[1]
    refiner.shutdown()


def test_an_answer_that_is_ready_at_once_still_comes_after_refine_returns(qtbot):
    """A refinement can finish before its done-callback is attached; the callback then runs
    in the calling thread, inside `refine`. The answer must still wait for the event loop,
    or the caller would not yet know the id it carries."""
    refiner = MaskRefiner()
    answers = []
    refiner.ready.connect(lambda request, mask: answers.append(request))
    with qtbot.waitSignal(refiner.ready, timeout=10_000):
        request = refiner.refine([blob(2, 2)], 40, 30, MaskSettings())
    answers.clear()
    refiner._refined.emit(request, blob(2, 2))  # what the early callback does, in this thread
    assert answers == []
    qtbot.waitUntil(lambda: answers == [request], timeout=10_000)
    refiner.shutdown()
