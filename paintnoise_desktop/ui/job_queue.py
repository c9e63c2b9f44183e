"""The window's Find and Replace requests, one running at a time, the rest queued in view.

A request made while another runs is queued and shown, never dropped. A job takes its
input (a copy of the photo and mask) only when it starts, and records the history's
revision it took it at: its result applies only while the history is still there.
Cancel stops the running job (it shows "Cancelling…" until the engine says so);
Cancel All also empties the queue.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from PySide6.QtCore import QObject, Signal


class JobState(Enum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    CANCELLED = "cancelled"
    FAILED = "failed"


@dataclass(eq=False)
class WindowJob:
    """One request: `start` takes its input and hands it to the engine; it returns the
    engine's job id, or None when there is nothing to run (it said why)."""

    title: str  # "Find", "Remove", "Replace", as the queue and the messages name it
    start: Callable[[WindowJob], int | None]
    job_id: int = field(default_factory=itertools.count(1).__next__)
    state: JobState = JobState.QUEUED
    engine_id: int | None = None
    revision: int | None = None  # the History.revision its input was taken at
    cancelling: bool = False


class JobQueue(QObject):
    changed = Signal()  # a job was queued, started, ended, or is being cancelled
    busyChanged = Signal(bool)  # whether a job runs
    jobEnded = Signal(object)  # WindowJob, in its final state

    def __init__(self, cancel_engine_job: Callable[[int], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cancel_engine_job = cancel_engine_job
        self.running: WindowJob | None = None
        self.queued: list[WindowJob] = []
        self._busy = False  # as last announced

    @property
    def busy(self) -> bool:
        return self.running is not None

    def add(self, job: WindowJob, first: bool = False) -> WindowJob:
        """Run `job` now when idle, else queue it (`first`: ahead of the others)."""
        if first:
            self.queued.insert(0, job)
        else:
            self.queued.append(job)
        if self.running is None:
            self._start_next()
        else:
            self.changed.emit()
        return job

    def end(self, job: WindowJob, state: JobState) -> None:
        """`job` is over (its result was applied, dropped, or it was cancelled); next one."""
        if job is not self.running:
            return
        job.state, self.running = state, None
        self.jobEnded.emit(job)
        self._start_next()

    def cancel_running(self) -> None:
        """Ask the engine to stop the running job; it ends when the engine answers."""
        job = self.running
        if job is not None and not job.cancelling:
            job.cancelling = True
            if job.engine_id is not None:
                self._cancel_engine_job(job.engine_id)
            self.changed.emit()

    def drop_running(self) -> WindowJob | None:
        """Stop the running job and end it now (its result, if one comes, is ignored)."""
        job = self.running
        if job is not None:
            if job.engine_id is not None:
                self._cancel_engine_job(job.engine_id)
            self.end(job, JobState.CANCELLED)
        return job

    def withdraw(self, job: WindowJob) -> None:
        """Take `job` out of the queue before it starts (a newer request stands for it)."""
        if job in self.queued:
            self.queued.remove(job)
            job.state = JobState.CANCELLED
            self.changed.emit()

    def cancel_queued(self) -> None:
        for job in self.queued:
            job.state = JobState.CANCELLED
        self.queued.clear()
        self.changed.emit()

    def cancel_all(self) -> None:
        """Cancel All: the queue goes, and the running job is asked to stop."""
        self.cancel_queued()
        self.cancel_running()

    def clear(self) -> None:
        """Another photo was opened: nothing asked for the old one runs or waits."""
        self.cancel_queued()
        self.drop_running()

    def _start_next(self) -> None:
        while self.running is None and self.queued:
            job = self.queued.pop(0)
            job.state, self.running = JobState.RUNNING, job
            engine_id = job.start(job)
            if engine_id is None:  # nothing to run after all
                job.state, self.running = JobState.FINISHED, None
                self.jobEnded.emit(job)
            else:
                job.engine_id = engine_id
        self.changed.emit()
        if self._busy != self.busy:
            self._busy = self.busy
            self.busyChanged.emit(self._busy)
