"""CLIP-guided replacement from the command line: `edit --guidance-mode clip` and `bench guided`."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from paintnoise_desktop.cli import main as cli
from paintnoise_desktop.cli.bench_guided import COLUMNS, SWEEP, WEIGHTS, sweep_jobs
from paintnoise_desktop.core.contact_sheet import GAP_PX, LABEL_PX, TILE_PX
from paintnoise_desktop.core.jobs import InpaintJob
from tests.engine.test_segclip import shapes_photo


@pytest.fixture
def guided_env(guided_models_dir, monkeypatch):
    monkeypatch.setenv("PAINTNOISE_MODELS_DIR", str(guided_models_dir))


@pytest.fixture
def photo_path(tmp_path):
    photo, _ = shapes_photo()
    path = tmp_path / "shapes.png"
    Image.fromarray(photo).save(path)
    return path


def test_edit_paints_clip_guided_with_the_weights_given_and_keeps_the_rest(
        guided_env, photo_path, tmp_path, capsys):
    mask = np.zeros(shapes_photo()[0].shape[:2], np.uint8)
    mask[10:30, 10:30] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    outputs = []
    for weights in (["--clip-weight", "1000"], ["--clip-weight", "100000", "--guide-every", "2"]):
        out = tmp_path / f"out-{len(outputs)}.png"
        code = cli.main(["edit", str(photo_path), "--mask", str(tmp_path / "mask.png"),
                         "--replace", "an orange", "--guidance-mode", "clip", *weights,
                         "--steps", "3", "--seed", "1", "-o", str(out)])
        assert code == 0, capsys.readouterr().err
        outputs.append(np.asarray(Image.open(out).convert("RGB")))
    original = shapes_photo()[0]
    for painted in outputs:
        assert np.array_equal(painted[mask == 0], original[mask == 0])
    assert not np.array_equal(outputs[0], outputs[1])  # the weights reach the sampler


def test_edit_without_lpips_names_it_before_painting(models_env, photo_path, tmp_path, capsys):
    code = cli.main(["edit", str(photo_path), "--find", "red square", "--replace", "an orange",
                     "--guidance-mode", "clip", "-o", str(tmp_path / "out.png")])
    assert code != 0
    err = capsys.readouterr().err
    assert "LPIPS AlexNet backbone" in err and "paintnoise models download" in err
    assert not (tmp_path / "out.png").exists()


def test_guidance_without_a_replacement_is_a_usage_error(guided_env, photo_path, tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["edit", str(photo_path), "--find", "x", "--guidance-mode", "clip",
                  "-o", str(tmp_path / "o.png")])
    assert "give --replace TEXT" in capsys.readouterr().err


def test_a_negative_weight_is_refused_by_the_parser(guided_env, photo_path, tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["edit", str(photo_path), "--find", "x", "--replace", "y", "--guidance-mode",
                  "clip", "--l2-weight", "-1", "-o", str(tmp_path / "o.png")])
    assert "expected a number of 0 or more" in capsys.readouterr().err


def test_bench_guided_sweeps_each_weight_and_writes_its_table_and_sheet(
        guided_env, photo_path, tmp_path, capsys):
    out = tmp_path / "bench"
    code = cli.main(["bench", "guided", str(photo_path), "--find", "red square", "--tight",
                     "--replace", "an orange", "--steps", "2", "--values", "1,1000,1e6",
                     "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    with open(out / "guided.csv", newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert tuple(rows[0]) == COLUMNS
    # plain SD, then 3 values x 3 weights with the all-1e3 run shared: 1 + 7 runs
    assert len(rows) == 1 + 3 * len(WEIGHTS) - 2
    assert rows[0]["run"] == "plain" and rows[0]["clip weight"] == "-"
    assert [row["run"] for row in rows[1:]] == ["clip=1", "clip=1000", "clip=1e+06", "l2=1",
                                                "l2=1e+06", "lpips=1", "lpips=1e+06"]
    assert {row["clip weight"] for row in rows[1:]} == {"1", "1000", "1e+06"}
    for row in rows:
        assert float(row["seconds"]) > 0 and float(row["seconds per step"]) > 0
        assert -1.0 <= float(row["CLIP score inside"]) <= 1.0
        assert float(row["L2 outside"]) >= 0 and float(row["LPIPS outside"]) >= 0
    markdown = (out / "guided.md").read_text(encoding="utf-8").splitlines()
    assert markdown[2] == "| " + " | ".join(COLUMNS) + " |"
    assert len(markdown) == 4 + len(rows)
    with Image.open(out / "guided-sheet.png") as sheet:
        assert sheet.size == (GAP_PX + 3 * (TILE_PX + GAP_PX),
                              GAP_PX + 4 * (TILE_PX + LABEL_PX + GAP_PX))


def test_the_full_sweep_is_the_studys_six_values_per_weight_with_the_shared_run_once():
    job = InpaintJob(1, np.zeros((8, 8, 3), np.uint8), np.full((8, 8), 255, np.uint8), "x")
    runs = sweep_jobs(job)
    assert len(runs) == 1 + len(SWEEP) * len(WEIGHTS) - 2
    weights = [(j.clip_weight, j.l2_weight, j.lpips_weight) for _, j in runs.values()][1:]
    assert len(set(weights)) == len(weights)
    for k in range(3):
        assert {w[k] for w in weights} == set(SWEEP)
