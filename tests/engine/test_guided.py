"""CLIP-guided replacement: the x0 estimate, each loss, the gradient step, and the whole path
through the engine with tiny models loaded from disk (LPIPS's AlexNet in torchvision's layout)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from paintnoise_desktop.core.errors import ModelError, PaintNoiseError
from paintnoise_desktop.core.jobs import CancelToken, InpaintJob, Status
from paintnoise_desktop.engine.find.clip_model import get_clip
from paintnoise_desktop.engine.inpaint.guided import (
    Guide,
    GuideWeights,
    _unet_on_prompt,
    coverage,
    estimate_clean,
    guided_inpainter,
    pixels,
)
from paintnoise_desktop.engine.inpaint.inpainter import PaintRequest
from paintnoise_desktop.engine.inpaint.lpips_model import load_lpips
from paintnoise_desktop.engine.runner import Engine
from paintnoise_desktop.engine.settings import EngineSettings
from tests.engine.conftest import run_cancelled_after_first_step
from tests.tinymodels.lpips import ALEXNET_FILE

MODEL = "sd2-inpainting"


@pytest.fixture(scope="module")
def engine(guided_models_dir) -> Engine:
    return Engine(EngineSettings(models_dir=guided_models_dir))


def _photo(size: int = 64) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size]
    return np.stack([x * 4 % 256, y * 4 % 256, np.full_like(x, 90)], axis=-1).astype(np.uint8)


def _mask(size: int = 64) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    mask[20:44, 24:40] = 255
    return mask


def _job(**fields) -> InpaintJob:
    values = {"job_id": 1, "image": _photo(), "mask": _mask(), "prompt": "an orange",
              "inpainter": MODEL, "steps": 3, "seed": 5, "guidance_mode": "clip"}
    values.update(fields)
    return InpaintJob(**values)


@pytest.mark.parametrize("prediction", ["epsilon", "v_prediction"])
def test_the_clean_estimate_is_the_formula_ddim_itself_uses(prediction):
    from diffusers import DDIMScheduler

    scheduler = DDIMScheduler(prediction_type=prediction, clip_sample=False)  # as SD configures it
    scheduler.set_timesteps(10)
    torch.manual_seed(1)
    latents, output = torch.randn(1, 4, 8, 8), torch.randn(1, 4, 8, 8)
    t = int(scheduler.timesteps[3])
    alpha_bar = scheduler.alphas_cumprod[t]
    expected = scheduler.step(output, t, latents).pred_original_sample
    ours = estimate_clean(latents, output, alpha_bar, prediction)
    assert torch.allclose(ours, expected, atol=1e-5)
    if prediction == "epsilon":  # and written out by hand
        by_hand = (latents - (1 - alpha_bar).sqrt() * output) / alpha_bar.sqrt()
        assert torch.allclose(ours, by_hand)


@pytest.fixture(scope="module")
def guide(engine) -> Guide:
    _, clip = get_clip(engine.models)
    lpips = load_lpips(engine.models.settings.models_dir / "lpips-alexnet" / ALEXNET_FILE,
                       clip.device, clip.dtype)
    return Guide(clip, lpips, GuideWeights())


def _pixels(rgb: np.ndarray) -> torch.Tensor:
    return pixels(rgb, torch.device("cpu"))


def test_an_untouched_background_costs_nothing_outside_and_a_changed_one_does(guide):
    original = _pixels(_photo())
    inside = coverage(_mask(), torch.device("cpu"))
    text = torch.from_numpy(guide.clip.encode_text(["an orange"])[0])
    painted_inside = original.clone()
    painted_inside[..., 20:44, 24:40] = 1.0  # only the masked part differs
    same = guide.losses(painted_inside, original, inside, text)
    assert same["l2"].item() == 0.0
    assert same["lpips"].item() == pytest.approx(0.0, abs=1e-7)
    changed = painted_inside.clone()
    changed[..., :10, :10] = -1.0
    other = guide.losses(changed, original, inside, text)
    assert other["l2"].item() > 0 and other["lpips"].item() > 0


def test_the_clip_loss_is_zero_for_the_image_it_describes_and_grows_for_another(guide):
    """At CLIP's own input size the loss's preprocessing is CLIPProcessor's: cos = 1 exactly."""
    size = guide.clip.processor.image_processor.crop_size["height"]
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    everything = torch.ones(1, 1, size, size)
    itself = torch.from_numpy(guide.clip.encode_images([photo])[0])
    assert guide.losses(_pixels(photo), _pixels(photo), everything, itself)["clip"].item() == \
        pytest.approx(0.0, abs=1e-5)
    other = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    assert guide.losses(_pixels(other), _pixels(other), everything, itself)["clip"].item() > 1e-4


def test_lpips_equals_the_package_with_its_own_weights_on_the_same_backbone(guide):
    import lpips

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        reference = lpips.LPIPS(net="alex", version="0.1", pnet_rand=True, verbose=False).eval()
    reference.net.load_state_dict(guide.lpips.net.state_dict())
    torch.manual_seed(2)
    a, b = torch.rand(2, 3, 64, 64) * 2 - 1, torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(guide.lpips(a, b), reference(a, b), atol=1e-6)


