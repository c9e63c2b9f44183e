"""The canvas's level pyramid: levels are 2x2 averages, and box updates match a rebuild."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from paintnoise_desktop.core.box import slices
from paintnoise_desktop.ui.image_pyramid import (
    BAND_PIXELS,
    ImagePyramid,
    PendingUpdates,
    aligned,
    bands,
    rgb_to_rgb32,
)


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


@pytest.mark.parametrize("box", [(0, 0, 1031, 601), (5, 37, 1000, 590), (0, 300, 1031, 301)])
def test_band_by_band_updates_of_a_blank_pyramid_match_a_rebuild(monkeypatch, box):
    monkeypatch.setattr("paintnoise_desktop.ui.image_pyramid.BAND_PIXELS", 20_000)
    rng = np.random.default_rng(2)
    rgb = rng.integers(0, 256, (601, 1031, 3), dtype=np.uint8)
    pyramid = ImagePyramid(rgb_to_rgb32(rgb))
    rgb[slices(box)] = rng.integers(0, 256, (box[3] - box[1], box[2] - box[0], 3), np.uint8)
    pending, made = PendingUpdates(), []
    pending.add(pyramid, box, lambda band: rgb_to_rgb32(rgb[slices(band)]), made.append)
    pending.run(0.0)
    assert len(made) == 1 and (pending.busy or box[3] - box[1] == 1)
    pending.finish()
    assert not pending.busy and len(made) == len(bands(box, pyramid.alignment))
    assert [band[1] for band in made] == sorted(band[1] for band in made), "top to bottom"
    for updated, expected in zip(pyramid.levels, ImagePyramid(rgb_to_rgb32(rgb)).levels,
                                 strict=True):
        np.testing.assert_array_equal(updated, expected)


def test_bands_start_on_aligned_rows_and_cover_the_box():
    box = (3, 5, 1000, 3000)
    cut = bands(box, 32)
    assert cut[0][1] == 5 and cut[-1][3] == 3000
    assert all(a[3] == b[1] for a, b in itertools.pairwise(cut))
    assert all(band[1] % 32 == 0 for band in cut[1:])
    assert all((band[3] - band[1]) * 997 <= max(BAND_PIXELS, 32 * 997) for band in cut)


def test_a_patch_with_the_photos_level_count_lines_up_with_its_levels():
    rng = np.random.default_rng(3)
    photo = rng.integers(0, 256, (601, 1031), dtype=np.uint8)
    whole = ImagePyramid(photo)
    box = aligned((300, 200, 517, 411), whole.alignment, 1031, 601)
    assert box == (296, 200, 520, 416)
    patch = ImagePyramid(photo[slices(box)], len(whole.levels))
    for k, level in enumerate(patch.levels):
        s = 1 << k
        np.testing.assert_array_equal(
            level, whole.levels[k][box[1] // s : box[3] // s, box[0] // s : box[2] // s])


def test_later_updates_of_a_box_replace_queued_bands_inside_it():
    pyramid = ImagePyramid.blank(100, 100, 1)
    pending, seen = PendingUpdates(), []
    pending.add(pyramid, (0, 10, 50, 20), lambda band: np.full((10, 50), 1, np.uint8))
    pending.add(pyramid, (0, 0, 100, 100), lambda band: np.full((band[3] - band[1], 100), 7,
                                                                 np.uint8), seen.append)
    pending.finish()
    assert (pyramid.levels[0] == 7).all() and seen == [(0, 0, 100, 100)]
    pending.add(pyramid, (0, 0, 100, 100), lambda band: np.zeros((100, 100), np.uint8))
    pending.drop(pyramid)
    assert not pending.busy
