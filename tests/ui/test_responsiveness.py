"""The window keeps answering while the engine works: no event-loop stall near 100 ms.

The machine running the tests may be shared and busy, so a stall the scheduler causes
once is not held against the window: the job runs up to three times and the best
run counts. A stall the window's own code causes would show in every run. A first job
runs before the measured ones: it imports torch on the engine thread, once per session,
which holds Python's interpreter lock for a moment.
"""

from __future__ import annotations

import itertools
import time

from PySide6.QtCore import QTimer

from .conftest import SlowEngine
from .test_main_window import open_photo

JOB_SECONDS = 1.5
TICK_MS = 10
MAX_STALL_S = 0.100
RUNS = 3


def longest_stall_during_a_job(qtbot, window) -> tuple[float, int]:
    """The longest gap between timer ticks while a job runs, and how many ticks there were."""
    ticks: list[float] = []
    timer = QTimer(interval=TICK_MS)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    with qtbot.waitSignal(window.bridge.finished, timeout=int(JOB_SECONDS * 1000) + 20_000):
        started = time.perf_counter()
        window.jobs.replace("", "")
    timer.stop()
    assert time.perf_counter() - started >= JOB_SECONDS * 0.9  # the job really took its time
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    return max(gaps, default=float("inf")), len(ticks)


def test_event_loop_keeps_running_while_a_slow_job_runs(qtbot, make_window, sample_photo):
    window = make_window(engine_factory=lambda settings: SlowEngine(seconds=JOB_SECONDS))
    assert open_photo(qtbot, window, sample_photo)
    window.mask_steps.operate("invert", 0)  # mask everything

    longest_stall_during_a_job(qtbot, window)  # warm up: the engine's first job imports torch
    runs = []
    while len(runs) < RUNS and (not runs or min(runs)[0] >= MAX_STALL_S):
        runs.append(longest_stall_during_a_job(qtbot, window))
    print("longest stalls (ms):", [round(stall * 1000, 1) for stall, _ in runs])
    stall, ticks = min(runs)
    assert stall < MAX_STALL_S, f"longest stall {stall * 1000:.0f} ms in every run"
    assert ticks > JOB_SECONDS * 1000 / TICK_MS / 3  # the timer really kept firing
