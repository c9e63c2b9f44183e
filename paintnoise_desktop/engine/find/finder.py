"""Find: masks from words. Dispatches a `FindJob` to the method it names.

Candidates come back ranked best first, masks at the working size, boxes in
photo coordinates. Which of them to use ("best" or "all") is decided by the
caller with `engine.ranking.select`, which needs no torch.
"""

from __future__ import annotations

from dataclasses import replace
from importlib import import_module

from ...core.errors import PaintNoiseError
from ...core.jobs import CancelToken, FindJob, MaskCandidate, StepCallback
from ..models.model_store import ModelStore
from ..models.needs import AUTOMATIC_FINDER, automatic_finder

# method -> (module in this package, function); modules import torch, so they load on use
METHODS: dict[str, tuple[str, str]] = {
    "segclip": ("segclip", "find_segclip"),
    "clipseg": ("clipseg", "find_clipseg"),
    "segformer": ("segformer", "find_segformer"),
    "sam3": ("sam3", "find_sam3"),
    "diffedit": ("diffedit", "find_diffedit"),
    "points": ("points", "find_points"),
}


def find(
    job: FindJob, models: ModelStore, step: StepCallback, cancel: CancelToken
) -> list[MaskCandidate]:
    if job.method == AUTOMATIC_FINDER:
        job = replace(job, method=automatic_finder(models.settings))
    if job.method not in METHODS:
        raise PaintNoiseError(
            f"There is no way to find things called '{job.method}'. "
            f"Use one of: {', '.join(METHODS)}."
        )
    module, function = METHODS[job.method]
    method = getattr(import_module(f".{module}", __package__), function)
    return method(job, models, step, cancel)
