"""SegCLIP: crops, ranking, "all" mode and exclusions with a controlled embedder;
then the whole Find job with tiny real models through the engine."""

from __future__ import annotations

import re

import numpy as np
import pytest

from paintnoise_desktop.core.jobs import CancelToken, FindJob, Status
from paintnoise_desktop.engine.find.proposals import Proposals
from paintnoise_desktop.engine.find.ranking import is_weak, select
from paintnoise_desktop.engine.find.segclip import (
    GREY,
    describe_photo,
    object_crop,
    rank_candidates,
)
from paintnoise_desktop.engine.runner import Engine

COLOURS = {"red": (220, 30, 30), "green": (30, 180, 40), "blue": (30, 40, 220)}
SHAPES = ("square", "circle")
DIMS = [*COLOURS, *SHAPES, "image", "text"]


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


class ControlledEmbedder:
    """An embedder whose answers are known: not CLIP, a stand-in with CLIP-like cosines.

    Both sides live in the space (red, green, blue, square, circle, image, text).
    A text sets the colour and shape words it contains (unit length together) plus
    1.2 on its own "text" axis; a crop's saturated pixels set their colour (0.8) and shape
    (0.6, square when it fills its box, circle otherwise) plus 1.2 on "image". So a
    full match has cosine 0.41, colour only 0.33, shape only 0.25, nothing 0.
    """

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.image_calls = 0

    def encode_text(self, texts: list[str]) -> np.ndarray:
        self.texts.extend(texts)
        rows = []
        for text in texts:
            words = set(re.findall(r"[a-z]+", text.lower()))
            vector = np.zeros(len(DIMS))
            for i, name in enumerate(DIMS[:5]):
                vector[i] = float(name in words or name + "s" in words)
            if vector.any():
                vector = _unit(vector)
            vector[DIMS.index("text")] = 1.2
            rows.append(_unit(vector))
        return np.array(rows)

    def encode_images(self, images: list[np.ndarray]) -> np.ndarray:
        self.image_calls += 1
        rows = []
        for crop in images:
            vector = np.zeros(len(DIMS))
            ink = np.ptp(crop.astype(int), axis=2) > 60  # saturated pixels only
            if ink.any():
                mean = crop[ink].mean(axis=0)
                colour = min(COLOURS, key=lambda name: np.abs(mean - COLOURS[name]).sum())
                ys, xs = np.nonzero(ink)
                fill = ink.sum() / ((np.ptp(ys) + 1) * (np.ptp(xs) + 1))
                vector[DIMS.index(colour)] = 0.8
                vector[DIMS.index("square" if fill > 0.9 else "circle")] = 0.6
            vector[DIMS.index("image")] = 1.2
            rows.append(_unit(vector))
        return np.array(rows, np.float32)


