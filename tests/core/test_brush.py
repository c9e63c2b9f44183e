from __future__ import annotations

import numpy as np

from paintnoise_desktop.core.box import slices
from paintnoise_desktop.core.brush import TILE, Brush, Stroke, dab


def centre_distances(box, x, y):
    yy, xx = np.mgrid[box[1] : box[3], box[0] : box[2]]
    return np.hypot(xx + 0.5 - x, yy + 0.5 - y)


def test_a_hard_dab_is_a_disk_with_an_antialiased_rim():
    box, values = dab(Brush(radius=10, hardness=1.0), 30.5, 20.5)
    distance = centre_distances(box, 30.5, 20.5)
    assert values.shape == distance.shape
    assert values[distance <= 9].min() == 255
    assert values[distance >= 10].max() == 0


def test_a_soft_dab_falls_off_smoothly_from_the_centre():
    brush = Brush(radius=20, hardness=0.25)
    box, values = dab(brush, 50.0, 50.0)
    distance = centre_distances(box, 50.0, 50.0)
    assert values[distance <= 5].min() == 255
    assert values[distance >= 20].max() == 0
    ring = values[(distance > 6) & (distance < 19)]
    assert 0 < ring.min() and ring.max() < 255
    order = np.argsort(distance.ravel())
    assert np.all(np.diff(values.ravel()[order].astype(int)) <= 0)  # never rises outward


def test_a_line_has_no_gaps_however_far_the_pointer_jumps():
    mask = np.zeros((60, 300), np.uint8)
    stroke = Stroke(mask, Brush(radius=3, hardness=1.0))
    stroke.add_point(10.5, 30.5)
    stroke.add_point(290.5, 30.5)
    assert mask[30, 10:291].min() == 255
    assert mask[:25].max() == 0 and mask[36:].max() == 0


def test_dirty_boxes_hold_every_change():
    mask = np.zeros((200, 200), np.uint8)
    stroke = Stroke(mask, Brush(radius=8, hardness=0.5))
    for x, y in [(20, 20), (60, 35), (61, 37), (150, 180)]:
        before = mask.copy()
        dirty = stroke.add_point(x, y)
        changed = before != mask
        outside = np.ones_like(changed)
        outside[slices(dirty)] = False
        assert changed.any() and not changed[outside].any()


def test_adding_never_lowers_and_erasing_never_raises():
    rng = np.random.default_rng(0)
    mask = rng.integers(0, 256, (80, 80), dtype=np.uint8)
    start = mask.copy()
    stroke = Stroke(mask, Brush(radius=6, hardness=0.3))
    stroke.add_point(10, 10)
    stroke.add_point(70, 70)
    assert np.all(mask >= start) and np.any(mask > start)
    painted = mask.copy()
    eraser = Stroke(mask, Brush(radius=6, hardness=0.3, erase=True))
    eraser.add_point(70, 10)
    eraser.add_point(10, 70)
    assert np.all(mask <= painted) and mask[40, 40] == 0


def test_finish_returns_the_changed_box_and_its_values_before():
    rng = np.random.default_rng(3)
    mask = rng.integers(0, 200, (300, 400), dtype=np.uint8)
    original = mask.copy()
    stroke = Stroke(mask, Brush(radius=12, hardness=0.7))
    for x, y in [(5, 5), (130, 70), (140, 200), (395, 290)]:
        stroke.add_point(x, y)
    box, before = stroke.finish()
    changed = original != mask
    outside = np.ones_like(changed)
    outside[slices(box)] = False
    assert not changed[outside].any()
    rows, cols = np.nonzero(changed)
    assert box == (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
    mask[slices(box)] = before
    np.testing.assert_array_equal(mask, original)


def test_a_stroke_that_changes_nothing_finishes_with_none():
    mask = np.full((50, 50), 255, np.uint8)
    stroke = Stroke(mask, Brush(radius=5))
    assert stroke.add_point(25, 25) is not None
    assert stroke.finish() is None
    assert Stroke(mask, Brush(radius=5)).finish() is None


def test_a_dab_off_the_mask_paints_nothing():
    mask = np.zeros((50, 50), np.uint8)
    stroke = Stroke(mask, Brush(radius=5))
    assert stroke.add_point(-20, -20) is None
    assert not mask.any()
    assert stroke.finish() is None


def test_memory_follows_the_touched_tiles_not_the_mask():
    mask = np.zeros((2000, 3000), np.uint8)
    stroke = Stroke(mask, Brush(radius=10))
    stroke.add_point(1000, 1000)
    stroke.add_point(1100, 1000)
    # A 20 px tall line 120 px long spans at most 2 x 4 tiles.
    assert 0 < stroke.nbytes <= 2 * 4 * TILE * TILE
    _, before = stroke.finish()
    assert before.nbytes < 30 * 130
