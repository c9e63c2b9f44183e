"""The per-photo cache: packed masks, bounds, and a second query that skips the heavy work."""

from __future__ import annotations

import functools

import numpy as np

from paintnoise_desktop.core.jobs import CancelToken, FindJob
from paintnoise_desktop.engine.find import proposals
from paintnoise_desktop.engine.find.clip_model import ClipEmbedder
from paintnoise_desktop.engine.find.photo_cache import PhotoCache, PhotoEntry, photo_key
from paintnoise_desktop.engine.runner import Engine


def entry(count: int = 3, h: int = 30, w: int = 41, seed: int = 0) -> tuple[PhotoEntry, np.ndarray]:
    masks = np.random.default_rng(seed).random((count, h, w)) > 0.5
    rows = np.ones((count, 8), np.float32)
    return PhotoEntry.from_masks(masks, tuple((0, 0, w, h) for _ in range(count)), rows), masks


def test_masks_come_back_exactly_from_their_packed_bits():
    stored, masks = entry()
    assert stored.packed_masks.nbytes == 3 * ((30 * 41 + 7) // 8)
    for i, mask in enumerate(masks):
        unpacked = stored.mask(i)
        assert unpacked.dtype == np.uint8 and unpacked.shape == (30, 41)
        assert np.array_equal(unpacked == 255, mask) and set(np.unique(unpacked)) <= {0, 255}


def test_key_follows_pixels_shape_and_models():
    photo = np.zeros((20, 30, 3), np.uint8)
    changed = photo.copy()
    changed[5, 7, 1] = 1
    assert photo_key(photo, "sam") == photo_key(photo.copy(), "sam")
    assert photo_key(photo, "sam") != photo_key(changed, "sam")
    assert photo_key(photo, "sam") != photo_key(photo.reshape(30, 20, 3), "sam")
    assert photo_key(photo, "sam") != photo_key(photo, "other sam")


def test_cache_evicts_the_least_recently_used():
    one, _ = entry(seed=1)
    cache = PhotoCache(max_bytes=int(2.5 * one.nbytes))
    for key in "abc":
        cache.put(key, entry(seed=ord(key))[0])
        if key == "b":
            assert cache.get("a") is not None  # "a" is now the most recently used
    assert "a" in cache and "b" not in cache and "c" in cache
    assert cache.nbytes <= cache.max_bytes
    small = PhotoCache(max_photos=1)
    small.put("a", one)
    small.put("b", one)
    assert len(small) == 1 and "b" in small


def counting(function, calls: list):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        calls.append(function.__name__)
        return function(*args, **kwargs)

    return wrapper


def test_second_query_skips_proposals_and_image_encoding(models_env, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(
        proposals, "generate_proposals", counting(proposals.generate_proposals, calls)
    )
    monkeypatch.setattr(ClipEmbedder, "encode_images", counting(ClipEmbedder.encode_images, calls))
    text_calls: list[str] = []
    monkeypatch.setattr(ClipEmbedder, "encode_text", counting(ClipEmbedder.encode_text, text_calls))
    photo = np.full((96, 128, 3), 210, np.uint8)
    photo[20:60, 30:70] = (200, 30, 30)
    engine = Engine()

    first = engine.run(FindJob(1, photo, "red square"), lambda p: None, CancelToken())
    assert first.ok, first.detail
    assert calls.count("generate_proposals") == 1 and calls.count("encode_images") >= 1
    calls.clear()

    again = engine.run(FindJob(2, photo.copy(), "red square"), lambda p: None, CancelToken())
    other = engine.run(FindJob(3, photo, "green", exclude=("red",)), lambda p: None, CancelToken())
    assert again.ok and other.ok and calls == []
    assert len(text_calls) == 3  # one text encoding per query, exclusions included
    assert [(c.box, c.score) for c in again.candidates] == [
        (c.box, c.score) for c in first.candidates
    ]
    assert all(np.array_equal(a.mask, b.mask) for a, b in zip(again.candidates, first.candidates))

    repainted = photo.copy()
    repainted[30:40, 40:50] = 0
    engine.run(FindJob(4, repainted, "red square"), lambda p: None, CancelToken())
    assert calls.count("generate_proposals") == 1


def test_reference_settings_are_asked_for_by_the_job_and_cached_apart(models_env, monkeypatch):
    used = []
    real = proposals.generate_proposals

    def recording(sam, image, step, settings, embedding=None):
        used.append(settings)
        return real(sam, image, step, settings, embedding)

    monkeypatch.setattr(proposals, "generate_proposals", recording)
    photo = np.full((96, 128, 3), 210, np.uint8)
    photo[20:60, 30:70] = (200, 30, 30)
    engine = Engine()
    engine.run(FindJob(1, photo, "red square"), lambda p: None, CancelToken())
    engine.run(FindJob(2, photo, "red square", reference=True), lambda p: None, CancelToken())
    engine.run(FindJob(3, photo, "red square", reference=True), lambda p: None, CancelToken())
    assert used == [proposals.ProposalSettings(points_per_side=16), proposals.REFERENCE]
    # two sets of proposals, and on the CPU (no half precision) one image embedding for both
    assert len(engine.models.get("photo-cache", PhotoCache)) == 3