def shapes_photo() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A 160 x 120 light photo with a red square, a green square and a blue circle."""
    photo = np.full((120, 160, 3), 235, np.uint8)
    yy, xx = np.mgrid[:120, :160]
    masks = {
        "red square": (xx >= 10) & (xx < 50) & (yy >= 10) & (yy < 50),
        "green square": (xx >= 70) & (xx < 100) & (yy >= 60) & (yy < 90),
        "blue circle": (xx - 130) ** 2 + (yy - 35) ** 2 < 18**2,
    }
    for name, mask in masks.items():
        photo[mask] = COLOURS[name.split()[0]]
    masks["background"] = ~(masks["red square"] | masks["green square"] | masks["blue circle"])
    return photo, masks


def fixed_proposals(masks: dict[str, np.ndarray]) -> Proposals:
    stack = np.stack(list(masks.values()))
    boxes = []
    for mask in stack:
        ys, xs = np.nonzero(mask)
        boxes.append((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))
    return Proposals(stack, np.array(boxes), np.ones(len(stack), np.float32))


@pytest.fixture
def described():
    photo, masks = shapes_photo()
    embedder = ControlledEmbedder()
    entry = describe_photo(
        photo, photo.shape[:2], fixed_proposals(masks), embedder, lambda f, m: None
    )
    return entry, embedder, masks


def matches(candidate, mask: np.ndarray) -> bool:
    return np.array_equal(candidate.mask > 0, mask)


def test_crop_is_the_object_on_grey_with_a_margin():
    photo, masks = shapes_photo()
    crop = object_crop(photo, masks["green square"], (70, 60, 100, 90), margin=0.2)
    assert crop.shape == (42, 42, 3)  # 30 px + 6 px each side
    assert (crop[6:36, 6:36] == COLOURS["green"]).all()
    assert (crop[:6] == GREY).all() and (crop[:, 36:] == GREY).all()


def test_all_crops_go_in_one_batched_call(described):
    _, embedder, _ = described
    assert embedder.image_calls == 1


def test_red_square_finds_the_red_square(described):
    entry, embedder, masks = described
    candidates = rank_candidates(entry, embedder, "red square")
    assert matches(candidates[0], masks["red square"])
    assert candidates[0].source == "segclip" and candidates[0].label == "red square"
    assert candidates[0].box == (10, 10, 50, 50)
    assert select([c.score for c in candidates], "all") == [0]
    assert not is_weak([c.score for c in candidates])
    assert "a photo of a red square." in embedder.texts


def test_all_squares_selects_both_squares(described):
    entry, embedder, masks = described
    candidates = rank_candidates(entry, embedder, "all squares")
    chosen = select([c.score for c in candidates], "all")
    assert sorted(chosen) == [0, 1]
    found = {
        name
        for name in ("red square", "green square")
        for i in chosen
        if matches(candidates[i], masks[name])
    }
    assert found == {"red square", "green square"}
    assert select([c.score for c in candidates], "best") == [0]


def test_square_not_red_excludes_the_red_square(described):
    entry, embedder, masks = described
    candidates = rank_candidates(entry, embedder, "square", ("red",))
    assert matches(candidates[0], masks["green square"])
    assert not any(matches(c, masks["red square"]) for c in candidates)
    assert len(candidates) == 3


def test_a_weak_match_is_reported_weak_but_the_closest_is_shown(described):
    entry, embedder, _ = described
    candidates = rank_candidates(entry, embedder, "purple triangle")
    scores = [c.score for c in candidates]
    assert len(candidates) == 4
    assert is_weak(scores)
    assert select(scores, "all") == [0]


def test_boxes_are_scaled_to_the_full_photo():
    photo, masks = shapes_photo()
    entry = describe_photo(
        photo, (1200, 1600), fixed_proposals(masks), ControlledEmbedder(), lambda f, m: None
    )
    assert entry.boxes[0] == (100, 100, 500, 500)
    assert entry.mask_shape == (120, 160)


# --- the whole job, tiny real models --------------------------------------------------------


def synthetic_photo(width: int = 160, height: int = 120) -> np.ndarray:
    photo, _ = shapes_photo()
    import cv2

    return cv2.resize(photo, (width, height), interpolation=cv2.INTER_NEAREST)


def test_find_job_with_tiny_models(models_env):
    photo = synthetic_photo()
    progress = []
    result = Engine().run(FindJob(1, photo, "red square"), progress.append, CancelToken())
    assert result.ok, result.detail
    assert result.candidates
    scores = [c.score for c in result.candidates]
    assert all(0 <= s <= 1 for s in scores) and sum(scores) <= 1 + 1e-9
    assert scores == sorted(scores, reverse=True)
    for candidate in result.candidates:
        assert candidate.mask.shape == (120, 160) and candidate.mask.dtype == np.uint8
        assert set(np.unique(candidate.mask)) <= {0, 255} and candidate.mask.any()
        x0, y0, x1, y1 = candidate.box
        assert 0 <= x0 < x1 <= 160 and 0 <= y0 < y1 <= 120
        assert candidate.source == "segclip" and candidate.label == "red square"
    fractions = [p.fraction for p in progress]
    assert len(fractions) >= 4 and fractions == sorted(fractions)
    assert all(p.job_id == 1 for p in progress)


def test_cancel_after_the_first_step(models_env):
    cancel = CancelToken()
    result = Engine().run(
        FindJob(2, synthetic_photo(), "red square"), lambda p: cancel.cancel(), cancel
    )
    assert result.status is Status.CANCELLED


def test_large_photo_gives_working_size_masks(models_env):
    photo = synthetic_photo(3000, 2000)
    result = Engine().run(FindJob(3, photo, "blue circle"), lambda p: None, CancelToken())
    assert result.ok, result.detail
    for candidate in result.candidates:
        assert candidate.mask.shape == (683, 1024)
        assert candidate.box[2] <= 3000 and candidate.box[3] <= 2000


def test_missing_models_fail_with_the_models_to_download(tmp_path, monkeypatch):
    monkeypatch.setenv("PAINTNOISE_MODELS_DIR", str(tmp_path))
    result = Engine().run(FindJob(4, synthetic_photo(), "cat"), lambda p: None, CancelToken())
    assert result.status is Status.FAILED  # one offer names every model Find lacks
    assert result.missing_models == ("sam-vit-b", "clip-vit-base-patch32")


def test_empty_text_asks_for_words(models_env):
    result = Engine().run(FindJob(5, synthetic_photo(), "  "), lambda p: None, CancelToken())
    assert result.status is Status.FAILED and "Type what to find" in result.message


def test_cancel_while_the_photo_is_encoded_leaves_nothing_cached(models_env):
    from paintnoise_desktop.engine.find.photo_cache import PhotoCache

    engine = Engine()
    cancel = CancelToken()
    messages = []

    def report(progress):
        messages.append(progress.message)
        if progress.message == "Looking at the photo":
            cancel.cancel()

    result = engine.run(FindJob(6, synthetic_photo(), "red square"), report, cancel)
    assert result.status is Status.CANCELLED
    assert "Finding objects" not in messages
    assert len(engine.models.get("photo-cache", PhotoCache)) == 0
