from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from paintnoise_desktop.core import masks
from paintnoise_desktop.core.box import box_of_mask
from paintnoise_desktop.core.jobs import MaskSettings


def rectangle(shape=(120, 160), box=(40, 30, 100, 90)) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    x0, y0, x1, y1 = box
    mask[y0:y1, x0:x1] = 255
    return mask


def within_distance(mask: np.ndarray, px: float) -> np.ndarray:
    """Brute force: pixels whose centre is within `px` of some pixel of the mask."""
    ys, xs = np.nonzero(mask)
    yy, xx = np.mgrid[: mask.shape[0], : mask.shape[1]]
    near = np.zeros(mask.shape, bool)
    for y, x in zip(ys, xs):
        near |= (yy - y) ** 2 + (xx - x) ** 2 <= px * px
    return near


def test_grow_binary_is_the_euclidean_disk_dilation():
    mask = np.zeros((50, 60), np.uint8)
    mask[20, 30] = 255
    mask[22:26, 10:14] = 255
    grown = masks.grow(mask, 7)
    assert set(np.unique(grown)) == {0, 255}
    np.testing.assert_array_equal(grown == 255, within_distance(mask, 7))


def test_grow_near_the_border_and_shrink_does_not_eat_from_the_frame():
    mask = rectangle(box=(0, 0, 30, 20))
    grown = masks.grow(mask, 5)
    assert grown[:20, :35].min() == 255 and grown[25:, :].max() == 0
    shrunk = masks.shrink(mask, 4)
    # Only the sides inside the photo move in.
    assert shrunk[:16, :26].min() == 255
    assert shrunk[16:, :].max() == 0 and shrunk[:, 26:].max() == 0


def test_shrink_moves_every_inner_edge_in():
    shrunk = masks.shrink(rectangle(), 3)
    np.testing.assert_array_equal(shrunk, rectangle(box=(43, 33, 97, 87)))


def test_grow_and_shrink_of_soft_masks_match_grey_morphology():
    rng = np.random.default_rng(1)
    mask = np.zeros((90, 110), np.uint8)
    mask[30:60, 40:80] = rng.integers(0, 256, (30, 40), dtype=np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (11, 11))
    np.testing.assert_array_equal(masks.grow(mask, 5), cv2.dilate(mask, kernel))
    np.testing.assert_array_equal(masks.shrink(mask, 5), cv2.erode(mask, kernel))


def test_soft_grow_by_a_large_radius_moves_a_feathered_edge_out_and_keeps_it_soft():
    mask = cv2.GaussianBlur(rectangle(shape=(200, 200), box=(80, 80, 120, 120)), (0, 0), 3)
    grown = masks.grow(mask, 20)
    assert np.all(grown >= mask)
    # The half-on edge moved from about x = 120 to about x = 140 along the middle row.
    row = grown[100]
    edge = int(np.flatnonzero(row >= 128)[-1])
    assert 137 <= edge <= 141
    assert 0 < row[edge + 3] < 255


def test_feather_zero_is_identity_and_feather_softens_only_near_the_edge():
    mask = rectangle()
    assert masks.feather(mask, 0) is not mask
    np.testing.assert_array_equal(masks.feather(mask, 0), mask)
    soft = masks.feather(mask, 8)
    assert soft[43:77, 53:87].min() == 255  # far inside
    assert soft[:15].max() == 0 and soft[:, :25].max() == 0  # far outside
    middle = soft[60, 30:50]
    assert np.all(np.diff(middle.astype(int)) >= 0)
    assert 100 < soft[60, 40] < 155  # the edge is about half on
    assert len(np.unique(middle)) > 8


def test_invert_and_clear():
    mask = rectangle()
    np.testing.assert_array_equal(masks.invert(mask), 255 - mask)
    cleared = masks.clear((7, 9))
    assert cleared.shape == (7, 9) and cleared.dtype == np.uint8 and not cleared.any()


