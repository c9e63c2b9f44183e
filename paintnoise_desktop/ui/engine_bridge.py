"""The window's only way to the engine: a worker thread that runs model jobs one at a time,
and an I/O thread of its own for model downloads.

The GUI thread hands jobs over by queued signal and hears back by queued signal;
it never waits on a worker and never touches torch. The engine module is
imported inside the worker thread, on the first job, so the window opens before
torch is loaded. A download (minutes for a big model) runs on the I/O thread, so a
Find asked for meanwhile starts at once; `submit` routes by the job's type.
"""

from __future__ import annotations

import gc
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..core.jobs import (
    CancelToken,
    DownloadJob,
    FindJob,
    Job,
    Progress,
    ProgressCallback,
    Result,
    Status,
)
from ..engine.settings import EngineSettings

log = logging.getLogger(__name__)


class EngineLike(Protocol):
    def run(self, job: Job, report: ProgressCallback, cancel: CancelToken) -> Result: ...

    def apply_settings(self, settings: EngineSettings) -> None: ...

    def unload_models(self) -> str: ...


EngineFactory = Callable[[EngineSettings], EngineLike]


def _real_engine(settings: EngineSettings) -> EngineLike:
    from ..engine.runner import Engine

    return Engine(settings)


class JobState(Enum):
    QUEUED = "queued"
    RUNNING = "running"


@dataclass
class _Entry:
    job: Job
    token: CancelToken
    state: JobState = JobState.QUEUED


class _Worker(QObject):
    """Lives in the engine thread; owns the engine and runs what it is handed, in order."""

    started = Signal(int)
    progress = Signal(object)
    finished = Signal(object)
    unloaded = Signal(str)

    def __init__(self, engine_factory: EngineFactory, settings: EngineSettings) -> None:
        super().__init__()
        self._engine_factory = engine_factory
        self._settings = settings
        self._engine: EngineLike | None = None

    @Slot(object)
    def apply_settings(self, settings: EngineSettings) -> None:
        self._settings = settings
        if self._engine is not None:
            self._engine.apply_settings(settings)

    @Slot()
    def unload_models(self) -> None:
        """Between jobs, in order with them: the models go, the device line comes back."""
        try:
            status = self._engine.unload_models() if self._engine is not None else ""
        except Exception:
            log.exception("unloading the models failed")
            status = ""
        self.unloaded.emit(status)

    @Slot(object, object)
    def run_job(self, job: Job, token: CancelToken) -> None:
        if token.cancelled:  # dropped while it waited in the queue
            self.finished.emit(Result(job.job_id, Status.CANCELLED, "Cancelled."))
            return
        self.started.emit(job.job_id)
        try:
            if self._engine is None:
                self._engine = self._engine_factory(self._settings)
            result = self._engine.run(job, self.progress.emit, token)
            # What a job loads (torch, models) lives on; left to the collector, every full
            # pass over it holds the interpreter lock long enough to freeze the window.
            gc.freeze()
        except Exception as error:  # the engine could not even start: keep the window alive
            log.exception("engine failed on job %s", job.job_id)
            result = Result(job.job_id, Status.FAILED,
                            f"The engine could not run ({type(error).__name__}: {error}).",
                            traceback.format_exc())
        self.finished.emit(result)


class EngineBridge(QObject):
    """Engine jobs with ids and cancel tokens; a newer Find cancels older ones."""

    progress = Signal(object)  # core.jobs.Progress
    finished = Signal(object)  # core.jobs.Result
    busyChanged = Signal(bool)
    modelsUnloaded = Signal(str)  # the device line after it ("" when unknown or never loaded)

    _runJob = Signal(object, object)
    _runDownload = Signal(object, object)
    _applySettings = Signal(object)
    _unloadModels = Signal()

    def __init__(self, settings: EngineSettings | None = None,
                 engine_factory: EngineFactory | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._next_id = 1
        self._jobs: dict[int, _Entry] = {}
        self._settings = settings or EngineSettings()
        factory = engine_factory or _real_engine
        self._thread, self._worker = self._start_worker("engineThread", factory, self._runJob)
        self._io_thread, self._io_worker = self._start_worker("ioThread", factory, self._runDownload)
        self._unloadModels.connect(self._worker.unload_models)
        self._worker.unloaded.connect(self.modelsUnloaded)

    def _start_worker(self, name: str, factory: EngineFactory,
                      run: Signal) -> tuple[QThread, _Worker]:
        thread = QThread()
        thread.setObjectName(name)
        worker = _Worker(factory, self._settings)
        worker.moveToThread(thread)
        thread.finished.connect(worker.deleteLater)
        run.connect(worker.run_job)
        self._applySettings.connect(worker.apply_settings)
        worker.started.connect(self._on_started)
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        thread.start()
        return thread, worker

    @property
    def settings(self) -> EngineSettings:
        """The settings the engine runs the next job with."""
        return self._settings

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    def state(self, job_id: int) -> JobState | None:
        """QUEUED or RUNNING while the job is outstanding; None once its result arrived."""
        entry = self._jobs.get(job_id)
        return entry.state if entry else None

    def submit(self, job_factory: Callable[[int], Job]) -> int:
        job_id = self._next_id
        self._next_id += 1
        job = job_factory(job_id)
        if isinstance(job, FindJob):
            for entry in self._jobs.values():
                if isinstance(entry.job, FindJob):
                    entry.token.cancel()
        was_busy = self.busy
        token = CancelToken()
        self._jobs[job_id] = _Entry(job, token)
        (self._runDownload if isinstance(job, DownloadJob) else self._runJob).emit(job, token)
        if not was_busy:
            self.busyChanged.emit(True)
        return job_id

    def cancel(self, job_id: int | None = None) -> None:
        """Cancel one job, or (None) the running one and every queued one."""
        for entry_id, entry in self._jobs.items():
            if job_id is None or entry_id == job_id:
                entry.token.cancel()

    def apply_settings(self, settings: EngineSettings) -> None:
        self._settings = settings
        self._applySettings.emit(settings)

    def unload_models(self) -> None:
        """Free the loaded models' memory, on the engine thread after the jobs queued so far."""
        self._unloadModels.emit()

    def shutdown(self) -> None:
        """Cancel everything, stop the threads and wait for the running jobs to notice."""
        if not self._thread.isRunning():
            return
        self.cancel()
        for thread in (self._thread, self._io_thread):
            thread.quit()
        for thread in (self._thread, self._io_thread):
            thread.wait()
        gc.unfreeze()  # let the interpreter tear down what the jobs loaded, as usual

    def _on_started(self, job_id: int) -> None:
        entry = self._jobs.get(job_id)
        if entry is not None:
            entry.state = JobState.RUNNING

    def _on_progress(self, progress: Progress) -> None:
        if progress.job_id in self._jobs:
            self.progress.emit(progress)

    def _on_finished(self, result: Result) -> None:
        self._jobs.pop(result.job_id, None)
        self.finished.emit(result)
        if not self._jobs:
            self.busyChanged.emit(False)
