"""The fast finder for CPUs: which proposal model SegCLIP uses, the shared filtering with
logits whose answer is known, and SegCLIP end to end on a tiny real Sam2Model and CLIP
loaded from a models folder by the app's loaders."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from paintnoise_desktop.core.jobs import CancelToken, FindJob, Status
from paintnoise_desktop.engine.find.clip_model import TEXT_CACHE, load_clip
from paintnoise_desktop.engine.find.photo_cache import PhotoCache, PhotoEntry
from paintnoise_desktop.engine.find.proposals import ProposalSettings, surviving_logits
from paintnoise_desktop.engine.find.sam2_decoder import decode_points
from paintnoise_desktop.engine.find.sam2_proposals import load_fast_proposer
from paintnoise_desktop.engine.models.model_choice import FAST_PROPOSAL_MODEL, proposal_model
from paintnoise_desktop.engine.models.needs import find_needs
from paintnoise_desktop.engine.runner import Engine
from paintnoise_desktop.engine.settings import EngineSettings
from tests.tinymodels.clip import build_clip
from tests.tinymodels.sam2 import build_sam2

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def fast_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    build_sam2(root / FAST_PROPOSAL_MODEL)
    build_clip(root / "clip-vit-base-patch32")
    return root


def test_the_cpu_proposes_with_the_fast_model_when_installed_unless_turned_off(
        fast_models, tmp_path):
    installed = EngineSettings(models_dir=fast_models)
    assert proposal_model(installed, on_cpu=True) == FAST_PROPOSAL_MODEL
    assert proposal_model(installed, on_cpu=False) == FAST_PROPOSAL_MODEL  # no SAM to use
    off = replace(installed, fast_cpu_finder=False)
    assert proposal_model(off, on_cpu=True) == "sam-vit-b"  # the SAM the error would name
    with_sam = replace(installed, model_paths={"sam-vit-b": str(tmp_path)})
    assert proposal_model(with_sam, on_cpu=True) == FAST_PROPOSAL_MODEL
    assert proposal_model(with_sam, on_cpu=False) == "sam-vit-b"  # a GPU uses SAM
    assert find_needs("segclip", replace(installed, device="cpu")) == (
        FAST_PROPOSAL_MODEL, "clip-vit-base-patch32")
    nothing = EngineSettings(models_dir=tmp_path / "empty")
    assert proposal_model(nothing, on_cpu=True) == "sam-vit-b"


def _logits(*masks: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.stack(masks), dtype=torch.float) * 20 - 10  # +10 in, -10 out


def test_every_proposal_model_is_filtered_by_predicted_iou_stability_and_nms():
    left = np.zeros((16, 16), bool)
    left[2:10, 1:7] = True
    twin = left.copy()
    twin[9, 1] = False  # nearly the same box: NMS keeps the better scored
    right = np.zeros((16, 16), bool)
    right[4:12, 9:15] = True
    unsure = np.zeros((16, 16), bool)
    unsure[12:15, 2:14] = True
    logits = _logits(left, twin, right, unsure)
    iou = torch.tensor([0.90, 0.95, 0.85, 0.50])
    settings = ProposalSettings(min_keep=0)
    kept, scores = surviving_logits([(logits[:2], iou[:2]), (logits[2:], iou[2:])], (16, 16),
                                    0.0, settings)
    assert scores.tolist() == pytest.approx([0.95, 0.85])  # the twin, then right; unsure is out
    assert torch.equal(kept[1] > 0, torch.as_tensor(right))
    # a mask beyond the valid region (the encoder's padding) counts as empty
    edge = np.zeros((16, 16), bool)
    edge[13:16, 13:16] = True
    none, _ = surviving_logits([(_logits(edge), torch.tensor([0.99]))], (12, 12), 0.0, settings)
    assert len(none) == 0


def test_the_fast_proposer_returns_working_size_proposals(fast_models):
    proposer = load_fast_proposer(fast_models / FAST_PROPOSAL_MODEL, FAST_PROPOSAL_MODEL, CPU)
    image = np.random.default_rng(2).integers(0, 255, (48, 80, 3), dtype=np.uint8)
    steps = []
    settings = ProposalSettings(points_per_side=4, min_predicted_iou=0, min_stability=0,
                                min_region_fraction=0)
    found = proposer.propose(image, lambda fraction, message: steps.append(message), settings)
    assert found.masks.shape[1:] == (48, 80) and len(found.masks) >= 1
    assert all(mask.any() for mask in found.masks)
    assert list(found.quality) == sorted(found.quality, reverse=True)
    assert "Looking at the photo" in steps and "Finding objects" in steps
    strict = proposer.propose(image, lambda *a: None,
                              replace(settings, min_predicted_iou=1.5, min_keep=2))
    assert len(strict.masks) <= 2  # nobody passes; only the most confident guesses stay


def test_the_many_prompt_decoder_equals_the_librarys_forward(fast_models):
    proposer = load_fast_proposer(fast_models / FAST_PROPOSAL_MODEL, FAST_PROPOSAL_MODEL, CPU)
    image = np.random.default_rng(3).integers(0, 255, (48, 80, 3), dtype=np.uint8)
    with torch.inference_mode():
        embeddings = proposer._embed(image, lambda *a: None)
        for points in (torch.tensor([[20.0, 40.0]]), torch.rand(5, 2) * 64):
            library = proposer.model(image_embeddings=embeddings,
                                     input_points=points[None, :, None, :],
                                     multimask_output=True)
            masks, iou = decode_points(proposer.model, embeddings, points)
            assert masks.shape == library.pred_masks[0].shape and iou.shape == (len(points), 3)
            assert torch.allclose(masks, library.pred_masks[0], atol=1e-5)
            assert torch.allclose(iou, library.iou_scores[0], atol=1e-6)
            assert masks.std() > 0  # a real mask, not a constant both sides agree on


def test_segclip_finds_with_the_fast_finder_and_reranks_from_the_cache(fast_models):
    engine = Engine(EngineSettings(models_dir=fast_models, device="cpu"))
    photo = np.full((60, 90, 3), 230, np.uint8)
    photo[10:40, 15:45] = (200, 30, 30)
    result = engine.run(FindJob(1, photo, "red square"), lambda p: None, CancelToken())
    assert result.status is Status.FINISHED, result.detail
    assert result.candidates and {c.source for c in result.candidates} == {"segclip"}
    assert result.candidates[0].mask.shape == (60, 90)
    cache = engine.models.get("photo-cache", PhotoCache)
    assert any(isinstance(cache.get(key), PhotoEntry) for key in list(cache._entries))
    steps = []
    again = engine.run(FindJob(2, photo, "green circle"), steps.append, CancelToken())
    assert again.ok and not any(p.message == "Looking at the photo" for p in steps)


def test_a_requery_with_words_seen_before_skips_the_text_encoder(fast_models, monkeypatch):
    embedder = load_clip(fast_models / "clip-vit-base-patch32", "clip-vit-base-patch32", CPU,
                         torch.float32)
    runs = []
    encode = embedder.model.get_text_features
    monkeypatch.setattr(embedder.model, "get_text_features",
                        lambda **tokens: runs.append(1) or encode(**tokens))
    first = embedder.encode_text(["a photo of a cup.", "cup"])
    first[:] = 0  # the caller's copy; the remembered rows stay
    again = embedder.encode_text(["a photo of a cup.", "cup"])
    assert len(runs) == 1 and np.allclose(np.linalg.norm(again, axis=1), 1.0)
    assert np.array_equal(again, embedder._encode_text(["a photo of a cup.", "cup"]))
    for number in range(TEXT_CACHE):
        embedder.encode_text([f"thing {number}"])
    embedder.encode_text(["a photo of a cup.", "cup"])  # pushed out by newer words
    assert len(runs) == 3 + TEXT_CACHE

