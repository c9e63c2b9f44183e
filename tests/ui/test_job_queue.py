"""The job queue: a request while busy is queued and shown, runs after the current one,
and Cancel (Shift: Cancel All) stops what runs (and what waits)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from paintnoise_desktop.ui.job_queue import JobQueue, JobState, WindowJob
from paintnoise_desktop.ui.queue_panel import queue_text

from .conftest import COLOURS
from .test_main_window import WAIT_MS


def test_jobs_run_one_at_a_time_in_order_and_a_follow_up_goes_first(qapp):
    cancelled, started, busy = [], [], []
    queue = JobQueue(cancelled.append)
    queue.busyChanged.connect(busy.append)

    def start(job: WindowJob) -> int:
        started.append(job.title)
        return 100 + len(started)

    first = queue.add(WindowJob("Find", start))
    second = queue.add(WindowJob("Remove", start))
    third = queue.add(WindowJob("Replace", start))
    assert queue.running is first and queue.queued == [second, third]
    assert first.state is JobState.RUNNING and second.state is JobState.QUEUED
    assert queue_text(queue) == "Find \u00b7 2 queued: Remove, Replace"
    follow_up = queue.add(WindowJob("Remove", start), first=True)
    queue.end(first, JobState.FINISHED)
    assert queue.running is follow_up and first.state is JobState.FINISHED
    queue.cancel_running()
    assert follow_up.cancelling and cancelled == [follow_up.engine_id]
    assert queue_text(queue) == "Remove: Cancelling\u2026 \u00b7 2 queued: Remove, Replace"
    queue.end(follow_up, JobState.CANCELLED)
    queue.cancel_all()
    assert second.state is JobState.RUNNING and third.state is JobState.CANCELLED
    assert cancelled == [follow_up.engine_id, second.engine_id] and queue.queued == []
    queue.end(second, JobState.CANCELLED)
    assert started == ["Find", "Remove", "Remove"] and not queue.busy and busy == [True, False]
    assert queue_text(queue) == ""


def test_a_job_with_nothing_to_run_ends_and_the_next_one_starts(qapp):
    queue = JobQueue(lambda engine_id: None)
    nothing = queue.add(WindowJob("Remove", lambda job: None))
    assert nothing.state is JobState.FINISHED and not queue.busy
    queue.add(WindowJob("Find", lambda job: 7))
    skipped = queue.add(WindowJob("Remove", lambda job: None))
    last = queue.add(WindowJob("Find", lambda job: 8))
    queue.end(queue.running, JobState.FINISHED)
    assert skipped.state is JobState.FINISHED and queue.running is last


def test_find_and_replace_asked_for_while_busy_are_queued_shown_and_run(qtbot, painted):
    window, engine = painted
    document = window.document
    engine.gate.clear()
    bar = window.prompt_bar
    bar.replace_edit.setText("a bowl")
    qtbot.mouseClick(bar.replace_button, Qt.LeftButton)
    running = window.jobs.queue.running
    assert running is not None and running.title == "Replace"
    assert bar.find_button.isEnabled() and bar.replace_button.isEnabled()
    bar.replace_edit.setText("")
    qtbot.mouseClick(bar.replace_button, Qt.LeftButton)
    assert window.queue_label.text() == "Replace \u00b7 1 queued: Remove"
    assert window.jobs.queue.queued[0].state is JobState.QUEUED
    engine.gate.set()
    qtbot.waitUntil(lambda: not window.jobs.running, timeout=WAIT_MS)
    assert document.history.names == ["Square", "Replace with: a silver fork",
                                      "Replace with: a bowl", "Remove"]
    assert window.queue_label.text() == ""


def test_cancel_stops_the_running_job_and_shift_cancel_the_queue_too(qtbot, painted):
    window, engine = painted
    document = window.document
    steps, before = list(document.history.names), document.rgb.copy()
    engine.gate.clear()
    with qtbot.waitSignal(window.bridge.progress, timeout=WAIT_MS):
        window.jobs.replace("", "a bowl")
    window.jobs.replace("", "")
    window.jobs.replace("", "a cup")
    qtbot.keyClick(window.prompt_bar.find_edit, Qt.Key_Escape)
    assert window.queue_label.text() == "Replace: Cancelling\u2026 \u00b7 2 queued: Remove, Replace"
    assert window.statusBar().currentMessage() == "Cancelling\u2026"
    qtbot.waitUntil(lambda: window.jobs.queue.running is not None
                    and not window.jobs.queue.running.cancelling, timeout=WAIT_MS)
    assert window.queue_label.text() == "Remove \u00b7 1 queued: Replace"
    window.commands.cancel_all.trigger()  # Shift+Esc
    assert window.jobs.queue.queued == []
    qtbot.waitUntil(lambda: not window.jobs.running, timeout=WAIT_MS)
    engine.gate.set()
    assert document.history.names == steps and np.array_equal(document.rgb, before)
    # The variants a finished Replace made are still there to choose from.
    assert window.variants_panel.isVisible() and window.variants_panel.list.count() == 3
    window.variants_panel.variantChosen.emit(2)
    assert np.array_equal(document.rgb[60, 80], COLOURS[2])
