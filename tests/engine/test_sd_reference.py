"""The app's Stable Diffusion inpainting equals a direct diffusers call on the crop it sends.

The app cuts a crop around the mask, sizes it for the model, and asks its inpainter
(`DiffusionInpainter.paint`) for that crop; afterwards it resizes the result back,
matches its colour to the photo and blends it in through the feathered mask. Those
later steps are the app's own on purpose, so the comparison is made where the
pipeline's output is produced: the painted crop, against
`StableDiffusionInpaintPipeline(...)(...)` called directly on the same crop and hole
with the same prompt, steps, guidance, strength and seed. The reference pipeline is
loaded by diffusers itself and kept on the CPU; the app's runs keep-loaded, with
model offload and with sequential offload (accelerate's hooks, see `offload_on_the_cpu`).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from paintnoise_desktop.core.jobs import CancelToken, InpaintJob
from paintnoise_desktop.core.masks import feather
from paintnoise_desktop.engine.inpaint.diffusion import DiffusionInpainter
from paintnoise_desktop.engine.inpaint.diffusion_loader import load_inpaint_pipeline, native_size_of
from paintnoise_desktop.engine.inpaint.replace import replace_with
from tests.tinymodels.sd import offload_on_the_cpu

MODEL = "sd2-inpainting"
SETTINGS = {"prompt": "a red wooden bench", "negative_prompt": "blurry", "steps": 5, "guidance": 6.0,
            "strength": 0.8, "seed": 1234}


class RecordingInpainter:
    """The app's inpainter, unchanged, with each crop it is given and paints kept for comparison."""

    def __init__(self, inpainter: DiffusionInpainter) -> None:
        self.inner = inpainter
        self.name = inpainter.name
        self.native_size = inpainter.native_size
        self.calls: list[tuple] = []

    def paint(self, crop_rgb, crop_mask, request, seed, on_step, cancel):
        painted = self.inner.paint(crop_rgb, crop_mask, request, seed, on_step, cancel)
        self.calls.append((crop_rgb.copy(), crop_mask.copy(), request, seed, painted))
        return painted

    def take_notes(self) -> list[str]:
        return self.inner.take_notes()


def _photo_and_mask() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    y, x = np.mgrid[0:120, 0:160]
    photo = np.stack([x * 255 // 160, y * 255 // 120, np.full_like(x, 90)], axis=-1)
    photo = np.clip(photo + rng.integers(-10, 11, photo.shape), 0, 255).astype(np.uint8)
    mask = np.zeros((120, 160), np.uint8)
    mask[50:70, 60:95] = 255
    return photo, feather(mask, 3)


@pytest.fixture(scope="module")
def reference(tiny_models_dir):
    """The pipeline as diffusers loads it, called the documented way."""
    from diffusers import StableDiffusionInpaintPipeline

    pipe = StableDiffusionInpaintPipeline.from_pretrained(
        tiny_models_dir / MODEL, local_files_only=True, safety_checker=None, requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)

    def call(crop: np.ndarray, hole: np.ndarray, request, seed: int) -> np.ndarray:
        height, width = crop.shape[:2]
        image = pipe(
            request.prompt, image=Image.fromarray(crop), mask_image=Image.fromarray(hole),
            height=height, width=width, num_inference_steps=request.steps,
            guidance_scale=request.guidance, strength=request.strength,
            negative_prompt=request.negative_prompt or None,
            generator=torch.Generator().manual_seed(seed),
        ).images[0]
        return np.asarray(image)

    return call


def _app_paints(tiny_models_dir, profile: str) -> RecordingInpainter:
    pipe = load_inpaint_pipeline(tiny_models_dir / MODEL, torch.device("cpu"), torch.float32)
    offload_on_the_cpu(pipe, profile)
    inpainter = RecordingInpainter(DiffusionInpainter(pipe, MODEL, native_size_of(pipe)))
    photo, mask = _photo_and_mask()
    job = InpaintJob(1, photo, mask, inpainter=MODEL, **SETTINGS)
    replace_with(job, inpainter, lambda *a, **k: None, CancelToken())
    return inpainter


@pytest.mark.parametrize("profile", ("keep", "offload", "low"))
def test_the_painted_crop_equals_the_pipelines_own_output(tiny_models_dir, reference, profile):
    app = _app_paints(tiny_models_dir, profile)
    [(crop, hole, request, seed, painted)] = app.calls
    assert crop.shape[:2] == (32, 32) == hole.shape  # the model's native size for this small object
    assert (request.prompt, request.negative_prompt, request.steps, request.guidance, request.strength,
            seed) == ("a red wooden bench", "blurry", 5, 6.0, 0.8, 1234)
    expected = reference(crop, hole, request, seed)
    assert expected.shape == painted.shape
    assert np.abs(painted.astype(int) - expected.astype(int)).max() <= 1
    assert np.abs(painted.astype(int) - crop.astype(int))[hole > 0].max() > 10  # it did paint
    other_seed = reference(crop, hole, request, seed + 1)
    assert np.abs(other_seed.astype(int) - expected.astype(int)).max() > 1  # the check can tell
