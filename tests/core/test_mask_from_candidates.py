"""Candidates found at working size become one full-size mask to repaint through."""

import numpy as np

from paintnoise_desktop.core import masks
from paintnoise_desktop.core.jobs import MaskSettings


def test_mask_from_candidates_covers_object_and_ring_at_full_size():
    small = np.zeros((100, 150), np.uint8)
    small[40:60, 60:90] = 255
    other = np.zeros((100, 150), np.uint8)
    other[10:20, 10:20] = 255
    full = masks.mask_from_candidates(
        [small, other], 600, 400, MaskSettings(grow_min_px=12, feather_px=8)
    )
    assert full.shape == (400, 600)
    assert (full[162:238, 242:358] == 255).all() and (full[42:78, 42:78] == 255).all()
    assert full[160:240, 240 - 8].min() > 0  # grown ring beyond the object
    assert full[0:5, 300].max() == 0 and full[395:, 590:].max() == 0


def test_tight_gives_the_raw_mask_upsampled_and_binary():
    small = np.zeros((100, 150), np.uint8)
    small[40:60, 60:90] = 255
    full = masks.mask_from_candidates([small], 600, 400, MaskSettings(tight=True))
    assert set(np.unique(full)) == {0, 255}
    assert (
        full[161:239, 241:359].min() == 255 and full[:150].max() == 0 and full[:, :230].max() == 0
    )
