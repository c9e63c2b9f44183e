"""Find: masks from words. Dispatches a `FindJob` to the method it names.

Candidates come back ranked best first, masks at the working size, boxes in
photo coordinates. Which of them to use ("best" or "all") is decided by the
caller with `engine.ranking.select`, which needs no torch.
"""

from __future__ import annotations

from ...core.errors import PaintNoiseError
from ...core.jobs import CancelToken, FindJob, MaskCandidate, StepCallback
from ..models.model_store import ModelStore


def find(
    job: FindJob, models: ModelStore, step: StepCallback, cancel: CancelToken
) -> list[MaskCandidate]:
    if job.method == "segclip":
        from .segclip import find_segclip

        return find_segclip(job, models, step, cancel)
    raise PaintNoiseError(f"There is no way to find things called '{job.method}'. Use 'segclip'.")
