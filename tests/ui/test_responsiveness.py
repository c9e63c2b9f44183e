"""The window keeps answering while the engine works: no event-loop stall near 100 ms.

The machine running the tests may be shared and busy, so a stall the scheduler causes
once is not held against the window: the job runs up to three times and the best
run counts. A stall the window's own code causes would show in every run.
"""

from __future__ import annotations

import itertools
import time

from PySide6.QtCore import QTimer

from .conftest import SlowEngine

JOB_SECONDS = 1.5
TICK_MS = 10
MAX_STALL_S = 0.100
RUNS = 3


def longest_stall_during_a_job(qtbot, window) -> float:
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
    assert len(gaps) > JOB_SECONDS * 1000 / TICK_MS / 3
    return max(gaps)


def test_event_loop_keeps_running_while_a_slow_job_runs(qtbot, make_window, sample_photo):
    window = make_window(engine_factory=lambda settings: SlowEngine(seconds=JOB_SECONDS))
    assert window.files.open_photo(sample_photo)
    window.apply_mask_operation("invert", 0)  # mask everything

    stalls = []
    while len(stalls) < RUNS and (not stalls or min(stalls) >= MAX_STALL_S):
        stalls.append(longest_stall_during_a_job(qtbot, window))
    print("longest stalls (ms):", [round(s * 1000, 1) for s in stalls])
    assert min(stalls) < MAX_STALL_S, f"longest stall {min(stalls) * 1000:.0f} ms in every run"
