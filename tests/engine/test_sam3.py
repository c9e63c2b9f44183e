"""SAM 3 concept prompts: ranking, thresholds and exclusions with instances whose answer is
known; then the whole Find with a tiny real Sam3Model, loaded from a models folder by the
app's loader, through the engine, "auto" and the command line."""

from __future__ import annotations

import numpy as np
import pytest

from paintnoise_desktop.core.jobs import CancelToken, FindJob, Status
from paintnoise_desktop.engine.find.found import Chosen
from paintnoise_desktop.engine.find.photo_cache import PhotoCache
from paintnoise_desktop.engine.find.sam3 import (
    SCORE_THRESHOLD,
    Instances,
    VisionFeatures,
    candidates_from,
)
from paintnoise_desktop.engine.models.needs import automatic_finder, find_needs
from paintnoise_desktop.engine.runner import Engine
from paintnoise_desktop.engine.settings import EngineSettings
from tests.tinymodels.sam3 import build_sam3


def _square(x0: int, y0: int, side: int, size=(40, 60)) -> np.ndarray:
    mask = np.zeros(size, bool)
    mask[y0 : y0 + side, x0 : x0 + side] = True
    return mask


CUP, SAUCER, OTHER_CUP = _square(10, 5, 10), _square(5, 15, 20), _square(40, 10, 12)


def _instances(*pairs) -> Instances:
    return Instances(np.stack([mask for mask, _ in pairs]), np.array([s for _, s in pairs]))


def test_best_mode_ranks_every_instance_and_uses_the_top_one():
    wanted = _instances((CUP, 0.9), (OTHER_CUP, 0.3))
    candidates = candidates_from(wanted, [], "best", None, (80, 120), "cup")
    assert [c.score for c in candidates] == pytest.approx([0.9, 0.3])
    assert {c.source for c in candidates} == {"sam3"}
    assert candidates[0].box == (20, 10, 40, 30)  # the working size (40 x 60) doubled
    assert Chosen.pick("cup", candidates, "best").indices == (0,)


def test_all_mode_returns_and_selects_every_instance_above_the_threshold():
    wanted = _instances((CUP, 0.9), (OTHER_CUP, 0.6), (SAUCER, SCORE_THRESHOLD - 0.01))
    candidates = candidates_from(wanted, [], "all", None, (40, 60), "cup")
    assert [c.score for c in candidates] == pytest.approx([0.9, 0.6])
    assert Chosen.pick("cup", candidates, "all").indices == (0, 1)
    lower = candidates_from(wanted, [], "all", 0.2, (40, 60), "cup")
    assert len(lower) == 3 and Chosen.pick("cup", lower, "all").indices == (0, 1, 2)
    assert candidates_from(wanted, [], "all", 0.95, (40, 60), "cup") == []


def test_an_excluded_phrase_drops_the_instances_it_covers_at_least_as_surely():
    cup_and_saucer = CUP | SAUCER
    wanted = _instances((CUP, 0.8), (cup_and_saucer, 0.7))
    saucers = _instances((SAUCER, 0.75))
    kept = candidates_from(wanted, [saucers], "best", None, (40, 60), "cup")
    assert [c.score for c in kept] == pytest.approx([0.8])  # the cup alone stays
    assert kept[0].mask[10, 15] == 255
    unsure = _instances((SAUCER, 0.5))  # scores below both: nothing is dropped
    assert len(candidates_from(wanted, [unsure], "best", None, (40, 60), "cup")) == 2


@pytest.fixture(scope="module")
def sam3_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    build_sam3(root / "sam3")
    return root


def _photo() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (90, 120, 3), dtype=np.uint8)


def test_sam3_finds_through_the_engine_and_keeps_the_photos_features(sam3_models):
    engine = Engine(EngineSettings(models_dir=sam3_models))
    steps = []
    job = FindJob(1, _photo(), "cup", method="sam3", mode="all", threshold=0.0)
    result = engine.run(job, steps.append, CancelToken())
    assert result.status is Status.FINISHED, result.detail
    # every one of the tiny model's 8 queries scores above 0; empty masks are left out
    assert 1 <= len(result.candidates) <= 8
    assert all(c.mask.any() for c in result.candidates)
    first = result.candidates[0]
    assert first.source == "sam3" and first.label == "cup" and first.mask.shape == (90, 120)
    assert [c.score for c in result.candidates] == sorted(
        (c.score for c in result.candidates), reverse=True)
    assert any(p.message == "Looking at the photo" for p in steps)
    cache = engine.models.get("photo-cache", PhotoCache)
    assert any(isinstance(cache.get(key), VisionFeatures) for key in list(cache._entries))

    steps.clear()
    again = engine.run(FindJob(2, _photo(), "cup", method="sam3", mode="all", threshold=0.99),
                       steps.append, CancelToken())
    assert again.ok and again.candidates == ()  # none that sure; the features were reused
    assert not any(p.message == "Looking at the photo" for p in steps)


def test_auto_finds_with_sam3_when_installed_else_segclip(sam3_models, settings):
    installed = EngineSettings(models_dir=sam3_models)
    assert automatic_finder(installed) == "sam3"
    assert find_needs("auto", installed) == ("sam3",)
    assert automatic_finder(settings) == "segclip"
    assert "sam3" not in find_needs("auto", settings)
    result = Engine(installed).run(FindJob(1, _photo(), "cup", method="auto"), lambda p: None,
                                   CancelToken())
    assert result.ok and {c.source for c in result.candidates} == {"sam3"}


def test_sam3_missing_is_named(settings):
    result = Engine(settings).run(FindJob(1, _photo(), "cup", method="sam3"), lambda p: None,
                                  CancelToken())
    assert result.status is Status.FAILED and result.missing_models == ("sam3",)


def test_the_command_line_masks_with_sam3(sam3_models, tmp_path, monkeypatch, capsys):
    from PIL import Image

    from paintnoise_desktop.cli import main as cli

    monkeypatch.setenv("PAINTNOISE_MODELS_DIR", str(sam3_models))
    photo, out = tmp_path / "photo.png", tmp_path / "mask.png"
    Image.fromarray(_photo()).save(photo)
    assert cli.main(["mask", str(photo), "--find", "cup", "--method", "sam3", "-o",
                     str(out)]) == 0
    mask = np.asarray(Image.open(out))
    assert mask.shape == (90, 120) and mask.any()
    assert "sam3" in capsys.readouterr().err  # each candidate's line names its source
