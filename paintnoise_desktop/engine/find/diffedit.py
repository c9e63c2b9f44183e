"""DiffEdit: the mask is where Stable Diffusion's noise estimate changes with the prompt.

diffusers' `StableDiffusionDiffEditPipeline.generate_mask` noises the photo half way, asks
the UNet for its noise estimate under a source prompt (the Find text: what is there) and a
target prompt (the Replace text: what should be there; `GENERIC_TARGET`, "background",
when the Replace box is empty, i.e. for a removal), and thresholds their difference, averaged
over several noise draws, into a latent-sized mask.

The library's one call over `NOISE_MAPS` noise draws is made as `STEPS` calls of
`NOISE_MAPS // STEPS` draws each, every one thresholded as the library does and the masks
joined by majority vote: a step is one call, so progress is reported after each and Cancel
is heard between them (one call over all draws takes minutes on a CPU). The candidate's
score is how many of the steps agree inside its mask.

The model is a Stable Diffusion text-to-image checkpoint (catalogue id "sd15"), read by the
inpainters' own loader (`diffusion_loader.load_inpaint_pipeline`) into DiffEdit's pipeline.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from PIL import Image

from ...core.errors import PaintNoiseError
from ...core.jobs import CancelToken, FindJob, MaskCandidate, StepCallback
from ...core.masks import bounding_box
from ..inpaint.diffusion_loader import load_inpaint_pipeline, native_size_of
from ..models.catalog import get_spec
from ..models.device import pick_device, pick_dtype, pick_memory_profile
from ..models.model_choice import DIFFEDIT_MODEL
from ..models.model_store import ModelStore
from ..models.registry import require_model
from .proposals import working_copy
from .segclip import full_resolution_box

GENERIC_TARGET = "background"  # the target prompt when the Replace text is empty
NOISE_MAPS = 10  # the library's default num_maps_per_mask
STEPS = 5
STRENGTH = 0.5  # the library's default mask_encode_strength
SEED = 0  # the noise draws are the same for the same photo and words


def target_prompt(replace_text: str) -> str:
    return replace_text.strip() or GENERIC_TARGET


def model_input(image: np.ndarray, side: int, multiple: int) -> np.ndarray:
    """`image` with its long side `side` and both sides multiples of `multiple`."""
    h, w = image.shape[:2]
    scale = side / max(h, w)
    size = tuple(max(multiple, round(n * scale / multiple) * multiple) for n in (w, h))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def get_diffedit(models: ModelStore):
    """DiffEdit's pipeline over the installed text-to-image model, loaded once, kept warm."""
    from diffusers import DDIMInverseScheduler, DDIMScheduler, StableDiffusionDiffEditPipeline

    settings = models.settings
    folder = require_model(DIFFEDIT_MODEL, settings)
    device = pick_device(settings)
    dtype = pick_dtype(device, settings)
    profile = pick_memory_profile(device, settings, get_spec(DIFFEDIT_MODEL).min_memory_gb)

    def load():
        pipe = load_inpaint_pipeline(folder, device, dtype, profile,
                                     pipeline_class=StableDiffusionDiffEditPipeline)
        pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config)
        pipe.inverse_scheduler = DDIMInverseScheduler.from_config(pipe.scheduler.config)
        return pipe

    key = f"{DIFFEDIT_MODEL}/diffedit@{device}:{str(dtype).removeprefix('torch.')}:{profile}"
    return models.get(key, load)


def find_diffedit(
    job: FindJob, models: ModelStore, step: StepCallback, cancel: CancelToken
) -> list[MaskCandidate]:
    source = job.text.strip()
    if not source:
        raise PaintNoiseError("Type what to find, for example: red car.")
    step(0.0, "Loading Stable Diffusion")
    pipe = get_diffedit(models)
    working = working_copy(job.image)
    photo = model_input(working, native_size_of(pipe), pipe.vae_scale_factor)
    votes = None
    for number in range(STEPS):
        step(0.05 + 0.9 * number / STEPS, f"Comparing the words, step {number + 1} of {STEPS}")
        generator = torch.Generator("cpu").manual_seed(SEED + number)
        with torch.inference_mode():
            mask = pipe.generate_mask(
                image=Image.fromarray(photo), source_prompt=source, target_prompt=target_prompt(job.replace_text),
                num_maps_per_mask=NOISE_MAPS // STEPS, mask_encode_strength=STRENGTH,
                generator=generator, output_type="np",
            )[0]
        votes = mask if votes is None else votes + mask
    step(0.95, "Comparing the words")
    agreement = cv2.resize(votes.astype(np.float32) / STEPS, working.shape[1::-1],
                           interpolation=cv2.INTER_LINEAR)
    found = agreement > 0.5
    if not found.any():
        return []
    mask = found.astype(np.uint8) * np.uint8(255)
    box = full_resolution_box(bounding_box(mask), mask.shape, job.image.shape[:2])
    score = float(agreement[found].mean())
    return [MaskCandidate(mask, score, box, "diffedit", source)]
