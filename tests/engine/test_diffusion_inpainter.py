"""Stable Diffusion inpainting end to end with the tiny model, loaded from disk as a user's would be."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from paintnoise_desktop.core.jobs import CancelToken, InpaintJob, Status
from paintnoise_desktop.engine.inpaint.inpainter import inpainter_for
from paintnoise_desktop.engine.inpaint.removal import REMOVAL_NEGATIVE
from paintnoise_desktop.engine.runner import Engine
from paintnoise_desktop.engine.settings import EngineSettings
from tests.engine.conftest import run_cancelled_after_first_step

MODEL = "sd2-inpainting"


def _photo(height: int = 96, width: int = 128) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x % 256, y % 256, np.full_like(x, 120)], axis=-1).astype(np.uint8)


def _mask(height: int = 96, width: int = 128, box=(50, 40, 80, 60)) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    x0, y0, x1, y1 = box
    mask[y0:y1, x0:x1] = 255
    return mask


def _job(**fields) -> InpaintJob:
    values = {"job_id": 1, "image": _photo(), "mask": _mask(), "prompt": "a cat", "inpainter": MODEL,
              "steps": 2, "seed": 7}
    values.update(fields)
    return InpaintJob(**values)


def _run(engine: Engine, job: InpaintJob, cancel: CancelToken | None = None):
    progress = []
    result = engine.run(job, progress.append, cancel or CancelToken())
    return result, progress


@pytest.fixture(scope="module")
def engine(tiny_models_dir) -> Engine:
    """One engine for the module, so the tiny pipeline is loaded once and kept warm."""
    return Engine(EngineSettings(models_dir=tiny_models_dir))


def test_the_tiny_model_loads_from_its_folder_with_the_native_size_it_declares(engine):
    inpainter = inpainter_for(MODEL, engine.models)
    assert inpainter.native_size == 32  # unet sample size 16 x VAE scale 2
    assert inpainter.pipeline.safety_checker is None
    assert engine.models.loaded() == [f"{MODEL}@cpu:float32:keep"]
    assert inpainter_for(MODEL, engine.models).pipeline is inpainter.pipeline  # kept warm


def test_same_seed_same_bytes_other_seed_other_bytes(engine):
    first, _ = _run(engine, _job(seed=7))
    again, _ = _run(engine, _job(seed=7))
    other, _ = _run(engine, _job(seed=8))
    assert first.ok, first.detail
    assert np.array_equal(first.variants[0].image, again.variants[0].image)
    assert not np.array_equal(first.variants[0].image, other.variants[0].image)


def test_variants_differ_and_report_their_seeds(engine):
    result, _ = _run(engine, _job(seed=100, variants=2))
    a, b = result.variants
    assert (a.seed, b.seed) == (100, 101)
    assert not np.array_equal(a.image, b.image)
    single, _ = _run(engine, _job(seed=101))
    assert np.array_equal(single.variants[0].image, b.image)  # variant k is seed + k


def test_outside_the_mask_a_large_photo_keeps_its_bytes(engine):
    photo = _photo(2000, 3000)
    mask = _mask(2000, 3000, (1500, 1000, 1540, 1030))
    result, _ = _run(engine, _job(image=photo, mask=mask))
    image = result.variants[0].image
    assert np.array_equal(image[mask == 0], photo[mask == 0])
    assert not np.array_equal(image[mask > 0], photo[mask > 0])
    assert result.variants[0].box == (1500, 1000, 1540, 1030)


def test_progress_per_step_with_previews(engine):
    _, progress = _run(engine, _job(steps=3))
    painting = [p for p in progress if p.message.startswith("Painting")]
    assert [p.message for p in painting] == ["Painting 1/3", "Painting 2/3", "Painting 3/3"]
    for p in painting:
        assert p.preview.dtype == np.uint8 and p.preview.ndim == 3 and p.preview.shape[2] == 3
    assert [p.fraction for p in painting] == pytest.approx([1 / 3, 2 / 3, 1.0])


def test_cancel_after_the_first_step_stops_the_job_and_leaves_the_photo(engine):
    job = _job(steps=5, variants=2)
    before = job.image.copy()
    result, progress = run_cancelled_after_first_step(engine, job)
    assert result.status is Status.CANCELLED and result.variants == ()
    assert np.array_equal(job.image, before)
    assert [p.message for p in progress if p.message.startswith("Painting")] == ["Painting 1/5 (variant 1/2)"]


def _nan_decoder(engine: Engine, times: int | None):
    """Make the real VAE decoder return NaN (`times` times, or always); count its calls."""
    pipe = inpainter_for(MODEL, engine.models).pipeline
    calls = []

    def hook(module, args, output):
        calls.append(1)
        if times is None or len(calls) <= times:
            return torch.full_like(output, float("nan"))
        return output

    return pipe.vae.decoder.register_forward_hook(hook), calls


def test_a_nan_result_is_painted_again_in_full_precision(engine):
    clean, _ = _run(engine, _job())
    handle, calls = _nan_decoder(engine, times=1)
    try:
        result, _ = _run(engine, _job())
    finally:
        handle.remove()
    assert result.ok, result.detail
    assert len(calls) == 2
    assert "full precision" in result.variants[0].note
    assert np.array_equal(result.variants[0].image, clean.variants[0].image)


def test_a_result_that_stays_nan_is_never_applied(engine):
    handle, calls = _nan_decoder(engine, times=None)
    try:
        result, _ = _run(engine, _job())
    finally:
        handle.remove()
    assert result.status is Status.FAILED and result.variants == ()
    assert "nothing was changed" in result.message
    assert len(calls) == 2


@pytest.fixture(scope="module")
def half_engine(tiny_models_dir) -> Engine:
    """The half-precision path as on a GPU, run on the CPU."""
    return Engine(EngineSettings(models_dir=tiny_models_dir, device="cpu", precision="fp16"))


def test_half_precision_decodes_in_full_precision_and_stays_half(half_engine):
    pipe = inpainter_for(MODEL, half_engine.models).pipeline
    decoded = []
    handle = pipe.vae.decoder.register_forward_hook(lambda module, args, output: decoded.append(output.dtype))
    try:
        result, _ = _run(half_engine, _job())
    finally:
        handle.remove()
    assert result.ok, result.detail
    assert half_engine.models.loaded() == [f"{MODEL}@cpu:float16:keep"]
    assert decoded == [torch.float32]
    assert pipe.vae.dtype == pipe.unet.dtype == torch.float16
    assert next(pipe.vae.decoder.parameters()).dtype == torch.float16
    assert not any(p.is_inference() for p in pipe.vae.parameters())


def test_a_nan_in_half_precision_is_painted_again_in_full_precision(half_engine):
    handle, calls = _nan_decoder(half_engine, times=1)
    pipe = inpainter_for(MODEL, half_engine.models).pipeline
    unet_dtypes = []
    watch = pipe.unet.register_forward_pre_hook(lambda module, args: unet_dtypes.append(args[0].dtype))
    try:
        result, _ = _run(half_engine, _job(steps=2))
    finally:
        handle.remove()
        watch.remove()
    assert result.ok, result.detail
    assert "full precision" in result.variants[0].note
    assert len(calls) == 2
    assert unet_dtypes == [torch.float16] * 2 + [torch.float32] * 2
    assert pipe.unet.dtype == pipe.vae.dtype == torch.float16


def test_removal_prompts_reach_the_text_encoder(engine):
    pipe = inpainter_for(MODEL, engine.models).pipeline
    texts = []
    handle = pipe.text_encoder.register_forward_pre_hook(
        lambda module, args: texts.append(pipe.tokenizer.decode(args[0][0], skip_special_tokens=True))
    )
    try:
        result, _ = _run(engine, _job(prompt="", find_text="red car", negative_prompt="blurry"))
    finally:
        handle.remove()
    assert result.ok, result.detail
    prompt, negative = texts
    assert prompt.startswith("empty background")
    assert negative.replace(" ", "") == f"red car, {REMOVAL_NEGATIVE}, blurry".replace(" ", "")


def test_a_model_folder_set_by_the_user_for_a_model_id_loads(models_env):
    engine = Engine(EngineSettings(model_paths={"sd15-inpainting": str(models_env / MODEL)}))
    result, _ = _run(engine, _job(inpainter="sd15-inpainting"))
    assert result.ok, result.detail
    assert engine.models.loaded() == ["sd15-inpainting@cpu:float32:keep"]


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_half_precision_on_the_gpu_gives_a_finite_result(models_env):
    engine = Engine(EngineSettings(device="cuda"))
    result, _ = _run(engine, _job(steps=3))
    assert result.ok, result.detail
    assert engine.models.loaded() == [f"{MODEL}@cuda:float16:keep"]  # an idle GPU has room
    assert inpainter_for(MODEL, engine.models).pipeline.vae.dtype == torch.float16  # upcast only while decoding
    assert not np.array_equal(result.variants[0].image[40:60, 50:80], _photo()[40:60, 50:80])


def test_a_model_folder_given_as_an_absolute_path_loads(tiny_models_dir):
    engine = Engine(EngineSettings(models_dir=tiny_models_dir / "empty"))
    folder = str(tiny_models_dir / MODEL)
    result, _ = _run(engine, _job(inpainter=folder))
    assert result.ok, result.detail
    assert engine.models.loaded() == [f"{folder}@cpu:float32:keep"]


def test_half_precision_weight_files_as_the_catalogue_downloads_them_load(tmp_path):
    from tests.tinymodels.sd import tiny_sd_inpainting_pipeline

    folder = tmp_path / "models" / MODEL
    tiny_sd_inpainting_pipeline().save_pretrained(folder, safe_serialization=True, variant="fp16")
    assert (folder / "unet" / "diffusion_pytorch_model.fp16.safetensors").exists()
    assert not (folder / "unet" / "diffusion_pytorch_model.safetensors").exists()
    engine = Engine(EngineSettings(models_dir=tmp_path / "models"))
    result, _ = _run(engine, _job())
    assert result.ok, result.detail
    assert inpainter_for(MODEL, engine.models).pipeline.unet.dtype == torch.float32


def test_a_single_checkpoint_without_an_installed_configuration_is_refused_clearly(tmp_path):
    from safetensors.torch import save_file

    from paintnoise_desktop.engine.inpaint.diffusion_loader import checkpoint_family

    checkpoint = tmp_path / "my-inpainting.safetensors"
    save_file({"cond_stage_model.transformer.text_model.embeddings.position_ids": torch.zeros(1, 77)},
              str(checkpoint))
    assert checkpoint_family(checkpoint) == "sd15-inpainting"
    engine = Engine(EngineSettings(models_dir=tmp_path / "models"))
    result, _ = _run(engine, _job(inpainter=str(checkpoint)))
    assert result.status is Status.FAILED
    assert "needs the configuration" in result.message and "sd15-inpainting" in result.detail


def test_a_checkpoint_that_is_not_safetensors_is_refused(tmp_path):
    checkpoint = tmp_path / "old.ckpt"
    checkpoint.write_bytes(b"not a pickle I will open")
    result, _ = _run(Engine(EngineSettings(models_dir=tmp_path)), _job(inpainter=str(checkpoint)))
    assert result.status is Status.FAILED and "not a .safetensors file" in result.message
