"""Click to mask on a tiny Segment Anything: the library's own predictor's masks, the shared
embedding, and the candidates' order and coordinates.

The tiny SAM is saved in the real .pth format and loaded through the app's loader, then
made `decisive` (see test_sam_reference.py) so its masks depend on the prompt.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from paintnoise_desktop.core.jobs import CancelToken, FindJob, Status
from paintnoise_desktop.engine.find import proposals
from paintnoise_desktop.engine.find.photo_cache import PhotoCache
from paintnoise_desktop.engine.find.points import prompt_arrays
from paintnoise_desktop.engine.find.sam_model import load_sam
from paintnoise_desktop.engine.find.segclip import full_resolution_box
from paintnoise_desktop.engine.models.device import pick_device
from paintnoise_desktop.engine.runner import Engine
from paintnoise_desktop.engine.settings import EngineSettings
from tests.engine.test_sam_reference import decisive, gradient_photo
from tests.tinymodels.sam import build_sam

POINTS = ((40.0, 30.0, True), (120.0, 90.0, False))
BOX = (20, 10, 100, 80)


@pytest.fixture(scope="module")
def sam_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    build_sam(root / "sam-vit-b")
    return root


@pytest.fixture
def engine(sam_folder) -> Engine:
    """The real engine over the tiny SAM, its loaded copy made decisive."""
    engine = Engine(EngineSettings(models_dir=sam_folder))
    device = pick_device(engine.settings)
    engine.models.get(f"sam-vit-b@{device}", lambda: decisive(
        load_sam(sam_folder / "sam-vit-b", "sam-vit-b", device)))
    return engine


def run(engine: Engine, image: np.ndarray, points=POINTS, box=None, reports=None):
    job = FindJob(1, image, "", method="points", points=points, box=box)
    result = engine.run(job, (reports if reports is not None else []).append, CancelToken())
    assert result.status is Status.FINISHED, result.message
    return result.candidates


def library(sam, image, points=POINTS, box=None):
    from segment_anything import SamPredictor

    predictor = SamPredictor(sam)
    predictor.set_image(image)
    coords, labels, box_array = prompt_arrays(points, box, (1.0, 1.0))
    masks, quality, _ = predictor.predict(point_coords=coords, point_labels=labels,
                                          box=box_array, multimask_output=True)
    return masks, quality


@pytest.mark.parametrize("points, box", [(POINTS, None), ((), BOX), (POINTS[:1], BOX)])
def test_masks_are_sam_predictors_best_iou_first(engine, points, box):
    image = gradient_photo()
    candidates = run(engine, image, points, box)
    sam = engine.models.get("sam-vit-b@cpu", None)
    masks, quality = library(sam, image, points, box)
    order = np.argsort(-quality, kind="stable")
    kept = [i for i in order if masks[i].any()]
    assert len(candidates) == len(kept) >= 2
    for candidate, index in zip(candidates, kept):
        assert np.array_equal(candidate.mask > 0, masks[index])
        assert candidate.score == pytest.approx(float(np.clip(quality[index], 0, 1)))
        assert candidate.source == "click"
    assert [c.score for c in candidates] == sorted((c.score for c in candidates), reverse=True)


def test_negative_point_changes_the_mask(engine):
    image = gradient_photo()
    positive = run(engine, image, POINTS[:1])[0].mask
    negative = run(engine, image, ((40.0, 30.0, True), (45.0, 32.0, False)))[0].mask
    assert not np.array_equal(positive, negative)


def test_second_click_reuses_the_embedding(engine, monkeypatch):
    image = gradient_photo()
    first: list = []
    run(engine, image, reports=first)
    assert any(report.message == "Looking at the photo" for report in first)
    cache = engine.models.get("photo-cache", PhotoCache)
    assert len(cache) == 1
    encoder = engine.models.get("sam-vit-b@cpu", None).image_encoder
    calls = []
    monkeypatch.setattr(encoder, "forward", lambda *a: calls.append(a))
    second: list = []
    run(engine, image, POINTS[:1], reports=second)
    assert calls == [] and len(cache) == 1
    assert not any(report.message == "Looking at the photo" for report in second)


def test_segclip_proposals_start_from_the_same_embedding(engine):
    image = gradient_photo()
    run(engine, image)
    sam = engine.models.get("sam-vit-b@cpu", None)
    cache = engine.models.get("photo-cache", PhotoCache)
    (embedding,) = (cache.get(key) for key in list(cache._entries))
    reused = proposals.generate_proposals(sam, image, lambda *_: None, embedding=embedding)
    fresh = proposals.generate_proposals(sam, image, lambda *_: None)
    assert np.array_equal(reused.masks, fresh.masks) and len(fresh.masks) > 0


def test_big_photo_points_are_scaled_to_the_working_copy(engine):
    """A 2048 x 1536 photo is prompted on its 1024 px working copy: masks at that size,
    boxes in the photo's pixels, the click where it was made."""
    image = np.kron(gradient_photo(), np.ones((64, 64, 1), np.uint8))[:1536, :2048]
    working = proposals.working_copy(image)
    assert working.shape[:2] == (768, 1024)
    candidates = run(engine, image, ((1000.0, 700.0, True),))
    sam = engine.models.get("sam-vit-b@cpu", None)
    masks, quality = library(sam, working, ((500.0, 350.0, True),))
    best = candidates[0]
    assert best.mask.shape == (768, 1024)
    assert np.array_equal(best.mask > 0, masks[int(np.argmax(quality))])
    ys, xs = np.nonzero(best.mask)
    working_box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    assert best.box == full_resolution_box(working_box, (768, 1024), (1536, 2048))


def test_no_prompt_is_a_sentence(engine):
    result = engine.run(FindJob(1, gradient_photo(), "", method="points"), lambda _: None,
                        CancelToken())
    assert result.status is Status.FAILED and "Click on the object" in result.message


def test_clicks_need_only_segment_anything(tmp_path):
    result = Engine(EngineSettings(models_dir=tmp_path)).run(
        FindJob(1, gradient_photo(), "", method="points", points=POINTS[:1]), lambda _: None,
        CancelToken())
    assert result.status is Status.FAILED
    assert result.missing_models == ("sam-vit-b",)
    assert "Masking what was clicked" in result.message


def test_cancel_during_the_embedding(engine):
    cancel = CancelToken()
    cancel.cancel()
    result = engine.run(FindJob(1, gradient_photo(), "", method="points", points=POINTS),
                        lambda _: None, cancel)
    assert result.status is Status.CANCELLED
    assert torch.is_grad_enabled()
