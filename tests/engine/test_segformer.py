"""SegFormer + CLIP: label maps cut into segments, ranked by a controlled embedder as SegCLIP
ranks proposals; then the Find job with a tiny real SegFormer and CLIP from a models folder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from paintnoise_desktop.core.jobs import CancelToken, FindJob, Status
from paintnoise_desktop.engine.find import segformer
from paintnoise_desktop.engine.find.segclip import describe_photo, rank_candidates
from paintnoise_desktop.engine.find.segformer import segments
from paintnoise_desktop.engine.runner import Engine
from paintnoise_desktop.engine.settings import EngineSettings
from tests.engine.test_segclip import ControlledEmbedder, shapes_photo
from tests.tinymodels.clip import build_clip
from tests.tinymodels.segformer import build_segformer


def shapes_labels() -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The shapes photo as a label map: background 0, both squares class 1 (two regions of
    one class), the circle class 2."""
    photo, masks = shapes_photo()
    label = np.zeros(photo.shape[:2], np.int32)
    label[masks["red square"] | masks["green square"]] = 1
    label[masks["blue circle"]] = 2
    return photo, label, masks


def test_each_class_region_is_a_segment_largest_first():
    _, label, masks = shapes_labels()
    probability = np.where(label == 2, 0.6, 0.9).astype(np.float32)
    found = segments(label, probability)
    assert len(found.masks) == 4
    assert np.array_equal(found.masks[0], masks["background"])
    assert np.array_equal(found.masks[1], masks["red square"])
    ys, xs = np.nonzero(masks["blue circle"])
    circle_box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    assert {tuple(box) for box in found.boxes[1:]} == {
        (10, 10, 50, 50), (70, 60, 100, 90), circle_box}
    circle = next(i for i, mask in enumerate(found.masks) if mask[35, 130])
    assert found.quality[circle] == pytest.approx(0.6)


def test_segments_are_ranked_by_clip_as_segclip_ranks_proposals():
    photo, label, masks = shapes_labels()
    embedder = ControlledEmbedder()
    entry = describe_photo(photo, (1200, 1600), segments(label, np.ones(label.shape, np.float32)),
                           embedder, lambda fraction, message: None)
    best = rank_candidates(entry, embedder, "green square", source="segformer")
    assert np.array_equal(best[0].mask > 0, masks["green square"])
    assert best[0].source == "segformer" and best[0].box == (700, 600, 1000, 900)
    excluding = rank_candidates(entry, embedder, "square", ("green",), source="segformer")
    assert np.array_equal(excluding[0].mask > 0, masks["red square"])
    assert not any(np.array_equal(c.mask > 0, masks["green square"]) for c in excluding)


# --- the whole job, tiny real SegFormer and CLIP ---------------------------------------------


@pytest.fixture(scope="module")
def models_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    build_segformer(root / "segformer-b5-ade")
    build_clip(root / "clip-vit-base-patch32")
    return root


def test_labels_are_segformers_own_classes_at_the_photos_size(models_root):
    from transformers import SegformerForSemanticSegmentation, SegformerImageProcessor

    engine = Engine(EngineSettings(models_dir=models_root, device="cpu"))
    photo, _, _ = shapes_labels()
    label, probability = segformer.get_segformer(engine.models).labels(photo)
    folder = models_root / "segformer-b5-ade"
    model = SegformerForSemanticSegmentation.from_pretrained(folder).eval()
    inputs = SegformerImageProcessor.from_pretrained(folder)(images=photo, return_tensors="pt")
    with torch.no_grad():
        logits = model(**inputs).logits
    # the model's class probabilities, brought bilinearly to the photo's size
    reference = torch.nn.functional.interpolate(logits.softmax(dim=1), size=photo.shape[:2],
                                                mode="bilinear", align_corners=False)[0]
    assert label.shape == probability.shape == photo.shape[:2]
    agree = reference.argmax(dim=0).numpy() == label
    assert agree.mean() > 0.99  # only between cells may a class that wins nowhere lead
    np.testing.assert_allclose(probability[agree], reference.max(dim=0).values.numpy()[agree],
                               atol=1e-6)


def test_find_job_ranks_segments_and_caches_them_per_photo(models_root, monkeypatch):
    engine = Engine(EngineSettings(models_dir=models_root, device="cpu"))
    runs = []
    original = segformer.SegFormer.labels
    monkeypatch.setattr(segformer.SegFormer, "labels",
                        lambda self, image: runs.append(image.shape) or original(self, image))
    photo, _, _ = shapes_labels()
    first = engine.run(FindJob(1, photo, "sky", method="segformer"), lambda p: None,
                       CancelToken())
    again = engine.run(FindJob(2, photo, "wall", method="segformer", mode="all"),
                       lambda p: None, CancelToken())
    assert first.ok and again.ok, first.detail
    assert runs == [(120, 160, 3)]  # the second query was answered from the cache
    scores = [c.score for c in first.candidates]
    assert first.candidates and scores == sorted(scores, reverse=True) and sum(scores) <= 1
    for candidate in first.candidates:
        assert candidate.source == "segformer" and candidate.mask.shape == (120, 160)


def test_without_its_models_the_find_names_both(tmp_path):
    engine = Engine(EngineSettings(models_dir=tmp_path, device="cpu"))
    photo, _, _ = shapes_labels()
    result = engine.run(FindJob(1, photo, "sky", method="segformer"), lambda p: None,
                        CancelToken())
    assert result.status is Status.FAILED
    assert result.missing_models == ("segformer-b5-ade", "clip-vit-base-patch32")
