"""`paintnoise bench masks` on tiny models: every installed method, its stages, the IoU of
every pair and a contact sheet."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from paintnoise_desktop.cli import main as cli
from paintnoise_desktop.cli.bench_masks import StageClock, iou
from paintnoise_desktop.core.contact_sheet import GAP_PX, LABEL_PX, TILE_PX
from paintnoise_desktop.core.jobs import Progress
from tests.cli.test_mask_methods import mask_models, mask_models_dir, photo  # noqa: F401


def test_iou_of_masks():
    a = np.zeros((4, 4), np.uint8)
    b = a.copy()
    a[:2] = 255
    b[1:3] = 255
    assert iou(a, b) == pytest.approx(4 / 12)
    assert iou(a, a) == 1.0 and iou(np.zeros_like(a), np.zeros_like(a)) == 1.0


def test_stage_clock_times_each_message_until_the_next(monkeypatch):
    now = iter([0.0, 1.0, 1.5, 4.0, 6.0])
    monkeypatch.setattr("paintnoise_desktop.cli.bench_masks.time.perf_counter",
                        lambda: next(now))
    clock = StageClock()  # t = 0
    clock(Progress(1, 0.0, "Loading"))  # 1.0
    clock(Progress(1, 0.2, "Loading"))  # same stage: no lap
    clock(Progress(1, 0.5, "Ranking"))  # 1.5
    clock(Progress(1, 0.9, "Cutting"))  # 4.0
    assert clock.stop() == [("Starting", 1.0), ("Loading", 0.5), ("Ranking", 2.5),
                            ("Cutting", 2.0)]  # stop: 6.0


def test_bench_masks_writes_its_tables_and_sheet(mask_models, photo, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "bench"
    code = cli.main(["bench", "masks", str(photo), "--find", "red square", "--threshold",
                     "0.15", "--device", "cpu", "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    with open(out / "masks.csv", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [row["method"] for row in rows] == ["segclip", "clipseg", "segformer"]
    for row in rows:
        assert row["photo"] == photo.name and row["phrase"] == "red square" and not row["note"]
        assert float(row["first s"]) >= float(row["again s"]) >= 0
        assert 0 < float(row["mask area %"]) <= 100 and int(row["candidates"]) >= 1
    assert "Proposing" in rows[0]["stages of the first run (s)"] or \
        "Reading the objects" in rows[0]["stages of the first run (s)"]
    assert rows[1]["stages of the first run (s)"].split("; ")[-1].startswith(
        "Cutting the heatmap ")
    with open(out / "masks-iou.csv", encoding="utf-8") as file:
        pairs = list(csv.DictReader(file))
    assert {(p["method A"], p["method B"]) for p in pairs} == {
        ("segclip", "clipseg"), ("segclip", "segformer"), ("clipseg", "segformer")}
    assert all(0 <= float(p["IoU"]) <= 1 for p in pairs)
    table = (out / "masks.md").read_text(encoding="utf-8")
    assert table in captured.out and "| segformer |" in table and "IoU" in table
    with Image.open(out / "masks-sheet.png") as sheet:
        assert sheet.size == (GAP_PX + 4 * (TILE_PX + GAP_PX),
                              GAP_PX + TILE_PX + LABEL_PX + GAP_PX)  # photo + 3 masks


def test_bench_masks_refuses_an_unknown_method(photo, tmp_path, capsys):  # noqa: F811
    code = cli.main(["bench", "masks", str(photo), "--find", "cup", "--methods", "clipseg,magic",
                     "-o", str(tmp_path / "bench")])
    assert code == 1
    assert "'magic'" in capsys.readouterr().err


def test_bench_of_a_photo_still_times_find_and_replace():
    from paintnoise_desktop.cli.bench import with_bench_kind

    kinds = frozenset({"stages", "masks", "removal"})
    assert with_bench_kind(["bench", "p.jpg", "--find", "x"], kinds) == [
        "bench", "stages", "p.jpg", "--find", "x"]
    assert with_bench_kind(["--debug", "bench", "masks", "p.jpg"], kinds) == [
        "--debug", "bench", "masks", "p.jpg"]
