"""Which of several installed models of one kind a finder uses: the first installed, best first."""

from __future__ import annotations

from ..settings import EngineSettings
from .registry import find_model

SAM_MODEL_IDS = ("sam-vit-h", "sam-vit-l", "sam-vit-b")
CLIP_MODEL_IDS = ("clip-vit-large-patch14", "clip-vit-base-patch32")
FAST_PROPOSAL_MODEL = "sam2.1-hiera-tiny"  # SegCLIP's proposals on the CPU (sam2_proposals.py)
SAM3_MODEL = "sam3"  # the "sam3" Find method's one model
DIFFEDIT_MODEL = "sd15"  # the text-to-image Stable Diffusion the "diffedit" Find method reads


def preferred_model(model_ids: tuple[str, ...], settings: EngineSettings) -> str:
    """The best installed of `model_ids`; else the last, which the "not installed" error names."""
    for model_id in model_ids:
        if find_model(model_id, settings) is not None:
            return model_id
    return model_ids[-1]


def proposal_model(settings: EngineSettings, on_cpu: bool) -> str:
    """What proposes SegCLIP's objects: the fast model on the CPU when it is installed and the
    `fast_cpu_finder` setting is on (and on any device when no Segment Anything is installed,
    since it beats failing); else the best installed Segment Anything."""
    fast = settings.fast_cpu_finder and find_model(FAST_PROPOSAL_MODEL, settings) is not None
    if fast and (on_cpu or all(find_model(sam, settings) is None for sam in SAM_MODEL_IDS)):
        return FAST_PROPOSAL_MODEL
    return preferred_model(SAM_MODEL_IDS, settings)