def test_a_backbone_that_is_not_alexnet_is_refused(tmp_path):
    weights = tmp_path / "other.pth"
    torch.save({"features.0.weight": torch.zeros(3, 3)}, weights)
    with pytest.raises(ModelError, match="not torchvision's AlexNet"):
        load_lpips(weights, torch.device("cpu"), torch.float32)


def test_a_backbone_pickle_that_would_run_code_is_refused_without_running_it(tmp_path):
    class Payload:
        def __reduce__(self):
            return (open, (str(tmp_path / "ran"), "w"))

    weights = tmp_path / ALEXNET_FILE
    torch.save({"features.0.weight": Payload()}, weights)
    with pytest.raises(ModelError) as refused:
        load_lpips(weights, torch.device("cpu"), torch.float32)
    assert str(weights) in str(refused.value)
    assert not (tmp_path / "ran").exists()
    torch.load(weights, weights_only=False)  # what an unsafe loader would have done
    assert (tmp_path / "ran").exists()


def test_each_guidance_step_lowers_the_loss_it_descends(engine):
    """Inside a real sampling run: the total loss at the nudged latents is below the one before."""
    job = _job(clip_weight=1e-2, l2_weight=1e-2, lpips_weight=1e-2)
    inpainter = guided_inpainter(MODEL, job, engine.models)
    guide, pipe = inpainter.guide, inpainter.pipeline
    crop, hole = _photo(32), _mask(64)[16:48, 16:48].copy()
    original, inside = _pixels(crop), coverage(hole, torch.device("cpu"))
    text = torch.from_numpy(guide.clip.encode_text([job.prompt])[0])
    drops = []

    def loss_at(pipeline, latents, timestep, tensors) -> float:
        scheduler = pipeline.scheduler
        with torch.no_grad():
            output = _unet_on_prompt(pipeline, latents, timestep, tensors)
            x0 = estimate_clean(latents, output, scheduler.alphas_cumprod[timestep],
                                scheduler.config.prediction_type)
            image = pipeline.vae.decode(x0 / pipeline.vae.config.scaling_factor)[0].float()
            return guide.total(guide.losses(image, original, inside, text)).item()

    with inpainter._steering(crop, hole, PaintRequest(prompt=job.prompt)) as steer:
        def step_end(pipeline, index, timestep, tensors):
            scheduler = pipeline.scheduler
            upcoming = int(timestep) - scheduler.config.num_train_timesteps // scheduler.num_inference_steps
            changed = steer(pipeline, index, timestep, tensors)
            if changed:
                before = loss_at(pipeline, tensors["latents"], upcoming, tensors)
                after = loss_at(pipeline, changed["latents"], upcoming, tensors)
                drops.append(before - after)
            return changed

        from PIL import Image
        with torch.no_grad():
            pipe(prompt=job.prompt, image=Image.fromarray(crop), mask_image=Image.fromarray(hole),
                 height=32, width=32, num_inference_steps=4, guidance_scale=7.5,
                 generator=torch.Generator().manual_seed(0), output_type="latent",
                 callback_on_step_end=step_end,
                 callback_on_step_end_tensor_inputs=list(inpainter.STEERING_INPUTS))
    assert len(drops) == 3  # every step but the last, which ends on the clean image
    assert all(drop > 0 for drop in drops), drops


def test_guided_replacement_keeps_every_byte_outside_the_mask_and_differs_from_plain(engine):
    photo, mask = _photo(), _mask()
    guided = engine.run(_job(), lambda p: None, CancelToken())
    plain = engine.run(_job(guidance_mode="plain"), lambda p: None, CancelToken())
    assert guided.ok, guided.message
    image = guided.variants[0].image
    assert np.array_equal(image[mask == 0], photo[mask == 0])
    assert not np.array_equal(image, plain.variants[0].image)
    again = engine.run(_job(), lambda p: None, CancelToken())
    assert np.array_equal(again.variants[0].image, image)  # seeds work as for Replace


def test_variants_have_their_own_seeds_and_each_step_reports_a_preview(engine):
    progress = []
    result = engine.run(_job(variants=2), progress.append, CancelToken())
    assert [v.seed for v in result.variants] == [5, 6]
    assert any(p.preview is not None for p in progress)


def test_cancel_after_the_first_step_leaves_nothing(engine):
    result, _ = run_cancelled_after_first_step(engine, _job(steps=6))
    assert result.status is Status.CANCELLED
    assert not result.variants


def test_guidance_is_refused_for_removal_and_for_inpainters_without_diffusion(engine):
    with pytest.raises(PaintNoiseError, match="type what goes there"):
        guided_inpainter(MODEL, _job(prompt=""), engine.models)
    with pytest.raises(PaintNoiseError, match="steers a Stable Diffusion"):
        guided_inpainter("opencv-telea", _job(), engine.models)


def test_without_lpips_installed_the_job_names_it_and_paints_nothing(tiny_models_dir):
    result = Engine(EngineSettings(models_dir=tiny_models_dir)).run(_job(), lambda p: None,
                                                                     CancelToken())
    assert result.status is Status.FAILED
    assert result.missing_models == ("lpips-alexnet",)
    assert "LPIPS" in result.message
