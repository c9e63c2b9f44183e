"""`paintnoise mask --points/--box`: Segment Anything's mask of what was clicked, as a PNG."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from paintnoise_desktop.cli import main as cli
from paintnoise_desktop.engine.find.sam_model import load_sam
from tests.tinymodels.sam import build_sam

W, H = 96, 64


@pytest.fixture
def sam_only(tmp_path_factory, monkeypatch):
    """A models folder with a tiny Segment Anything and nothing else."""
    root = tmp_path_factory.mktemp("models")
    build_sam(root / "sam-vit-b")
    monkeypatch.setenv("PAINTNOISE_MODELS_DIR", str(root))
    return root


@pytest.fixture
def photo(tmp_path):
    y, x = np.mgrid[0:H, 0:W]
    rgb = np.stack([x * 2, y * 3, 120 + (x + y) // 2], axis=-1).astype(np.uint8)
    rgb[20:44, 30:62] = (230, 20, 20)
    path = tmp_path / "photo.png"
    Image.fromarray(rgb).save(path)
    return path


def library_best(models, photo, points, labels, box):
    """SamPredictor's best-IoU mask for the prompt, on the same weights."""
    from segment_anything import SamPredictor

    predictor = SamPredictor(load_sam(models / "sam-vit-b", "sam-vit-b", torch.device("cpu")))
    predictor.set_image(np.asarray(Image.open(photo)))
    masks, quality, _ = predictor.predict(
        point_coords=None if points is None else np.array(points, np.float32),
        point_labels=None if labels is None else np.array(labels),
        box=None if box is None else np.array(box, np.float32), multimask_output=True)
    return masks[int(np.argmax(quality))]


@pytest.mark.parametrize("arguments, points, labels, box", [
    (["--points", "45,30", "70,50,-"], [(45, 30), (70, 50)], [1, 0], None),
    (["--box", "62,44,30,20"], None, None, (30, 20, 62, 44)),
    (["--points", "45,30,+", "--box", "30,20,62,44"], [(45, 30)], [1], (30, 20, 62, 44)),
])
def test_points_and_box_write_sam_predictors_mask(sam_only, photo, tmp_path, capsys, arguments,
                                                  points, labels, box):
    out = tmp_path / "clicked.png"
    code = cli.main(["mask", str(photo), *arguments, "--tight", "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "click" in captured.err and "*" in captured.err  # the candidates, the chosen marked
    written = np.asarray(Image.open(out))
    assert written.shape == (H, W)
    assert np.array_equal(written > 0, library_best(sam_only, photo, points, labels, box))


def test_find_and_points_together_or_neither_is_an_error(sam_only, photo, tmp_path, capsys):
    out = tmp_path / "m.png"
    for arguments in (["--find", "red", "--points", "1,1"], []):
        assert cli.main(["mask", str(photo), *arguments, "-o", str(out)]) == 1
        assert "--points" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("bad", [["--points", "1"], ["--points", "1,2,x"], ["--box", "1,2,3"],
                                 ["--box", "4,2,4,9"], ["--points", "a,b"]])
def test_malformed_points_are_usage_errors(photo, tmp_path, capsys, bad):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["mask", str(photo), *bad, "-o", str(tmp_path / "m.png")])
    assert exit_info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_clicks_without_segment_anything_name_only_it(photo, tmp_path, capsys):
    code = cli.main(["mask", str(photo), "--points", "4,4", "-o", str(tmp_path / "m.png")])
    err = capsys.readouterr().err
    assert code == 1 and "Segment Anything" in err and "CLIP" not in err
