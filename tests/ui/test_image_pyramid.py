"""The canvas's level pyramid: levels are 2x2 averages, and box updates match a rebuild."""

from __future__ import annotations

import numpy as np
import pytest

from paintnoise_desktop.ui.image_pyramid import ImagePyramid, rgb_to_rgb32


def test_levels_halve_down_to_the_smallest_side_and_average_pixels():
    mask = np.zeros((600, 1030), np.uint8)
    mask[0:2, 0:2] = [[0, 255], [255, 255]]
    pyramid = ImagePyramid(mask)
    assert [level.shape for level in pyramid.levels] == [
        (600, 1030),
        (300, 515),
        (150, 258),
        (75, 129),
    ]
    assert pyramid.levels[1][0, 0] == round(255 * 3 / 4)
    assert pyramid.images[2].width() == 258 and pyramid.images[2].height() == 150


@pytest.mark.parametrize(
    "box", [(0, 0, 1, 1), (300, 200, 517, 411), (1000, 590, 1031, 601), (3, 5, 4, 600)]
)
def test_box_update_matches_rebuilding_from_scratch(box):
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (601, 1031, 3), dtype=np.uint8)
    pyramid = ImagePyramid(rgb_to_rgb32(rgb))
    x0, y0, x1, y1 = box
    rgb[y0:y1, x0:x1] = rng.integers(0, 256, (y1 - y0, x1 - x0, 3), dtype=np.uint8)
    pyramid.update(box, rgb_to_rgb32(rgb[y0:y1, x0:x1]))
    rebuilt = ImagePyramid(rgb_to_rgb32(rgb))
    for updated, expected in zip(pyramid.levels, rebuilt.levels, strict=True):
        np.testing.assert_array_equal(updated, expected)


def test_rgb32_pixels_read_back_as_the_same_colours():
    rgb = np.array([[[10, 20, 30], [200, 100, 0]]], np.uint8)
    image = ImagePyramid(rgb_to_rgb32(rgb)).images[0]
    assert image.pixelColor(0, 0).getRgb()[:3] == (10, 20, 30)
    assert image.pixelColor(1, 0).getRgb()[:3] == (200, 100, 0)


@pytest.mark.parametrize(
    ("zoom", "level"), [(4.0, 0), (1.0, 0), (0.6, 0), (0.5, 1), (0.3, 1), (0.2, 2), (1 / 64, 3)]
)
def test_level_for_zoom_is_the_smallest_level_at_least_as_detailed_as_the_screen(zoom, level):
    pyramid = ImagePyramid(np.zeros((600, 1030), np.uint8))
    assert pyramid.level_for(zoom) == level


def test_the_pyramid_owns_its_pixels():
    mask = np.zeros((20, 30), np.uint8)
    pyramid = ImagePyramid(mask)
    mask[:] = 255
    assert not pyramid.levels[0].any()
