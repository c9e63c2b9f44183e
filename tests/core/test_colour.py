from __future__ import annotations

import numpy as np

from paintnoise_desktop.core.colour import match_to_surroundings, ring_around


def _textured(seed: int, base: tuple[int, int, int], size=(64, 64)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 12, (*size, 3))
    return np.clip(np.array(base, float) + noise, 0, 255).astype(np.uint8)


def _hole(size=(64, 64)) -> np.ndarray:
    mask = np.zeros(size, np.uint8)
    mask[20:44, 20:44] = 255
    return mask


def test_a_colour_cast_of_the_repainted_crop_is_undone_inside_the_mask():
    original = _textured(0, (120, 140, 90))
    painted = np.clip(original.astype(int) + (30, -20, 25), 0, 255).astype(np.uint8)  # a cast everywhere
    mask = _hole()
    matched = match_to_surroundings(painted, original, mask)
    inside = mask > 0
    error_before = np.abs(painted[inside].astype(float).mean(0) - original[inside].mean(0)).max()
    error_after = np.abs(matched[inside].astype(float).mean(0) - original[inside].mean(0)).max()
    assert error_before > 15
    assert error_after < 3
    assert np.array_equal(matched[~inside], painted[~inside])


def test_a_repainted_crop_that_agrees_with_the_photo_is_left_nearly_unchanged():
    original = _textured(1, (60, 90, 200))
    painted = original.copy()
    painted[20:44, 20:44] = _textured(2, (200, 60, 40), (24, 24))  # new content, same surroundings
    matched = match_to_surroundings(painted, original, _hole())
    assert np.abs(matched.astype(int) - painted.astype(int)).max() <= 2


def test_no_ring_means_no_change():
    original = _textured(3, (100, 100, 100))
    painted = np.clip(original.astype(int) + 40, 0, 255).astype(np.uint8)
    full = np.full((64, 64), 255, np.uint8)
    assert np.array_equal(match_to_surroundings(painted, original, full), painted)


def test_ring_lies_just_outside_the_mask():
    ring = ring_around(_hole(), 4)
    assert not ring[20:44, 20:44].any()
    assert ring[18, 30] and ring[30, 45] and not ring[10, 30]


def test_a_known_colour_object_keeps_its_colour_when_its_surroundings_come_back_softened():
    """The VAE softens texture around the mask; that must not change a new object's saturation."""
    import cv2

    blue = (40, 90, 200)
    original = _textured(4, (150, 140, 120))
    painted = cv2.GaussianBlur(original, (5, 5), 1.0)  # the round trip's slight blur
    painted[20:44, 20:44] = blue  # the object the model painted
    matched = match_to_surroundings(painted, original, _hole())
    colour = matched[20:44, 20:44].reshape(-1, 3).astype(int)
    assert np.abs(colour - blue).max() <= 3
    saturation = cv2.cvtColor(matched[20:44, 20:44], cv2.COLOR_RGB2HSV)[..., 1]
    expected = cv2.cvtColor(np.full((1, 1, 3), blue, np.uint8), cv2.COLOR_RGB2HSV)[0, 0, 1]
    assert np.abs(saturation.astype(int) - int(expected)).max() <= 3
