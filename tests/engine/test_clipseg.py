"""CLIPSeg: thresholds and exclusions on controlled heatmaps; then the Find job with a tiny
real CLIPSeg loaded from a models folder, its heatmaps cached per photo and phrase."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from paintnoise_desktop.core.jobs import CancelToken, FindJob, Status
from paintnoise_desktop.engine.find import clipseg
from paintnoise_desktop.engine.find.clipseg import heat_candidates, wanted_heat
from paintnoise_desktop.engine.find.found import Chosen
from paintnoise_desktop.engine.find.heat_threshold import (
    DEFAULT_THRESHOLD,
    MAX_THRESHOLD,
    MIN_THRESHOLD,
    clamp_threshold,
)
from paintnoise_desktop.engine.runner import Engine
from paintnoise_desktop.engine.settings import EngineSettings
from tests.tinymodels.clipseg import build_clipseg


def two_blobs() -> np.ndarray:
    """A 60 x 80 heatmap: a sure blob (0.9), an unsure one (0.55) and a one-pixel speck."""
    heat = np.full((60, 80), 0.05, np.float32)
    heat[5:25, 5:35] = 0.9
    heat[35:55, 50:70] = 0.55
    heat[58, 2] = 0.99
    return heat


def test_threshold_cuts_the_heatmap_into_its_regions_most_certain_first():
    candidates = heat_candidates(two_blobs(), 0.4, (600, 800), "cup")
    assert len(candidates) == 2  # the speck is below a share of the photo
    first, second = candidates
    assert first.box == (50, 50, 350, 250) and second.box == (500, 350, 700, 550)
    assert np.count_nonzero(first.mask) == 20 * 30 and first.mask.dtype == np.uint8
    assert first.score == pytest.approx(0.9 / 1.45) and second.score == pytest.approx(0.55 / 1.45)
    assert {c.source for c in candidates} == {"clipseg"} and first.label == "cup"


def test_a_higher_threshold_keeps_only_the_sure_region():
    candidates = heat_candidates(two_blobs(), 0.7, (60, 80), "cup")
    assert [c.box for c in candidates] == [(5, 5, 35, 25)]
    assert heat_candidates(two_blobs(), 0.95, (60, 80), "cup") == []


def test_all_keeps_every_region_above_the_threshold_best_keeps_one():
    candidates = heat_candidates(two_blobs(), MIN_THRESHOLD, (60, 80), "cup")
    assert Chosen.pick("cup", candidates, "all").indices == (0, 1)
    assert Chosen.pick("cup", candidates, "best").indices == (0,)


def test_an_excluded_phrase_takes_away_the_pixels_where_it_is_likelier():
    wanted = two_blobs()
    saucer = np.zeros_like(wanted)
    saucer[30:60, 40:80] = 0.8  # the unsure blob is likelier a saucer
    heat = wanted_heat(wanted, [saucer], (120, 160))
    assert heat.shape == (120, 160)
    candidates = heat_candidates(heat, 0.4, (120, 160), "cup")
    assert [c.box for c in candidates] == [(10, 10, 70, 50)]


def test_the_threshold_stays_in_the_sliders_range():
    assert clamp_threshold(None) == DEFAULT_THRESHOLD
    assert clamp_threshold(0.0) == MIN_THRESHOLD and clamp_threshold(2.0) == MAX_THRESHOLD
    assert clamp_threshold(0.5) == 0.5


# --- the whole job, a tiny real CLIPSeg ------------------------------------------------------


@pytest.fixture(scope="module")
def clipseg_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    build_clipseg(root / "clipseg-rd64-refined")
    return root


@pytest.fixture
def engine(clipseg_models):
    return Engine(EngineSettings(models_dir=clipseg_models, device="cpu"))


@pytest.fixture
def model_runs(monkeypatch):
    """The phrases each CLIPSeg run was asked about."""
    runs: list[list[str]] = []
    original = clipseg.ClipSeg.heatmaps

    def counted(self, image, phrases):
        runs.append(list(phrases))
        return original(self, image, phrases)

    monkeypatch.setattr(clipseg.ClipSeg, "heatmaps", counted)
    return runs


def photo() -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)


def test_heatmaps_are_clipsegs_own_probabilities(engine):
    from transformers import CLIPSegForImageSegmentation, CLIPSegProcessor

    folder = engine.settings.models_dir / "clipseg-rd64-refined"
    loaded = clipseg.get_clipseg(engine.models)
    image = photo()
    ours = loaded.heatmaps(image, ["a cup", "saucer"])
    model = CLIPSegForImageSegmentation.from_pretrained(folder).eval()
    inputs = CLIPSegProcessor.from_pretrained(folder)(
        text=["a cup", "saucer"], images=[image, image], padding=True, return_tensors="pt")
    with torch.no_grad():
        reference = torch.sigmoid(model(**inputs).logits).numpy()
    assert ours.shape == (2, 32, 32)
    np.testing.assert_allclose(ours, reference, atol=1e-5)


def test_find_job_thresholds_the_cached_heatmap_without_running_the_model_again(
        engine, model_runs):
    image = photo()
    heat = clipseg.get_clipseg(engine.models).heatmaps(image, ["cup"])[0]
    model_runs.clear()
    low = float(np.quantile(heat, 0.3))
    high = float(np.quantile(heat, 0.9))
    results = [engine.run(FindJob(i, image, "cup", method="clipseg", mode="all", threshold=t),
                          lambda progress: None, CancelToken())
               for i, t in ((1, max(low, MIN_THRESHOLD)), (2, max(high, MIN_THRESHOLD)))]
    assert all(result.ok for result in results), results[0].detail
    assert model_runs == [["cup"]]  # the second threshold came from the cache
    wide, narrow = (np.any([c.mask for c in r.candidates], axis=0) for r in results)
    assert wide.shape == (48, 64)
    assert np.all(wide[narrow > 0])  # a higher threshold masks a part of the lower one's
    assert all(c.source == "clipseg" for r in results for c in r.candidates)

    excluded = engine.run(FindJob(3, image, "cup", exclude=("saucer",), method="clipseg"),
                          lambda progress: None, CancelToken())
    assert excluded.ok and model_runs == [["cup"], ["saucer"]]


def test_without_clipseg_the_find_names_it_missing(tmp_path):
    engine = Engine(EngineSettings(models_dir=tmp_path, device="cpu"))
    result = engine.run(FindJob(1, photo(), "cup", method="clipseg"), lambda p: None,
                        CancelToken())
    assert result.status is Status.FAILED
    assert result.missing_models == ("clipseg-rd64-refined",)
    assert "CLIPSeg" in result.message
