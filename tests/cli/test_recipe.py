"""`paintnoise edit --recipe`: a project's steps made again on another photo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from paintnoise_desktop.cli import main as cli
from paintnoise_desktop.core import masks
from paintnoise_desktop.core.document import Document
from paintnoise_desktop.core.jobs import MaskSettings
from paintnoise_desktop.core.project import state_of, write_project
from paintnoise_desktop.core.recipe import Recipe

W, H = 96, 64
SETTINGS = MaskSettings(grow_fraction=0.0, grow_min_px=1, feather_px=0)


@pytest.fixture(scope="module")
def find_models_dir(tmp_path_factory) -> Path:
    """Only what a Find needs (tiny Segment Anything and CLIP): the removal is OpenCV's."""
    from tests.tinymodels.clip import build_clip
    from tests.tinymodels.sam import build_sam

    root = tmp_path_factory.mktemp("find-models")
    build_sam(root / "sam-vit-b")
    build_clip(root / "clip-vit-base-patch32")
    return root


@pytest.fixture
def find_models(find_models_dir, monkeypatch) -> Path:
    monkeypatch.setenv("PAINTNOISE_MODELS_DIR", str(find_models_dir))
    return find_models_dir


def _photo(x0: int) -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W]
    rgb = np.stack([x * 2, y * 3, 120 + (x + y) // 2], axis=-1).astype(np.uint8)
    rgb[20:44, x0:x0 + 30] = (230, 20, 20)
    return rgb


def _project(tmp_path: Path, *, brush_only: bool = False) -> Path:
    """A session on one photo: a brush stroke, a Find, a Grow and a removal."""
    document = Document(_photo(10))
    document.mask[0:5, 0:5] = 255
    document.record_stroke("Brush", (0, 0, 5, 5), np.zeros((5, 5), np.uint8))
    if not brush_only:
        found = np.zeros((H, W), np.uint8)
        found[20:44, 10:40] = 255
        document.set_mask("Find: red square", found, recipe=Recipe(
            "find", find_text="red square", method="segclip", mask_settings=SETTINGS))
        document.set_mask("Grow mask 3 px", masks.grow(document.mask, 3),
                          recipe=Recipe("mask", operation="grow", amount_px=3))
        document.apply("Remove: red square", (5, 15, 45, 49),
                       rgb=np.zeros((34, 40, 3), np.uint8), recipe=Recipe(
                           "remove", find_text="red square", inpainter="opencv-telea",
                           seed=7, steps=25, guidance=7.5, strength=1.0))
    path = tmp_path / "street.paintnoise"
    write_project(path, state_of(document, document.rgb.copy()))
    return path


def test_a_recipe_finds_again_grows_and_removes_on_another_photo(find_models, tmp_path, capsys):
    project = _project(tmp_path)
    other = tmp_path / "other.png"
    Image.fromarray(_photo(50)).save(other)
    out = tmp_path / "out.png"
    assert cli.main(["edit", "--recipe", str(project), str(other), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "step 1 skipped: Brush" in err
    assert "step 2: Find: red square" in err and "step 4: Remove: red square" in err
    assert "3 of 4 steps made again" in err

    # The same find on the other photo, grown as recorded: the pixels that may change.
    mask_png = tmp_path / "found.png"
    assert cli.main(["mask", str(other), "--find", "red square", "--grow", "1", "--feather", "0",
                     "-o", str(mask_png)]) == 0
    region = masks.grow(np.asarray(Image.open(mask_png)), 3) > 0
    before, after = _photo(50), np.asarray(Image.open(out).convert("RGB"))
    assert np.array_equal(after[~region], before[~region])
    assert not np.array_equal(after[region], before[region])


def test_missing_models_are_named_before_any_work(tmp_path, capsys):
    project = _project(tmp_path)
    other = tmp_path / "other.png"
    Image.fromarray(_photo(50)).save(other)
    out = tmp_path / "out.png"
    assert cli.main(["edit", "--recipe", str(project), str(other), "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "paintnoise models download" in err[0], err
    assert not out.exists()


def test_a_project_of_brush_strokes_only_has_nothing_to_replay(tmp_path, capsys):
    project = _project(tmp_path, brush_only=True)
    other = tmp_path / "other.png"
    Image.fromarray(_photo(50)).save(other)
    assert cli.main(["edit", "--recipe", str(project), str(other),
                     "-o", str(tmp_path / "out.png")]) == 1
    err = capsys.readouterr().err
    assert "no step that can be made again" in err and "Traceback" not in err


def test_a_file_that_is_not_a_project_is_one_line(tmp_path, capsys):
    fake = tmp_path / "fake.paintnoise"
    fake.write_bytes(b"not a zip")
    other = tmp_path / "other.png"
    Image.fromarray(_photo(50)).save(other)
    assert cli.main(["edit", "--recipe", str(fake), str(other),
                     "-o", str(tmp_path / "out.png")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [("paintnoise: error: Cannot open fake.paintnoise: the project file is damaged "
                    "(it is not a complete project file).")]
