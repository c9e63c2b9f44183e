"""`paintnoise bench removal` on tiny models: the table (CSV and Markdown) and the sheet."""

from __future__ import annotations

import csv

import numpy as np
from PIL import Image

from paintnoise_desktop.cli import main as cli
from paintnoise_desktop.cli.bench_removal import COLUMNS, installed_removers
from paintnoise_desktop.core.contact_sheet import GAP_PX, LABEL_PX, TILE_PX
from paintnoise_desktop.engine.settings import load_settings
from tests.engine.test_segclip import shapes_photo


def test_every_installed_remover_on_the_same_masks_of_two_photos(models_env, tmp_path, capsys):
    photo, _ = shapes_photo()
    paths = [tmp_path / "a.png", tmp_path / "b.png"]
    Image.fromarray(photo).save(paths[0])
    Image.fromarray(np.ascontiguousarray(photo[:, ::-1])).save(paths[1])
    removers = installed_removers(load_settings())
    assert removers[0] == "opencv-telea" and "sd2-inpainting" in removers
    out = tmp_path / "bench"
    # --tight: the tiny SAM's grown mask would cover the whole photo, past what OpenCV fills
    code = cli.main(["bench", "removal", *map(str, paths), "--find", "red square", "--tight",
                     "--steps", "1", "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err

    with open(out / "removal.csv", newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert tuple(rows[0]) == COLUMNS
    expected = [(photo, remover) for photo in ("a.png", "b.png") for remover in removers]
    expected += [("mean of 2/2", remover) for remover in removers]
    assert [(row["photo"], row["remover"]) for row in rows] == expected
    for row in rows:
        assert row["note"] == "" and float(row["seconds"]) > 0
        assert row["changed outside"] == "0"
        for n in (1, 3, 5):
            assert 0.0 <= float(row[f"CLIP@{n}"]) <= 1.0
        assert 0.0 <= float(row["CLIP distance"]) <= 2.0

    markdown = (out / "removal.md").read_text(encoding="utf-8").splitlines()
    assert markdown[0].startswith("Removing \u201cred square\u201d, device cpu, CLIP measures "
                                  "with clip-vit-base-patch32")
    assert markdown[2] == "| " + " | ".join(COLUMNS) + " |"
    assert len(markdown) == 4 + len(expected)
    assert captured.out.splitlines() == markdown

    with Image.open(out / "removal-sheet.png") as sheet:
        columns = 2 + len(removers)  # the photo, its mask, each result
        assert sheet.size == (GAP_PX + columns * (TILE_PX + GAP_PX),
                              GAP_PX + 2 * (TILE_PX + LABEL_PX + GAP_PX))


def test_a_remover_that_fails_is_a_row_with_its_reason(models_env, tmp_path, capsys):
    photo, _ = shapes_photo()
    path = tmp_path / "a.png"
    Image.fromarray(photo).save(path)
    out = tmp_path / "bench"
    # Grown, the tiny SAM's mask covers the whole photo: the offline remover refuses it.
    code = cli.main(["bench", "removal", str(path), "--find", "red square",
                     "--removers", "opencv-telea", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    with open(out / "removal.csv", newline="", encoding="utf-8") as file:
        (row,) = list(csv.DictReader(file))
    assert row["remover"] == "opencv-telea" and row["seconds"] == ""
    assert row["note"].startswith("The mask covers the whole photo")