def test_fill_holes_fills_enclosed_regions_only():
    mask = rectangle()
    mask[50:70, 60:80] = 0  # enclosed hole
    mask[30:45, 90:100] = 0  # a notch open to the outside
    filled = masks.fill_holes(mask)
    assert filled[50:70, 60:80].min() == 255
    assert filled[30:45, 90:100].max() == 0
    assert filled[:30].max() == 0


def test_fill_holes_leaves_regions_that_reach_the_border():
    mask = np.zeros((60, 60), np.uint8)
    mask[10:50, 0:40] = 255
    mask[20:40, 0:20] = 0  # enclosed on three sides, open to the photo's edge
    np.testing.assert_array_equal(masks.fill_holes(mask), mask)


def test_drop_specks_removes_small_blobs_with_their_soft_edges():
    mask = rectangle()
    mask[5:7, 5:7] = 255  # 4 px
    mask[5:8, 150:153] = 200  # 9 px
    mask[4, 150:153] = 30  # its soft rim, touching it
    cleaned = masks.drop_specks(mask, 13)
    np.testing.assert_array_equal(cleaned, rectangle())
    kept = masks.drop_specks(mask, 12)
    np.testing.assert_array_equal(kept[0:10, 145:155], mask[0:10, 145:155])


def test_union_is_the_pixelwise_maximum():
    a, b = rectangle(box=(0, 0, 10, 10)), rectangle(box=(5, 5, 20, 20)) // 2
    np.testing.assert_array_equal(masks.union([a, b]), np.maximum(a, b))
    with pytest.raises(ValueError):
        masks.union([])


def test_resize_mask_is_smooth_at_edges_and_exact_away_from_them():
    small = rectangle(shape=(64, 96), box=(20, 16, 60, 48))
    big = masks.resize_mask(small, 960, 640)
    assert big.shape == (640, 960)
    assert big[180:460, 220:580].min() == 255
    assert big[:140].max() == 0 and big[:, :180].max() == 0
    edge = big[320, 180:220]
    assert np.all(np.diff(edge.astype(int)) >= 0) and len(np.unique(edge)) > 5


def test_postprocess_tight_only_binarises():
    mask = rectangle() // 2 + 1  # 128 inside, 1 outside
    np.testing.assert_array_equal(masks.postprocess(mask, MaskSettings(tight=True)), rectangle())


def test_postprocess_covers_the_object_fills_holes_drops_specks_and_grows():
    raw = rectangle(shape=(300, 300), box=(100, 50, 200, 250))
    raw[140:160, 140:160] = 0  # a hole
    raw[10:12, 10:12] = 255  # a speck: 4 px of a 20,000 px object
    settings = MaskSettings()
    out = masks.postprocess(raw, settings)
    # Grow: 4% of the box diagonal (224 px) is 9 px, above the 6 px minimum.
    assert masks.grow_px(raw, settings) == 9
    assert out[50:250, 100:200].min() == 255  # the whole object, hole included
    assert out[10:12, 10:12].max() == 0
    assert out[150, 100 - 5] >= 220 and out[150, 200 + 4] >= 220
    # Fades out over the feather, then nothing.
    assert 0 < out[150, 200 + 9 + 3] < 128
    assert out[150, 200 + 9 + 10 :].max() == 0
    assert out[:30].max() == 0


def test_postprocess_grows_by_at_least_the_minimum():
    raw = rectangle(shape=(80, 80), box=(38, 38, 42, 42))
    out = masks.postprocess(raw, MaskSettings(feather_px=0, grow_min_px=6))
    np.testing.assert_array_equal(out == 255, within_distance(raw, 6))


def test_postprocess_of_an_empty_mask_is_empty():
    out = masks.postprocess(np.zeros((30, 40), np.uint8), MaskSettings())
    assert out.shape == (30, 40) and not out.any()


