from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from paintnoise_desktop.core.compositing import composite


@st.composite
def scenes(draw):
    height = draw(st.integers(1, 12))
    width = draw(st.integers(1, 12))
    x0 = draw(st.integers(0, width - 1))
    y0 = draw(st.integers(0, height - 1))
    x1 = draw(st.integers(x0 + 1, width))
    y1 = draw(st.integers(y0 + 1, height))
    base = draw(arrays(np.uint8, (height, width, 3)))
    patch = draw(arrays(np.uint8, (y1 - y0, x1 - x0, 3)))
    alpha_values = st.sampled_from([0, 255]) | st.integers(0, 255)
    alpha = draw(arrays(np.uint8, (y1 - y0, x1 - x0), elements=alpha_values))
    if draw(st.booleans()):
        alpha = alpha.astype(np.float32)
    return base, patch, (x0, y0, x1, y1), alpha


@settings(max_examples=150, deadline=None)
@given(scenes())
def test_zero_alpha_keeps_the_base_and_full_alpha_takes_the_patch(scene):
    base, patch, box, alpha = scene
    original = base.copy()
    out = composite(base, patch, box, alpha)
    np.testing.assert_array_equal(base, original)
    x0, y0, x1, y1 = box
    inside = out[y0:y1, x0:x1]
    np.testing.assert_array_equal(inside[alpha == 0], base[y0:y1, x0:x1][alpha == 0])
    np.testing.assert_array_equal(inside[alpha == 255], patch[alpha == 255])
    outside = np.ones(base.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    np.testing.assert_array_equal(out[outside], base[outside])
    # In between: the rounded linear blend, never outside the two inputs.
    a = alpha.astype(np.float64)[..., None] / 255
    expected = base[y0:y1, x0:x1] * (1 - a) + patch * a
    assert np.abs(inside - expected).max(initial=0) <= 0.5 + 1e-3


def test_half_alpha_is_the_mean():
    base = np.zeros((4, 4, 3), np.uint8)
    patch = np.full((2, 2, 3), 200, np.uint8)
    out = composite(base, patch, (1, 1, 3, 3), np.full((2, 2), 127.5))
    assert out[1:3, 1:3].min() == 100 and out[1:3, 1:3].max() == 100
    assert out[0].max() == 0


def test_mismatched_shapes_are_refused():
    base = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(ValueError):
        composite(base, np.zeros((2, 3, 3), np.uint8), (0, 0, 2, 2), np.zeros((2, 2)))
    with pytest.raises(ValueError):
        composite(base, np.zeros((2, 2, 3), np.uint8), (3, 3, 5, 5), np.zeros((2, 2)))
