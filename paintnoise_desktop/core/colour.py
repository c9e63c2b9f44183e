"""Colour matching of a repainted crop to the photo around the mask.

A diffusion model's crop comes back slightly shifted in colour (the VAE round trip,
the prompt). Comparing the repainted crop with the original on a ring just outside
the mask, where both should show the same pixels, measures that shift; undoing it
inside the mask keeps the seam from showing.

Only the mean is matched. The ring's contrast says little about the inside: the VAE
softens texture around the mask, and stretching the inside's distance from the
ring's mean by that ratio would push a new object's colour away from what was
painted (a blue object would come back over-saturated).
"""

from __future__ import annotations

import cv2
import numpy as np

from .masks import grow

RING_PX = 8
MIN_RING_PIXELS = 32


def ring_around(mask: np.ndarray, width: int = RING_PX) -> np.ndarray:
    """Boolean ring of `width` px just outside the mask's pixels above 0."""
    inside = mask > 0
    return (grow(np.where(inside, 255, 0).astype(np.uint8), width) > 0) & ~inside


def match_to_surroundings(
    painted: np.ndarray, original: np.ndarray, mask: np.ndarray, ring_px: int = RING_PX
) -> np.ndarray:
    """`painted` with its mask pixels shifted by the ring's per-channel Lab mean difference.

    Statistics come from the ring just outside the mask; pixels outside the mask are
    returned unchanged. Too small a ring (mask touching the crop's edge all round)
    leaves the crop as it is.
    """
    ring = ring_around(mask, ring_px)
    inside = mask > 0
    if np.count_nonzero(ring) < MIN_RING_PIXELS or not inside.any():
        return painted
    painted_lab = _to_lab(painted)
    original_lab = _to_lab(original)
    shift = original_lab[ring].mean(axis=0) - painted_lab[ring].mean(axis=0)
    adjusted = painted_lab.copy()
    adjusted[inside] += shift
    result = painted.copy()
    result[inside] = _to_rgb(adjusted)[inside]
    return result


def _to_lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def _to_rgb(lab: np.ndarray) -> np.ndarray:
    lab = lab.astype(np.float32)
    lab[..., 0] = np.clip(lab[..., 0], 0, 100)
    rgb = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)
