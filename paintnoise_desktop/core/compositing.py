"""Blending a repainted patch back into the photo through a (feathered) mask."""

from __future__ import annotations

import numpy as np

from .box import Box, slices


def composite(
    base_rgb: np.ndarray, painted_rgb_patch: np.ndarray, box: Box, alpha: np.ndarray
) -> np.ndarray:
    """A copy of `base_rgb` with the patch blended into `box`: base * (1 - a) + patch * a.

    `alpha` is the box's mask (uint8 or float, 0..255). Where it is 0 the output bytes
    are the input's, exactly; where it is 255 they are the patch's; pixels outside the
    box are never touched.
    """
    x0, y0, x1, y1 = box
    height, width = base_rgb.shape[:2]
    if not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):
        raise ValueError(f"box {box} is not inside a {width} x {height} image")
    size = (y1 - y0, x1 - x0)
    if painted_rgb_patch.shape[:2] != size or alpha.shape != size:
        raise ValueError(
            f"patch {painted_rgb_patch.shape} and alpha {alpha.shape} must both be {size}"
        )
    out = base_rgb.copy()
    region = base_rgb[slices(box)].astype(np.float32)
    weight = (np.clip(alpha.astype(np.float32), 0, 255) / 255)[..., None]
    blended = region + (painted_rgb_patch.astype(np.float32) - region) * weight
    out[slices(box)] = np.rint(blended).astype(np.uint8)
    return out
