"""Removing with a learned remover end to end: replace(), the store, Cancel, safety, "auto"."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import torch

from paintnoise_desktop.core.errors import JobCancelled, ModelError, ModelMissingError
from paintnoise_desktop.core.jobs import CancelToken, InpaintJob
from paintnoise_desktop.engine.inpaint.learned import LearnedInpainter, load_network
from paintnoise_desktop.engine.inpaint.replace import replace
from paintnoise_desktop.engine.models.model_store import ModelStore
from paintnoise_desktop.engine.models.needs import REMOVERS, automatic_inpainter
from tests.tinymodels.deepfill import save_deepfill, tiny_deepfill
from tests.tinymodels.lama import save_lama, tiny_lama


@pytest.fixture
def small_crops(monkeypatch):
    """Work at 128 px instead of 512 so the tests stay fast; the path is the same."""
    monkeypatch.setattr(LearnedInpainter, "native_size", 128)


def _photo():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (80, 112, 3), dtype=np.uint8)
    mask = np.zeros((80, 112), np.uint8)
    mask[25:50, 40:75] = 255
    mask[24, 40:75] = 128  # a feathered edge
    return image, mask


@pytest.mark.parametrize("model_id", ["lama", "deepfill-v2"])
def test_a_removal_repaints_the_mask_and_keeps_every_byte_outside_it(settings, small_crops,
                                                                     model_id):
    if model_id == "lama":
        save_lama(settings.models_dir / "lama", tiny_lama(), "ckpt")
    else:
        save_deepfill(settings.models_dir / "deepfill-v2", tiny_deepfill())
    image, mask = _photo()
    steps = []
    models = ModelStore(settings)
    variants = replace(InpaintJob(1, image, mask, inpainter=model_id), models,
                       lambda fraction, message, preview=None: steps.append((fraction, message)),
                       CancelToken())
    painted = variants[0].image
    assert painted.shape == image.shape and painted is not image
    assert np.array_equal(painted[mask == 0], image[mask == 0])
    assert np.any(painted[mask == 255] != image[mask == 255])
    assert steps[0][1].startswith("Preparing") and steps[-1] == (1.0, "Done")
    assert any(message == "Painting 1/1" for _, message in steps)
    assert models.loaded() == [f"{model_id}@cpu"]  # kept for the next removal
    again = replace(InpaintJob(2, image, mask, inpainter=model_id), models,
                    lambda *a, **k: None, CancelToken())
    assert np.array_equal(again[0].image, painted)  # no seed: the same every time


def test_cancel_stops_before_the_photo_is_touched(settings, small_crops):
    save_lama(settings.models_dir / "lama", tiny_lama())
    image, mask = _photo()
    cancel = CancelToken()

    def step(fraction, message, preview=None):
        if message.startswith("Painting"):
            cancel.cancel()

    with pytest.raises(JobCancelled):
        replace(InpaintJob(1, image, mask, inpainter="lama", variants=2), ModelStore(settings),
                step, cancel)
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(JobCancelled):
        replace(InpaintJob(1, image, mask, inpainter="lama"), ModelStore(settings),
                lambda *a, **k: None, cancel)


class _Payload:
    def __reduce__(self):
        return (open, ("/tmp/SHOULD-NOT-EXIST-learned", "w"))


def test_a_hostile_checkpoint_is_refused_without_running_its_code(settings, tmp_path):
    marker = "/tmp/SHOULD-NOT-EXIST-learned"
    folder = settings.models_dir / "lama"
    folder.mkdir(parents=True)
    state = {"state_dict": tiny_lama().state_dict(), "hyper_parameters": _Payload()}
    torch.save(state, folder / "best.ckpt")  # as LaMa's own checkpoint keeps its config
    with pytest.raises(ModelError, match="holds Python objects besides its weights"):
        load_network(folder, "lama", torch.device("cpu"))
    (folder / "best.ckpt").write_bytes(pickle.dumps(_Payload()))  # a bare pickle too
    with pytest.raises(ModelError, match="holds Python objects|could not be read"):
        load_network(folder, "lama", torch.device("cpu"))
    assert not os.path.exists(marker)


def test_auto_removes_with_lama_then_deepfill_then_stable_diffusion_then_opencv(settings):
    assert automatic_inpainter("", settings) == "opencv-telea"
    (settings.models_dir / "sd15-inpainting").mkdir(parents=True)
    (settings.models_dir / "sd15-inpainting" / "model_index.json").write_text("{}")
    assert automatic_inpainter("", settings) == "sd15-inpainting"
    save_deepfill(settings.models_dir / "deepfill-v2", tiny_deepfill())
    assert automatic_inpainter("", settings) == "deepfill-v2"
    save_lama(settings.models_dir / "lama", tiny_lama())
    assert automatic_inpainter("", settings) == "lama"
    assert automatic_inpainter("a bench", settings) == "sd15-inpainting"  # words: SD as before


def test_a_missing_remover_is_named_with_how_to_get_it(settings):
    image, mask = _photo()
    with pytest.raises(ModelMissingError) as raised:
        replace(InpaintJob(1, image, mask, inpainter="lama"), ModelStore(settings),
                lambda *a, **k: None, CancelToken())
    assert raised.value.model_ids == ("lama",)
    assert "paintnoise models download lama" in str(raised.value)


def test_the_removers_offered_are_the_auto_choice_the_learned_ones_and_the_rest():
    assert REMOVERS[:3] == ("auto", "lama", "deepfill-v2")
    assert {"clipaway", "sd2-inpainting", "sd15-inpainting", "opencv-telea",
            "opencv-ns"} <= set(REMOVERS)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_removal_runs_on_the_gpu(settings, small_crops):
    from dataclasses import replace as with_field

    settings = with_field(settings, device="cuda")
    save_lama(settings.models_dir / "lama", tiny_lama())
    image, mask = _photo()
    models = ModelStore(settings)
    painted = replace(InpaintJob(1, image, mask, inpainter="lama"), models,
                      lambda *a, **k: None, CancelToken())[0].image
    assert models.loaded() == ["lama@cuda:0"]
    assert np.array_equal(painted[mask == 0], image[mask == 0])


def test_the_command_line_removes_with_the_remover_it_is_given(settings, small_crops, tmp_path,
                                                              monkeypatch, capsys):
    from PIL import Image

    from paintnoise_desktop.cli import main as cli

    monkeypatch.setenv("PAINTNOISE_MODELS_DIR", str(settings.models_dir))
    image, mask = _photo()
    Image.fromarray(image).save(tmp_path / "photo.png")
    Image.fromarray(np.where(mask > 0, 255, 0).astype(np.uint8)).save(tmp_path / "mask.png")
    edit = ["edit", str(tmp_path / "photo.png"), "--mask", str(tmp_path / "mask.png")]
    assert cli.main([*edit, "--removal", "lama", "-o", str(tmp_path / "a.png")]) != 0
    assert "LaMa (big-lama), which is not installed" in capsys.readouterr().err
    save_lama(settings.models_dir / "lama", tiny_lama())
    assert cli.main([*edit, "--removal", "lama", "--seed", "1", "-o", str(tmp_path / "a.png")]) == 0
    assert cli.main([*edit, "--seed", "1", "-o", str(tmp_path / "b.png")]) == 0  # auto: LaMa too
    assert cli.main([*edit, "--removal", "opencv-ns", "-o", str(tmp_path / "c.png")]) == 0
    assert cli.main([*edit, "--removal", "sd", "-o", str(tmp_path / "e.png")]) != 0
    assert "Stable Diffusion 2 inpainting, which is not installed" in capsys.readouterr().err
    a, b, c = (np.asarray(Image.open(tmp_path / f"{name}.png")) for name in "abc")
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.array_equal(a[mask == 0], image[mask == 0])
    with pytest.raises(SystemExit):
        cli.main([*edit, "--removal", "lama", "--replace", "a bench", "-o", str(tmp_path / "d.png")])
    assert "--removal chooses what removes" in capsys.readouterr().err
