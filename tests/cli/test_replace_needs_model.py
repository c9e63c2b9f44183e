"""`paintnoise edit --replace TEXT` paints TEXT or fails: it never removes instead, unasked."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from paintnoise_desktop.cli import main as cli

W, H = 64, 48


@pytest.fixture
def photo(tmp_path):
    rgb = np.full((H, W, 3), 120, np.uint8)
    rgb[16:32, 20:44] = (230, 20, 20)
    path = tmp_path / "photo.png"
    Image.fromarray(rgb, "RGB").save(path)
    return path


@pytest.fixture
def mask(tmp_path):
    pixels = np.zeros((H, W), np.uint8)
    pixels[14:34, 18:46] = 255
    path = tmp_path / "mask.png"
    Image.fromarray(pixels, "L").save(path)
    return path


def _error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr  # found before any work: nothing else was printed
    return lines[0]


def test_replace_without_a_diffusion_model_exits_1_and_writes_nothing(photo, mask, tmp_path,
                                                                       capsys):
    out = tmp_path / "out.png"
    code = cli.main(["edit", str(photo), "--mask", str(mask), "--replace", "a wooden bench",
                     "-o", str(out)])
    assert code == 1
    assert _error_line(capsys.readouterr().err) == (
        "paintnoise: error: Painting \u201ca wooden bench\u201d needs Stable Diffusion 2 "
        "inpainting, which is not installed: run `paintnoise models download sd2-inpainting`, "
        "or add `--inpainter opencv-telea` to remove what is masked instead.")
    assert not out.exists()


@pytest.mark.parametrize("inpainter", ["opencv-telea", "opencv-ns"])
def test_the_offline_inpainter_named_on_purpose_removes_with_a_note(photo, mask, tmp_path,
                                                                    capsys, inpainter):
    out = tmp_path / "out.png"
    code = cli.main(["edit", str(photo), "--mask", str(mask), "--replace", "a wooden bench",
                     "--inpainter", inpainter, "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "can only remove" in captured.err
    repainted = np.asarray(Image.open(out).convert("RGB"))
    assert repainted[20:28, 26:38, 0].mean() < 200  # the red block is gone


def test_a_find_and_replace_names_every_missing_model_at_once(photo, tmp_path, capsys):
    code = cli.main(["edit", str(photo), "--find", "red block", "--replace", "a wooden bench",
                     "-o", str(tmp_path / "out.png")])
    assert code == 1
    line = _error_line(capsys.readouterr().err)
    # Removing instead would not help: the find needs its models either way.
    assert line == (
        "paintnoise: error: Finding \u201cred block\u201d and painting \u201ca wooden bench\u201d "
        "need Segment Anything ViT-B, CLIP ViT-B/32 and Stable Diffusion 2 inpainting, which are "
        "not installed: run `paintnoise models download sam-vit-b clip-vit-base-patch32 "
        "sd2-inpainting`.")


def test_the_mask_command_names_both_find_models(photo, tmp_path, capsys):
    code = cli.main(["mask", str(photo), "--find", "red block", "-o", str(tmp_path / "m.png")])
    assert code == 1
    assert _error_line(capsys.readouterr().err) == (
        "paintnoise: error: Finding \u201cred block\u201d needs Segment Anything ViT-B and "
        "CLIP ViT-B/32, which are not installed: run `paintnoise models download sam-vit-b "
        "clip-vit-base-patch32`.")


def test_removing_without_models_still_uses_the_offline_inpainter(photo, mask, tmp_path,
                                                                  capsys):
    out = tmp_path / "out.png"
    assert cli.main(["edit", str(photo), "--mask", str(mask), "-o", str(out)]) == 0
    assert "using opencv-telea" in capsys.readouterr().err
    assert out.exists()


def test_replace_paints_with_the_installed_diffusion_model(models_env, photo, mask, tmp_path,
                                                           capsys):
    out = tmp_path / "out.png"
    code = cli.main(["edit", str(photo), "--mask", str(mask), "--replace", "a wooden bench",
                     "--steps", "1", "--seed", "3", "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Stable Diffusion 2 inpainting" in captured.err and "can only remove" not in captured.err
