from __future__ import annotations

import numpy as np
import pytest

from paintnoise_desktop.core.errors import JobCancelled, PaintNoiseError
from paintnoise_desktop.core.jobs import CancelToken
from paintnoise_desktop.engine.inpaint.inpainter import PaintRequest, inpainter_for
from paintnoise_desktop.engine.inpaint.opencv import MAX_RADIUS, MIN_RADIUS, radius_for
from paintnoise_desktop.engine.models.model_store import ModelStore


def _smooth(size=(96, 128)) -> np.ndarray:
    y, x = np.mgrid[0:size[0], 0:size[1]].astype(float)
    return np.stack([60 + x, 80 + y, 150 + 0.3 * (x - y)], axis=-1).astype(np.uint8)


@pytest.mark.parametrize("method", ["opencv-telea", "opencv-ns"])
def test_fills_a_hole_in_a_smooth_image_close_to_its_surroundings(method):
    original = _smooth()
    damaged = original.copy()
    hole = np.zeros(original.shape[:2], np.uint8)
    hole[40:60, 50:80] = 255
    damaged[hole > 0] = (255, 0, 255)
    steps = []
    inpainter = inpainter_for(method, ModelStore())
    assert inpainter.native_size is None
    painted = inpainter.paint(damaged, hole, PaintRequest(), 0, lambda *a: steps.append(a), CancelToken())
    assert painted.shape == original.shape
    error = np.abs(painted.astype(int) - original.astype(int))[hole > 0]
    assert error.mean() < 6
    assert np.array_equal(painted[hole == 0], damaged[hole == 0])
    assert steps == [(1, 1, None)]


def test_cancelled_before_painting_raises():
    token = CancelToken()
    token.cancel()
    inpainter = inpainter_for("opencv-telea", ModelStore())
    with pytest.raises(JobCancelled):
        inpainter.paint(_smooth(), np.full((96, 128), 255, np.uint8), PaintRequest(), 0,
                        lambda *a: None, token)


def test_radius_grows_with_the_hole():
    small = np.zeros((200, 200), np.uint8)
    small[100:104, 100:104] = 255
    large = np.zeros((200, 200), np.uint8)
    large[20:180, 20:180] = 255
    assert radius_for(small) == MIN_RADIUS
    assert radius_for(large) == MAX_RADIUS


@pytest.mark.parametrize("rows", [96, 94])
def test_a_crop_with_next_to_nothing_around_the_hole_is_refused(rows):
    hole = np.zeros((96, 128), np.uint8)
    hole[:rows] = 255  # all of it, or all but two rows (98%)
    inpainter = inpainter_for("opencv-telea", ModelStore())
    with pytest.raises(PaintNoiseError, match="nothing around it to fill from"):
        inpainter.paint(_smooth(), hole, PaintRequest(), 0, lambda *a: None, CancelToken())


def test_a_hole_with_surroundings_to_fill_from_is_painted():
    hole = np.zeros((96, 128), np.uint8)
    hole[:84] = 255  # 88%: the bottom rows still give colours to continue
    inpainter = inpainter_for("opencv-telea", ModelStore())
    painted = inpainter.paint(_smooth(), hole, PaintRequest(), 0, lambda *a: None, CancelToken())
    assert painted.shape == (96, 128, 3)
