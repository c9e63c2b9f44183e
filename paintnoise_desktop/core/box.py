"""Axis-aligned pixel boxes: (x0, y0, x1, y1), end-exclusive, in image coordinates."""

from __future__ import annotations

import numpy as np

Box = tuple[int, int, int, int]


def box_of_mask(mask: np.ndarray, threshold: int = 0) -> Box | None:
    """The smallest box holding every pixel above `threshold`, or None for an empty mask."""
    ys = np.flatnonzero((mask > threshold).any(axis=1))
    if ys.size == 0:
        return None
    xs = np.flatnonzero((mask > threshold).any(axis=0))
    return int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1


def union(a: Box | None, b: Box | None) -> Box | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def clip(box: Box, width: int, height: int) -> Box | None:
    """`box` cut to the image; None when nothing is left."""
    x0, y0 = max(0, box[0]), max(0, box[1])
    x1, y1 = min(width, box[2]), min(height, box[3])
    if x0 >= x1 or y0 >= y1:
        return None
    return x0, y0, x1, y1


def expand(box: Box, pixels: int) -> Box:
    return box[0] - pixels, box[1] - pixels, box[2] + pixels, box[3] + pixels


def area(box: Box) -> int:
    return max(0, box[2] - box[0]) * max(0, box[3] - box[1])


def slices(box: Box) -> tuple[slice, slice]:
    """Index an array as `array[slices(box)]`."""
    return slice(box[1], box[3]), slice(box[0], box[2])
