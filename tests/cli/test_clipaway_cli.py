"""`paintnoise edit` removing with CLIPAway, on tiny models in a models folder of its own."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from paintnoise_desktop.cli import main as cli
from paintnoise_desktop.engine.inpaint.inpainter import CLIPAWAY_ONLY_REMOVES
from tests.tinymodels.clipaway import build_clipaway

W, H = 64, 48


def _photo_pixels() -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W]
    rgb = np.stack([x * 4, y * 5, np.full_like(x, 90)], axis=-1).astype(np.uint8)
    rgb[16:32, 24:40] = (230, 20, 20)
    return rgb


def _mask_pixels() -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    mask[14:34, 22:42] = 255
    return mask


@pytest.fixture(scope="module")
def clipaway_models(tmp_path_factory):
    return build_clipaway(tmp_path_factory.mktemp("clipaway-cli-models"))


@pytest.fixture
def files(tmp_path, clipaway_models, monkeypatch):
    monkeypatch.setenv("PAINTNOISE_MODELS_DIR", str(clipaway_models))
    photo, mask = tmp_path / "photo.png", tmp_path / "mask.png"
    Image.fromarray(_photo_pixels(), "RGB").save(photo)
    Image.fromarray(_mask_pixels(), "L").save(mask)
    return photo, mask


@pytest.mark.parametrize("option", ["--removal", "--inpainter"])
def test_edit_removes_with_clipaway_and_keeps_every_byte_outside_the_mask(files, tmp_path, capsys,
                                                                          option):
    photo, mask = files
    out = tmp_path / "out.png"
    code = cli.main(["edit", str(photo), "--mask", str(mask), option, "clipaway",
                     "--steps", "2", "--seed", "3", "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "seed 3" in captured.err
    result = np.asarray(Image.open(out).convert("RGB"))
    outside = _mask_pixels() == 0
    assert np.array_equal(result[outside], _photo_pixels()[outside])
    assert not np.array_equal(result[~outside], _photo_pixels()[~outside])


def test_edit_refuses_to_have_clipaway_paint_words(files, tmp_path, capsys):
    photo, mask = files
    out = tmp_path / "out.png"
    code = cli.main(["edit", str(photo), "--mask", str(mask), "--inpainter", "clipaway",
                     "--replace", "a wooden bench", "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err.strip().splitlines()[-1] == f"paintnoise: error: {CLIPAWAY_ONLY_REMOVES}"
    assert "Traceback" not in captured.err
    assert not out.exists()
