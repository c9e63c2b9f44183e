"""Memory profiles with accelerate's real offload hooks, and the out-of-GPU-memory fallbacks.

Keep-loaded, model offload and sequential offload must all decode on the pipeline's
execution device. Everything runs on the CPU with the tiny SD model loaded by the
app's loader; the hooks are accelerate's own (see `offload_on_the_cpu`). Running out
of GPU memory is simulated by a UNet pre-hook that raises `torch.OutOfMemoryError`.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from paintnoise_desktop.core.errors import ModelError
from paintnoise_desktop.core.jobs import CancelToken, InpaintJob
from paintnoise_desktop.engine.inpaint.diffusion import (
    DiffusionInpainter,
    execution_device,
    is_offloaded,
)
from paintnoise_desktop.engine.inpaint.diffusion_loader import load_inpaint_pipeline
from paintnoise_desktop.engine.inpaint.inpainter import PaintRequest
from paintnoise_desktop.engine.inpaint.replace import replace_with
from paintnoise_desktop.engine.runner import Engine
from paintnoise_desktop.engine.settings import EngineSettings
from tests.tinymodels.sd import offload_on_the_cpu

MODEL = "sd2-inpainting"
PROFILES = ("keep", "offload", "low")
CPU = torch.device("cpu")
TILING_NOTE = "Ran out of GPU memory; finished with VAE tiling and attention slicing"
OFFLOAD_NOTE = "Ran out of GPU memory; finished with the model partly on the CPU"
SMALLER_NOTE = "Ran out of GPU memory; finished at a smaller working size"


def _pipeline(tiny_models_dir, profile: str, dtype: torch.dtype = torch.float32):
    pipe = load_inpaint_pipeline(tiny_models_dir / MODEL, CPU, dtype)
    offload_on_the_cpu(pipe, profile)
    return pipe


def _crop() -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:32, 0:32]
    crop = np.stack([x * 8, y * 8, np.full_like(x, 120)], axis=-1).astype(np.uint8)
    mask = np.zeros((32, 32), np.uint8)
    mask[8:24, 10:26] = 255
    return crop, mask


def _paint(pipe, seed: int = 3) -> np.ndarray:
    crop, mask = _crop()
    inpainter = DiffusionInpainter(pipe, MODEL, 32)
    return inpainter.paint(crop, mask, PaintRequest("a cat", steps=2), seed, lambda *a: None, CancelToken())


def _job() -> InpaintJob:
    y, x = np.mgrid[0:96, 0:128]
    photo = np.stack([x % 256, y % 256, np.full_like(x, 120)], axis=-1).astype(np.uint8)
    mask = np.zeros((96, 128), np.uint8)
    mask[40:60, 50:80] = 255
    return InpaintJob(1, photo, mask, prompt="a cat", inpainter=MODEL, steps=2, seed=7)


def run_out_of_memory(pipe, times: int, run):
    """`run()` with the first `times` UNet calls failing as a full GPU's would."""
    raised = []

    def hook(module, args):
        if len(raised) < times:
            raised.append(1)
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")

    handle = pipe.unet.register_forward_pre_hook(hook)
    try:
        return run()
    finally:
        handle.remove()


def _replace(pipe):
    inpainter = DiffusionInpainter(pipe, MODEL, 32)
    return replace_with(_job(), inpainter, lambda *a, **k: None, CancelToken())[0]


@pytest.fixture(scope="module")
def clean(tiny_models_dir):
    """The keep-loaded results every profile and fallback must reproduce."""
    pipe = _pipeline(tiny_models_dir, "keep")
    return _paint(pipe), _replace(pipe).image


@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_decodes_on_the_execution_device_and_paints_the_same(tiny_models_dir, clean, profile):
    pipe = _pipeline(tiny_models_dir, profile)
    assert is_offloaded(pipe) == (profile != "keep")
    if profile == "low":
        assert pipe.vae.device.type == "meta"  # what the latents used to be sent to
    decoded_on = []
    handle = pipe.vae.decoder.register_forward_pre_hook(lambda module, args: decoded_on.append(args[0].device))
    try:
        painted = _paint(pipe)
    finally:
        handle.remove()
    assert decoded_on == [CPU]  # one piece: at the native size even a tiled VAE decodes whole
    assert np.abs(painted.astype(int) - clean[0]).max() <= 1


def test_a_vae_offloaded_by_itself_decodes(tiny_models_dir, clean):
    """The issue's reproduction: `accelerate.cpu_offload(pipe.vae)` leaves `vae.device` on meta."""
    from accelerate import cpu_offload

    pipe = _pipeline(tiny_models_dir, "keep")
    cpu_offload(pipe.vae)
    assert pipe.vae.device.type == "meta" and execution_device(pipe) == CPU
    assert np.abs(_paint(pipe).astype(int) - clean[0]).max() <= 1