def test_object_size_is_the_largest_blob_diagonal():
    mask = rectangle(shape=(200, 300), box=(0, 0, 30, 40))
    mask[150:160, 280:290] = 255
    assert masks.object_size(mask) == pytest.approx(50.0)
    assert masks.object_size(np.zeros((5, 5), np.uint8)) == 0.0


def test_operations_do_not_modify_their_input():
    mask = rectangle()
    mask[50:60, 50:60] = 0
    original = mask.copy()
    for out in (
        masks.grow(mask, 3),
        masks.shrink(mask, 3),
        masks.feather(mask, 3),
        masks.fill_holes(mask),
        masks.drop_specks(mask, 5),
        masks.postprocess(mask, MaskSettings()),
        masks.resize_mask(mask, 160, 120),
    ):
        assert out is not mask and out.dtype == np.uint8 and out.shape == mask.shape
    np.testing.assert_array_equal(mask, original)


def test_postprocess_on_a_small_object_in_a_large_mask_matches_a_small_canvas():
    small = rectangle(shape=(100, 100), box=(40, 40, 60, 60))
    large = np.zeros((3000, 4000), np.uint8)
    large[1000:1100, 2000:2100] = small
    expected = masks.postprocess(small, MaskSettings())
    out = masks.postprocess(large, MaskSettings())
    np.testing.assert_array_equal(out[1000:1100, 2000:2100], expected)
    assert np.count_nonzero(out) == np.count_nonzero(expected)
    assert math.isclose(masks.object_size(large), masks.object_size(small))


def test_bounding_box_matches_box_of_mask_on_views_and_empty_masks():
    mask = np.zeros((50, 70), np.uint8)
    assert masks.bounding_box(mask) is None
    mask[10:20, 30:33] = 1
    mask[40, 5] = 200
    assert masks.bounding_box(mask) == box_of_mask(mask) == (5, 10, 33, 41)
    view = mask[5:45, 4:60]
    assert masks.bounding_box(view) == box_of_mask(view) == (1, 5, 29, 36)


def blobs(shape=(700, 1300), seed=4) -> np.ndarray:
    """Random overlapping disks and a frame-touching bar: many edge tiles, many flat ones."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(shape, np.uint8)
    for _ in range(25):
        centre = (int(rng.integers(100, shape[1] - 100)), int(rng.integers(100, shape[0] - 100)))
        cv2.circle(mask, centre, int(rng.integers(5, 150)), 255, -1)
    mask[:, :40] = 255
    mask[100:650, 350:1000] = 255
    return mask


def test_tiled_operations_equal_the_whole_mask_computation():
    mask = blobs()
    soft = cv2.GaussianBlur(mask, (0, 0), 2)
    np.testing.assert_array_equal(masks.grow(mask, 9), masks._dilate_binary(mask, 9))
    np.testing.assert_array_equal(masks.shrink(mask, 9), 255 - masks._dilate_binary(255 - mask, 9))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (13, 13))
    np.testing.assert_array_equal(masks.grow(soft, 6), cv2.dilate(soft, kernel))
    np.testing.assert_array_equal(masks.shrink(soft, 6), cv2.erode(soft, kernel))
    blurred = cv2.GaussianBlur(mask, (25, 25), 4, borderType=cv2.BORDER_REPLICATE)
    np.testing.assert_array_equal(masks.feather(mask, 8), blurred)


@pytest.mark.parametrize("changes", [
    [], [(0, 0, 1, 1)], [(5, 250, 9, 262)], [(0, 255, 600, 257)], [(100, 0, 101, 520)],
    [(3, 10, 4, 11), (590, 500, 600, 520)],
])
def test_changed_box_is_the_box_of_the_pixels_that_differ_across_bands(changes):
    before = np.random.default_rng(1).integers(0, 256, (520, 600), dtype=np.uint8)
    after = before.copy()
    for x0, y0, x1, y1 in changes:
        after[y0:y1, x0:x1] ^= 0x80
    expected = box_of_mask(after != before)
    assert masks.changed_box(before, after) == expected
    assert masks.changed_box(after, before) == expected
