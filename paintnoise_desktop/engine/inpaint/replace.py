"""Replace or remove what is masked: crop around the mask, repaint, blend back.

The Engine calls `replace` for an `InpaintJob`. Every crop is resized to the
inpainter's working size, repainted, resized back, matched in colour to the photo
around it and blended in through the (already feathered) mask, so pixels where the
mask is 0 keep their exact bytes. `job.image` is never modified; a cancelled job
returns nothing.
"""

from __future__ import annotations

import secrets

import numpy as np

from ...core.box import Box, slices, union
from ...core.colour import match_to_surroundings
from ...core.compositing import composite
from ...core.crop import CropPlan, plan_crops, resize_hole, resize_pixels
from ...core.errors import PaintNoiseError
from ...core.jobs import CancelToken, InpaintJob, InpaintVariant, StepCallback
from ..models.catalog import known_spec
from ..models.model_store import ModelStore
from ..models.needs import AUTOMATIC_INPAINTER, automatic_inpainter
from .inpainter import (
    CLIPAWAY,
    CLIPAWAY_ONLY_REMOVES,
    OPENCV_METHODS,
    Inpainter,
    OnStep,
    PaintRequest,
    inpainter_for,
)
from .removal import is_removal, paint_request

MAX_VARIANTS = 16
ONE_OFFLINE_VARIANT = "The offline inpainter paints the same every time, so it made one variant"


def inpainter_title(name: str) -> str:
    """The inpainter as the user knows it: "the offline inpainter", a catalogue model's name."""
    if name in OPENCV_METHODS:
        return "the offline inpainter"
    if name == CLIPAWAY:
        return "CLIPAway"
    spec = known_spec(name)
    return spec.name if spec is not None else name


def offline_note(name: str, prompt: str) -> str:
    """What the user should know when the offline inpainter was asked to paint something."""
    if name not in OPENCV_METHODS or not prompt.strip():
        return ""
    return (f"The offline inpainter can only remove; install a Stable Diffusion inpainting "
            f"model to paint \u201c{prompt.strip()}\u201d")


def replace(
    job: InpaintJob, models: ModelStore, step: StepCallback, cancel: CancelToken
) -> list[InpaintVariant]:
    _check(job)
    name = job.inpainter
    if name == AUTOMATIC_INPAINTER:
        name = automatic_inpainter(job.prompt, models.settings)
    step(0.0, f"Preparing {inpainter_title(name)}\u2026")
    if job.guidance_mode == "clip":
        from .guided import guided_inpainter

        return replace_with(job, guided_inpainter(name, job, models), step, cancel)
    return replace_with(job, inpainter_for(name, models), step, cancel)


def replace_with(
    job: InpaintJob, inpainter: Inpainter, step: StepCallback, cancel: CancelToken
) -> list[InpaintVariant]:
    """`replace` with an inpainter already at hand (benchmarks, the command line's batches)."""
    _check(job)
    plans = plan_crops(job.mask, inpainter.native_size)
    request = paint_request(job)
    seed = job.seed if job.seed is not None else secrets.randbelow(2**31 - MAX_VARIANTS)
    touched = _union_of(plan.region for plan in plans)
    # The offline inpainter has no seed: more variants would be the same picture again.
    count = 1 if inpainter.name in OPENCV_METHODS else job.variants
    units = count * len(plans)
    variants = []
    for k in range(count):
        image = job.image
        for i, plan in enumerate(plans):
            label = _label(k, count, i, len(plans))
            unit = k * len(plans) + i

            def on_step(done: int, total: int, preview: np.ndarray | None, unit=unit, label=label):
                step((unit + done / max(total, 1)) / units, f"Painting {done}/{total}{label}", preview)

            image = paint_crop(image, job.mask, plan, inpainter, request, seed + k, on_step, cancel)
        notes = [offline_note(inpainter.name, job.prompt), *inpainter.take_notes()]
        if count < job.variants:
            notes.append(ONE_OFFLINE_VARIANT)
        note = ". ".join(dict.fromkeys(note for note in notes if note))
        variants.append(InpaintVariant(image, touched, seed + k, note))
    step(1.0, "Done")
    return variants


def paint_crop(
    image: np.ndarray,
    mask: np.ndarray,
    plan: CropPlan,
    inpainter: Inpainter,
    request: PaintRequest,
    seed: int,
    on_step: OnStep,
    cancel: CancelToken,
) -> np.ndarray:
    """A new image with `plan.region` of `mask` repainted; `image` is left as it is."""
    crop = image[slices(plan.box)]
    alpha = np.zeros(crop.shape[:2], dtype=np.uint8)
    x0, y0 = plan.box[0], plan.box[1]
    rx0, ry0, rx1, ry1 = plan.region
    alpha[ry0 - y0:ry1 - y0, rx0 - x0:rx1 - x0] = mask[slices(plan.region)]
    work_crop = resize_pixels(crop, plan.work_size)
    work_hole = resize_hole(alpha, plan.work_size)
    painted = inpainter.paint(work_crop, work_hole, request, seed, on_step, cancel)
    if painted.shape != work_crop.shape:
        raise PaintNoiseError(
            f"The inpainter '{inpainter.name}' returned an image of the wrong size.",
            detail=f"expected {work_crop.shape}, got {painted.shape}",
        )
    painted = resize_pixels(painted, plan.size)
    painted = match_to_surroundings(painted, crop, alpha)
    return composite(image, painted, plan.box, alpha)


def _check(job: InpaintJob) -> None:
    image, mask = job.image, job.mask
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise PaintNoiseError("The photo must be an RGB image with 8 bits per channel.",
                              detail=f"got {image.shape} {image.dtype}")
    if mask.shape != image.shape[:2] or mask.dtype != np.uint8:
        raise PaintNoiseError("The mask does not match the photo's size. Find or brush the mask again.",
                              detail=f"mask {mask.shape} {mask.dtype}, photo {image.shape}")
    if not mask.any():
        raise PaintNoiseError("Nothing is masked. Find something or paint over it with the brush first.")
    if job.inpainter == CLIPAWAY and not is_removal(job):
        raise PaintNoiseError(CLIPAWAY_ONLY_REMOVES, detail=f"prompt {job.prompt!r}")
    if job.guidance_mode == "clip" and (
            min(job.clip_weight, job.l2_weight, job.lpips_weight) < 0 or job.guide_every < 1):
        raise PaintNoiseError("CLIP guidance needs weights of 0 or more and a guidance interval "
                              "of at least one step.")
    if not 1 <= job.variants <= MAX_VARIANTS:
        raise PaintNoiseError(f"Ask for between 1 and {MAX_VARIANTS} variants.")
    if job.steps < 1 or not 0.0 < job.strength <= 1.0 or job.steps * job.strength < 1:
        raise PaintNoiseError("Use at least one sampling step and a strength between 0 and 1.",
                              detail=f"steps {job.steps}, strength {job.strength}")


def _label(variant: int, variants: int, crop: int, crops: int) -> str:
    parts = []
    if variants > 1:
        parts.append(f"variant {variant + 1}/{variants}")
    if crops > 1:
        parts.append(f"area {crop + 1}/{crops}")
    return f" ({', '.join(parts)})" if parts else ""


def _union_of(boxes) -> Box:
    total = None
    for box in boxes:
        total = union(total, box)
    assert total is not None
    return total
