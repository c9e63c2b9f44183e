"""Runs one job at a time and turns every outcome into a `Result`.

The engine thread in the window and the command line both drive this class, so
a job behaves the same with or without a window. It is not thread-safe: one
worker calls `run`, and `CancelToken.cancel` is the only thing other threads touch.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import replace

from ..core.errors import JobCancelled, ModelMissingError, PaintNoiseError
from ..core.jobs import (
    CancelToken,
    DownloadJob,
    FindJob,
    InpaintJob,
    Job,
    LoadModelJob,
    Progress,
    ProgressCallback,
    Result,
    Status,
)
from .models.model_store import ModelStore
from .models.needs import require_models
from .settings import EngineSettings

log = logging.getLogger(__name__)


class Engine:
    def __init__(self, settings: EngineSettings | None = None) -> None:
        self.models = ModelStore(settings)

    @property
    def settings(self) -> EngineSettings:
        return self.models.settings

    def apply_settings(self, settings: EngineSettings) -> None:
        """New device, precision or model paths: loaded models no longer fit, so drop them."""
        if settings != self.models.settings:
            self.models.unload()
            self.models.settings = settings

    def run(self, job: Job, report: ProgressCallback, cancel: CancelToken) -> Result:
        """Run `job`; the result also says how the device's memory stands after a job that
        used it (a download does not: reading the device would import torch on the window's
        I/O thread for nothing)."""
        result = self._run(job, report, cancel)
        if isinstance(job, DownloadJob):
            return result
        return replace(result, device_status=self.device_status())

    def device_status(self) -> str:
        """The status bar's device line; "" when it cannot be had (it never fails a job)."""
        try:
            from .models.device import memory_summary, pick_device

            return memory_summary(pick_device(self.settings))
        except Exception:
            log.warning("could not read the device's memory", exc_info=True)
            return ""

    def unload_models(self) -> str:
        """Give every loaded model's memory back; the device line after that."""
        self.models.unload()
        return self.device_status()

    def _run(self, job: Job, report: ProgressCallback, cancel: CancelToken) -> Result:
        def step(fraction: float, message: str, preview=None) -> None:
            cancel.raise_if_cancelled()
            report(Progress(job.job_id, max(0.0, min(1.0, fraction)), message, preview))

        try:
            return self._dispatch(job, step, cancel)
        except JobCancelled:
            return Result(job.job_id, Status.CANCELLED, "Cancelled.")
        except ModelMissingError as error:
            return Result(job.job_id, Status.FAILED, str(error), error.detail,
                          missing_models=error.model_ids)
        except PaintNoiseError as error:
            log.warning("job %s failed: %s %s", job.job_id, error, error.detail)
            return Result(job.job_id, Status.FAILED, str(error), error.detail)
        except MemoryError:
            return Result(job.job_id, Status.FAILED,
                          "The computer ran out of memory. Try a smaller photo or close other programs.",
                          traceback.format_exc())
        except Exception as error:  # a bug: keep the app alive, keep the traceback in the log
            log.exception("job %s crashed", job.job_id)
            return Result(job.job_id, Status.FAILED,
                          f"Something went wrong ({type(error).__name__}: {error}). The photo is unchanged.",
                          traceback.format_exc())

    def _dispatch(self, job: Job, step, cancel: CancelToken) -> Result:
        # Every missing model at once, before any is loaded: one offer, not one per attempt.
        require_models(job, self.settings)
        if isinstance(job, FindJob):
            from .find.finder import find

            candidates = find(job, self.models, step, cancel)
            return Result(job.job_id, Status.FINISHED, candidates=tuple(candidates))
        if isinstance(job, InpaintJob) and job.verifies:
            from .inpaint.verified_removal import verified_replace

            variants, verification = verified_replace(job, self.models, step, cancel)
            return Result(job.job_id, Status.FINISHED, variants=tuple(variants),
                          verification=verification)
        if isinstance(job, InpaintJob):
            from .inpaint.replace import replace

            variants = replace(job, self.models, step, cancel)
            return Result(job.job_id, Status.FINISHED, variants=tuple(variants))
        if isinstance(job, LoadModelJob):
            from .models.model_jobs import load_model

            load_model(job.model_id, self.models, step, cancel)
            return Result(job.job_id, Status.FINISHED, f"Loaded {job.model_id}.")
        if isinstance(job, DownloadJob):
            from .models.model_jobs import download_model

            download_model(job.model_id, self.models.settings, step, cancel)
            return Result(job.job_id, Status.FINISHED, f"Downloaded {job.model_id}.")
        raise TypeError(f"unknown job {job!r}")
