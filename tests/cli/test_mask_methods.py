"""`paintnoise mask --method` and `paintnoise edit --method`, with tiny real models of every
method whose models a test can build (SegCLIP's SAM and CLIP, CLIPSeg, SegFormer)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from paintnoise_desktop.cli import main as cli
from tests.tinymodels.clip import build_clip
from tests.tinymodels.clipseg import build_clipseg
from tests.tinymodels.sam import build_sam
from tests.tinymodels.segformer import build_segformer

W, H = 64, 48


@pytest.fixture(scope="module")
def mask_models_dir(tmp_path_factory) -> Path:
    """A models folder with SegCLIP's, CLIPSeg's and SegFormer + CLIP's tiny models."""
    root = tmp_path_factory.mktemp("mask-models")
    build_sam(root / "sam-vit-b")
    build_clip(root / "clip-vit-base-patch32")
    build_clipseg(root / "clipseg-rd64-refined")
    build_segformer(root / "segformer-b5-ade")
    return root


@pytest.fixture
def mask_models(mask_models_dir, monkeypatch) -> Path:
    monkeypatch.setenv("PAINTNOISE_MODELS_DIR", str(mask_models_dir))
    return mask_models_dir


@pytest.fixture
def photo(tmp_path) -> Path:
    rgb = np.random.default_rng(0).integers(0, 255, (H, W, 3), dtype=np.uint8)  # any fill shows
    rgb[10:30, 12:40] = (220, 30, 30)
    path = tmp_path / "photo.png"
    Image.fromarray(rgb).save(path)
    return path


@pytest.mark.parametrize("method", ["clipseg", "segformer"])
def test_mask_finds_with_the_method_asked_for(mask_models, photo, tmp_path, capsys, method):
    out = tmp_path / "mask.png"
    code = cli.main(["mask", str(photo), "--find", "red square", "--method", method,
                     "--threshold", "0.15", "--device", "cpu", "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    with Image.open(out) as mask:
        assert mask.size == (W, H) and mask.mode == "L"
    listed = [line for line in captured.err.splitlines() if ". score " in line]
    assert listed and all(line.split()[-1] in (method, "square") for line in listed)
    assert any(f"  {method} " in line + " " for line in listed)


def test_an_unknown_method_is_a_usage_error_listing_the_methods(photo, tmp_path, capsys):
    code = None
    with pytest.raises(SystemExit) as exit_:
        code = cli.main(["mask", str(photo), "--find", "cup", "--method", "magic",
                         "-o", str(tmp_path / "m.png")])
    assert code is None and exit_.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'magic'" in err
    assert all(name in err for name in ("segclip", "clipseg", "segformer", "points"))


def test_a_missing_method_model_is_named_before_any_work(photo, tmp_path, capsys):
    code = cli.main(["mask", str(photo), "--find", "sky", "--method", "clipseg",
                     "-o", str(tmp_path / "m.png")])
    err = capsys.readouterr().err
    assert code == 1
    assert "CLIPSeg" in err and "paintnoise models download clipseg-rd64-refined" in err


def partial_threshold(models_dir: Path, photo: Path) -> float:
    """A threshold the tiny CLIPSeg's heatmap of "red square" on `photo` is partly above."""
    from paintnoise_desktop.engine.find.clipseg import get_clipseg
    from paintnoise_desktop.engine.find.heat_threshold import MIN_THRESHOLD
    from paintnoise_desktop.engine.runner import Engine
    from paintnoise_desktop.engine.settings import EngineSettings

    engine = Engine(EngineSettings(models_dir=models_dir, device="cpu"))
    rgb = np.asarray(Image.open(photo).convert("RGB"))
    heat = get_clipseg(engine.models).heatmaps(rgb, ["red square"])[0]
    threshold = float(np.quantile(heat, 0.8))
    assert threshold > MIN_THRESHOLD  # else the slider's range could not leave any out
    return threshold


def test_edit_removes_what_the_chosen_method_found(mask_models, photo, tmp_path, capsys):
    out = tmp_path / "out.png"
    threshold = partial_threshold(mask_models, photo)
    code = cli.main(["edit", str(photo), "--find", "red square", "--method", "clipseg",
                     "--threshold", str(threshold), "--tight", "--inpainter", "opencv-telea",
                     "--device", "cpu", "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "clipseg red square" in captured.err
    with Image.open(out) as edited, Image.open(photo) as before:
        changed = np.any(np.asarray(edited) != np.asarray(before), axis=2)
    assert 0 < changed.mean() < 0.5  # the part above the threshold was removed, not the photo
