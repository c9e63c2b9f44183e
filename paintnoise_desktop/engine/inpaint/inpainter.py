"""Inpainters: things that repaint the masked part of one crop.

The replace pipeline (`engine/inpaint/replace.py`) cuts crops, sizes them for the
inpainter and blends the results back; an inpainter only ever sees one crop at its
working size. `inpainter_for` picks one by the name an `InpaintJob` carries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ...core.jobs import CancelToken
from ..models.model_store import ModelStore

OPENCV_METHODS = ("opencv-telea", "opencv-ns")
#: Fast learned inpainters, one network pass per crop (learned.py).
LEARNED_INPAINTERS = ("lama", "deepfill-v2")
#: CLIPAway: removal by Stable Diffusion 1.5 inpainting steered to the background (clipaway.py).
CLIPAWAY = "clipaway"
CLIPAWAY_ONLY_REMOVES = (
    "CLIPAway only removes: it paints the background over what is masked and cannot paint "
    "words. Leave the replacement empty, or choose Stable Diffusion to paint it.")

# on_step(step, steps, preview): preview is a small RGB uint8 image or None. Raising
# JobCancelled from it (the Engine's `step` does when Cancel was pressed) stops the crop.
OnStep = Callable[[int, int, "np.ndarray | None"], None]


@dataclass(frozen=True)
class PaintRequest:
    prompt: str = ""
    negative_prompt: str = ""
    steps: int = 25
    guidance: float = 7.5
    strength: float = 1.0


class Inpainter(Protocol):
    # The resolution the inpainter works best at (512 for SD 2); None: the crop's own size.
    native_size: int | None
    # Human-readable name for progress messages and notes.
    name: str

    def paint(
        self,
        crop_rgb: np.ndarray,
        crop_mask: np.ndarray,
        request: PaintRequest,
        seed: int,
        on_step: OnStep,
        cancel: CancelToken,
    ) -> np.ndarray:
        """The crop (h x w x 3 uint8) with the pixels where crop_mask > 0 repainted, same size."""
        ...

    def take_notes(self) -> list[str]:
        """What the user should know about the crops painted since the last call (fallbacks)."""
        ...


def inpainter_for(name: str, models: ModelStore) -> Inpainter:
    """"opencv-telea", "opencv-ns", "clipaway", a model id ("sd2-inpainting", ...) or a model
    folder/file."""
    if name in OPENCV_METHODS:
        from .opencv import OpenCVInpainter

        return OpenCVInpainter(name)
    if name == CLIPAWAY:
        from .clipaway import CLIPAwayInpainter

        return CLIPAwayInpainter.for_store(models)
    if name in LEARNED_INPAINTERS:
        from .learned import LearnedInpainter

        return LearnedInpainter.for_model(name, models)
    from .diffusion import DiffusionInpainter

    return DiffusionInpainter.for_model(name, models)
