"""Which of several installed models of one kind a finder uses: the first installed, best first."""

from __future__ import annotations

from ..settings import EngineSettings
from .registry import find_model

SAM_MODEL_IDS = ("sam-vit-h", "sam-vit-l", "sam-vit-b")
CLIP_MODEL_IDS = ("clip-vit-large-patch14", "clip-vit-base-patch32")


def preferred_model(model_ids: tuple[str, ...], settings: EngineSettings) -> str:
    """The best installed of `model_ids`; else the last, which the "not installed" error names."""
    for model_id in model_ids:
        if find_model(model_id, settings) is not None:
            return model_id
    return model_ids[-1]
