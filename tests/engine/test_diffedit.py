"""DiffEdit: a tiny text-to-image Stable Diffusion (the real diffusers classes, random weights)
saved as the stable-diffusion-v1-5 mirror lays it out, loaded by the app's diffusion loader
into DiffEdit's pipeline; the mask from the Find and Replace texts, progress and Cancel."""

from __future__ import annotations

import numpy as np
import pytest
from diffusers import StableDiffusionPipeline, UNet2DConditionModel

from paintnoise_desktop.core.jobs import CancelToken, FindJob, Status
from paintnoise_desktop.engine.find.diffedit import (
    GENERIC_TARGET,
    STEPS,
    get_diffedit,
    target_prompt,
)
from paintnoise_desktop.engine.models.needs import find_needs
from paintnoise_desktop.engine.runner import Engine
from paintnoise_desktop.engine.settings import EngineSettings
from tests.tinymodels.sd import tiny_sd_inpainting_pipeline


def build_text_to_image_sd(folder):
    """The tiny SD pipeline with a text-to-image UNet (4 input channels, no mask), saved as
    StableDiffusionPipeline.save_pretrained writes it."""
    inpainting = tiny_sd_inpainting_pipeline()
    unet = UNet2DConditionModel.from_config({**inpainting.unet.config, "in_channels": 4})
    pipe = StableDiffusionPipeline(
        vae=inpainting.vae, text_encoder=inpainting.text_encoder, tokenizer=inpainting.tokenizer,
        unet=unet, scheduler=inpainting.scheduler, safety_checker=None, feature_extractor=None,
        requires_safety_checker=False)
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


@pytest.fixture(scope="module")
def sd_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    build_text_to_image_sd(root / "sd15")
    return root


def _photo() -> np.ndarray:
    return np.random.default_rng(1).integers(0, 255, (48, 64, 3), dtype=np.uint8)


def test_the_replace_text_is_the_target_and_background_when_empty():
    assert target_prompt("a wooden bench") == "a wooden bench"
    assert target_prompt("  ") == GENERIC_TARGET == "background"


def test_diffedit_makes_a_mask_through_the_engine_with_progress_per_step(sd_models):
    settings = EngineSettings(models_dir=sd_models)
    assert find_needs("diffedit", settings) == ("sd15",)
    engine = Engine(settings)
    steps = []
    job = FindJob(1, _photo(), "green bin", method="diffedit", replace_text="a bench")
    result = engine.run(job, steps.append, CancelToken())
    assert result.status is Status.FINISHED, result.detail
    messages = [p.message for p in steps]
    assert all(f"step {n} of {STEPS}" in " ".join(messages) for n in range(1, STEPS + 1))
    for candidate in result.candidates:  # random weights: the mask may be anywhere
        assert candidate.source == "diffedit" and candidate.label == "green bin"
        assert candidate.mask.shape == (48, 64) and candidate.mask.any()
        assert 0.5 < candidate.score <= 1.0


def test_diffedit_cancel_after_step_one_stops_before_step_two(sd_models):
    engine = Engine(EngineSettings(models_dir=sd_models))
    pipe = get_diffedit(engine.models)
    calls = []
    hook = pipe.unet.register_forward_pre_hook(lambda module, inputs: calls.append(1))
    cancel = CancelToken()

    def report(progress):
        if f"step 1 of {STEPS}" in progress.message:
            cancel.cancel()

    try:
        result = engine.run(FindJob(1, _photo(), "bin", method="diffedit"), report, cancel)
    finally:
        hook.remove()
    assert result.status is Status.CANCELLED
    assert len(calls) == 1  # step 1's one UNet call ran; step 2 never started


def test_diffedit_missing_model_is_named(settings):
    result = Engine(settings).run(FindJob(1, _photo(), "bin", method="diffedit"),
                                  lambda p: None, CancelToken())
    assert result.status is Status.FAILED and result.missing_models == ("sd15",)


def test_the_command_line_masks_with_diffedit(sd_models, tmp_path, monkeypatch, capsys):
    from PIL import Image

    from paintnoise_desktop.cli import main as cli

    monkeypatch.setenv("PAINTNOISE_MODELS_DIR", str(sd_models))
    photo, out = tmp_path / "photo.png", tmp_path / "mask.png"
    Image.fromarray(_photo()).save(photo)
    code = cli.main(["mask", str(photo), "--find", "bin", "--method", "diffedit", "-o", str(out)])
    err = capsys.readouterr().err
    if code == 0:  # random weights: the two noise estimates may differ nowhere
        assert np.asarray(Image.open(out)).shape == (48, 64) and "diffedit" in err
    else:
        assert code == 1 and "Nothing like" in err and "Traceback" not in err
