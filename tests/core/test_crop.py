from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from paintnoise_desktop.core.box import box_of_mask, clip
from paintnoise_desktop.core.crop import (
    MAX_ASPECT,
    grown,
    plan_crops,
    resize_hole,
    resize_pixels,
    work_size_for,
)

NATIVE_SIZES = st.sampled_from([None, 64, 512])


@st.composite
def masks(draw):
    """A photo-sized mask with 1..3 rectangles, from specks and scratches to most of the photo."""
    width = draw(st.integers(8, 1200))
    height = draw(st.integers(8, 1200))
    mask = np.zeros((height, width), np.uint8)
    for _ in range(draw(st.integers(1, 3))):
        x0 = draw(st.integers(0, width - 1))
        y0 = draw(st.integers(0, height - 1))
        x1 = draw(st.integers(x0 + 1, width))
        y1 = draw(st.integers(y0 + 1, height))
        mask[y0:y1, x0:x1] = draw(st.sampled_from([255, 90]))
    return mask


def _contains(outer, inner) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and outer[2] >= inner[2] and outer[3] >= inner[3]


def _check_plans(mask: np.ndarray, native: int | None) -> None:
    height, width = mask.shape
    plans = plan_crops(mask, native)
    covered = np.zeros(mask.shape, np.int32)
    for plan in plans:
        x0, y0, x1, y1 = plan.box
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
        assert _contains(plan.box, plan.region)
        # the region plus its context margin, as far as the photo reaches
        assert _contains(plan.box, clip(grown(plan.region), width, height))
        for side, photo_side in ((x1 - x0, width), (y1 - y0, height)):
            assert side % 8 == 0 or side == photo_side
            if native is not None and min(width, height) >= native:
                assert side >= native
        region_long = max(plan.region[2] - plan.region[0], plan.region[3] - plan.region[1])
        if native is not None and region_long >= 16:  # shorter regions are not cut further
            assert max(plan.size) <= MAX_ASPECT * min(plan.size) + 8
        work_w, work_h = plan.work_size
        if native is None:
            assert plan.work_size == plan.size
        else:
            assert work_w % 8 == 0 and work_h % 8 == 0
            assert 0.5 * native**2 <= work_w * work_h <= 2 * native**2
        rx0, ry0, rx1, ry1 = plan.region
        covered[ry0:ry1, rx0:rx1] += 1
    assert covered.max() <= 1, "regions overlap"
    assert np.all(covered[mask > 0] == 1), "a mask pixel is in no region"


@settings(max_examples=60, deadline=None)
@given(masks(), NATIVE_SIZES)
def test_every_mask_pixel_is_in_exactly_one_crop_with_context(mask, native):
    _check_plans(mask, native)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 1200), st.integers(1, 1200), st.integers(64, 1024))
def test_work_size_is_a_multiple_of_8_near_the_native_area_with_the_aspect_kept(w, h, native):
    work_w, work_h = work_size_for((w, h), native)
    assert work_w % 8 == 0 and work_h % 8 == 0
    if min(w, h) * 8 >= max(w, h):  # rounding to 8 dominates only for extreme strips
        assert abs(work_w / work_h - w / h) / (w / h) < 0.35
        assert 0.7 * native**2 <= work_w * work_h <= 1.4 * native**2


def test_small_object_on_a_large_photo_gets_a_native_square_crop():
    mask = np.zeros((2000, 3000), np.uint8)
    mask[1000:1040, 1500:1560] = 255
    (plan,) = plan_crops(mask, 512)
    assert plan.size == (512, 512)
    assert plan.work_size == (512, 512)
    assert _contains(plan.box, grown((1500, 1000, 1560, 1040)))


def test_crop_at_the_photo_edge_is_shifted_inside():
    mask = np.zeros((2000, 3000), np.uint8)
    mask[0:30, 2980:3000] = 255
    (plan,) = plan_crops(mask, 512)
    assert plan.box == (3000 - 512, 0, 3000, 512)


def test_photo_smaller_than_the_native_size_is_painted_whole_and_upscaled():
    mask = np.zeros((120, 200), np.uint8)
    mask[50:60, 90:110] = 255
    (plan,) = plan_crops(mask, 512)
    assert plan.box == (0, 0, 200, 120)
    work_w, work_h = plan.work_size
    assert work_w > 200 and work_h > 120 and work_w % 8 == 0 and work_h % 8 == 0
    assert abs(work_w / work_h - 200 / 120) < 0.1


def test_a_long_scratch_gets_a_square_ish_crop_when_the_photo_allows():
    mask = np.zeros((3000, 3000), np.uint8)
    mask[500:2500, 1500] = 255  # 1 x 2000 px
    (plan,) = plan_crops(mask, 512)
    w, h = plan.size
    assert max(w, h) <= MAX_ASPECT * min(w, h)
    assert _contains(plan.box, (1500, 500, 1501, 2500))


def test_a_long_scratch_on_a_narrow_strip_is_tiled():
    mask = np.zeros((100, 3000), np.uint8)
    mask[50, 200:2800] = 255  # 2600 x 1 px on a 100 px high panorama
    plans = plan_crops(mask, 512)
    assert 4 <= len(plans) <= 64
    for plan in plans:
        w, h = plan.size
        assert h == 100 and w <= MAX_ASPECT * h + 8
    _check_plans(mask, 512)


def test_regions_far_apart_get_separate_crops_and_close_ones_share_one():
    mask = np.zeros((2000, 3000), np.uint8)
    mask[100:150, 100:150] = 255
    mask[1800:1850, 2800:2850] = 255
    assert len(plan_crops(mask, 512)) == 2
    mask[160:200, 100:150] = 255  # 10 px below the first piece
    plans = plan_crops(mask, 512)
    assert len(plans) == 2
    assert any(_contains(p.region, (100, 100, 150, 200)) for p in plans)


def test_specks_all_over_the_photo_are_painted_in_one_crop_not_hundreds():
    mask = np.zeros((2000, 3000), np.uint8)
    mask[100::300, 100::300] = 255  # 70 single-pixel specks far apart
    (plan,) = plan_crops(mask, 512)
    assert plan.region == (100, 100, 2801, 1901)
    assert plan.box == (0, 0, 3000, 2000)


def test_empty_mask_needs_no_crop():
    assert plan_crops(np.zeros((50, 60), np.uint8), 512) == []


def test_regions_cover_the_mask_box():
    mask = np.zeros((300, 400), np.uint8)
    mask[10:20, 30:40] = 255
    mask[250:290, 300:390] = 40
    plans = plan_crops(mask, None)
    boxes = [p.region for p in plans]
    assert box_of_mask(mask) == (min(b[0] for b in boxes), min(b[1] for b in boxes),
                                 max(b[2] for b in boxes), max(b[3] for b in boxes))


def test_a_thin_hole_survives_shrinking_to_the_working_size():
    mask = np.zeros((1000, 1000), np.uint8)
    mask[500, 100:900] = 30  # a 1 px soft scratch
    small = resize_hole(mask, (200, 200))
    assert set(np.unique(small)) == {0, 255}
    assert small[100, 30:170].all()


def test_resizing_pixels_keeps_a_flat_colour_and_skips_same_size():
    flat = np.full((90, 120, 3), 77, np.uint8)
    assert resize_pixels(flat, (120, 90)) is flat
    for size in ((40, 30), (480, 360)):
        resized = resize_pixels(flat, size)
        assert resized.shape == (size[1], size[0], 3) and np.all(resized == 77)