def test_a_model_offloaded_pipeline_decodes_on_its_gpu_not_where_the_vae_waits(tiny_models_dir):
    """With model offload the VAE sits on the CPU until its hook moves it to the GPU.

    Installing the hooks touches no GPU, so this runs anywhere; nothing is painted.
    """
    pipe = _pipeline(tiny_models_dir, "keep")
    pipe.enable_model_cpu_offload(device="cuda:0")
    assert pipe.vae.device == CPU
    assert execution_device(pipe) == torch.device("cuda:0")


@pytest.mark.parametrize("profile", ("offload", "low"))
def test_half_precision_offloaded_decodes_in_full_precision_and_repaints_a_nan_result(tiny_models_dir,
                                                                                     profile):
    pipe = _pipeline(tiny_models_dir, profile, torch.float16)
    decoded, unet_dtypes = [], []

    def nan_once(module, args, output):
        decoded.append(output.dtype)
        return torch.full_like(output, float("nan")) if len(decoded) == 1 else output

    handles = [pipe.vae.decoder.register_forward_hook(nan_once),
               pipe.unet.register_forward_pre_hook(lambda module, args: unet_dtypes.append(args[0].dtype))]
    inpainter = DiffusionInpainter(pipe, MODEL, 32)
    crop, mask = _crop()
    try:
        painted = inpainter.paint(crop, mask, PaintRequest("a cat", steps=2), 3, lambda *a: None,
                                  CancelToken())
    finally:
        for handle in handles:
            handle.remove()
    assert decoded == [torch.float32, torch.float32]  # the fp16 VAE decodes upcast, then in fp32
    assert unet_dtypes == [torch.float16] * 2 + [torch.float32] * 2
    assert inpainter.take_notes() == ["The first result was invalid; painted again in full precision"]
    assert pipe.vae.dtype == pipe.unet.dtype == torch.float16
    assert painted.shape == (32, 32, 3) and painted.max() > 0


def test_out_of_memory_steps_down_to_vae_tiling_then_to_cpu_offload(tiny_models_dir, clean):
    pipe = _pipeline(tiny_models_dir, "keep")
    first = run_out_of_memory(pipe, 1, lambda: _replace(pipe))
    assert first.note == TILING_NOTE
    assert pipe.vae.use_tiling and not is_offloaded(pipe)
    pipe = _pipeline(tiny_models_dir, "keep")
    second = run_out_of_memory(pipe, 2, lambda: _replace(pipe))
    assert second.note == f"{TILING_NOTE}. {OFFLOAD_NOTE}"
    assert is_offloaded(pipe) and pipe.vae.device == CPU  # offloaded again after decoding
    assert np.abs(second.image.astype(int) - clean[1]).max() <= 1
    third = _replace(pipe)  # the next job runs offloaded, without running out
    assert third.note == "" and np.abs(third.image.astype(int) - clean[1]).max() <= 1


def test_out_of_memory_after_offloading_paints_at_a_smaller_size(tiny_models_dir):
    pipe = _pipeline(tiny_models_dir, "keep")
    result = run_out_of_memory(pipe, 3, lambda: _replace(pipe))
    assert result.note == f"{TILING_NOTE}. {OFFLOAD_NOTE}. {SMALLER_NOTE}"
    job = _job()
    outside = job.mask == 0
    assert np.array_equal(result.image[outside], job.image[outside])


@pytest.mark.parametrize("profile", ("offload", "low"))
def test_an_offloaded_pipeline_that_runs_out_goes_straight_to_a_smaller_size(tiny_models_dir, profile):
    pipe = _pipeline(tiny_models_dir, profile)
    result = run_out_of_memory(pipe, 2, lambda: _replace(pipe))
    assert result.note == f"{TILING_NOTE}. {SMALLER_NOTE}"


def test_out_of_memory_at_every_size_fails_with_what_to_do(tiny_models_dir):
    pipe = _pipeline(tiny_models_dir, "keep")
    with pytest.raises(ModelError, match="even at a small size"):
        run_out_of_memory(pipe, 100, lambda: _replace(pipe))


def test_the_engine_reports_the_fallback_it_took(tiny_models_dir):
    engine = Engine(EngineSettings(models_dir=tiny_models_dir))
    job = _job()
    pipe = DiffusionInpainter.for_model(MODEL, engine.models).pipeline
    result = run_out_of_memory(pipe, 1, lambda: engine.run(job, lambda p: None, CancelToken()))
    assert result.ok, result.detail
    assert result.variants[0].note == TILING_NOTE


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_paints_on_a_real_gpu(models_env, profile):
    engine = Engine(EngineSettings(device="cuda", memory_profile=profile))
    result = engine.run(_job(), lambda p: None, CancelToken())
    assert result.ok, result.detail
    assert engine.models.loaded() == [f"{MODEL}@cuda:float16:{profile}"]


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_out_of_gpu_memory_falls_back_to_cpu_offload_on_a_real_gpu(models_env):
    engine = Engine(EngineSettings(device="cuda"))
    pipe = DiffusionInpainter.for_model(MODEL, engine.models).pipeline
    result = run_out_of_memory(pipe, 2, lambda: engine.run(_job(), lambda p: None, CancelToken()))
    assert result.ok, result.detail
    assert OFFLOAD_NOTE in result.variants[0].note
