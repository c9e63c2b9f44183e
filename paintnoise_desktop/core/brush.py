"""Painting a mask with a round brush, one gesture (stroke) at a time.

A stroke paints in place as the pointer moves, so the canvas can repaint just the
dirty box. It remembers the original values of the 64 x 64 tiles it touches, the
first time it touches them, so undo costs what the stroke covered, never a copy
of the whole mask.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .box import Box, box_of_mask, clip, slices
from .box import union as box_union

TILE = 64


@dataclass(frozen=True)
class Brush:
    radius: float  # pixels of the mask
    hardness: float = 0.8  # 0..1: the fraction of the radius painted fully; 1 = hard edge
    erase: bool = False


def dab(brush: Brush, x: float, y: float) -> tuple[Box, np.ndarray]:
    """The unclipped box of one dab centred at (x, y), and its uint8 values in that box.

    Pixel (i, j) has its centre at (i + 0.5, j + 0.5). Inside `hardness * radius` the
    dab is 255; from there to the radius it falls smoothly to 0 (a one-pixel
    antialiased rim for a hard brush).
    """
    radius = max(brush.radius, 0.5)
    x0, y0 = math.floor(x - radius), math.floor(y - radius)
    x1, y1 = math.ceil(x + radius), math.ceil(y + radius)
    dx = np.arange(x0, x1, dtype=np.float32) + 0.5 - x
    dy = np.arange(y0, y1, dtype=np.float32) + 0.5 - y
    distance = np.sqrt(dx[None, :] ** 2 + dy[:, None] ** 2)
    falloff = max(radius * (1.0 - min(max(brush.hardness, 0.0), 1.0)), 1.0)
    t = np.clip((radius - distance) / falloff, 0.0, 1.0)
    values = t * t * (3.0 - 2.0 * t)  # smoothstep
    return (x0, y0, x1, y1), np.rint(values * 255).astype(np.uint8)


class Stroke:
    """One brush gesture on a mask, painted in place as the pointer moves.

    Finished, it becomes one undo step (see `Document.record_stroke`).
    """

    def __init__(self, mask: np.ndarray, brush: Brush) -> None:
        self.mask = mask
        self.brush = brush
        self._spacing = max(brush.radius / 4, 0.5)
        self._last: tuple[float, float] | None = None
        self._touched: Box | None = None
        self._originals: dict[tuple[int, int], np.ndarray] = {}

    def add_point(self, x: float, y: float) -> Box | None:
        """Paint dabs from the last point to (x, y); return the box to repaint (None: off the mask).

        Dabs are at most a quarter of the radius apart, so the line is smooth however
        far the pointer jumped between events.
        """
        if self._last is None:
            centres = [(x, y)]
        else:
            lx, ly = self._last
            count = max(1, math.ceil(math.hypot(x - lx, y - ly) / self._spacing))
            centres = [
                (lx + (x - lx) * i / count, ly + (y - ly) * i / count) for i in range(1, count + 1)
            ]
        self._last = (x, y)
        dirty: Box | None = None
        for cx, cy in centres:
            dirty = box_union(dirty, self._paint(cx, cy))
        self._touched = box_union(self._touched, dirty)
        return dirty

    def _paint(self, x: float, y: float) -> Box | None:
        full, values = dab(self.brush, x, y)
        height, width = self.mask.shape
        box = clip(full, width, height)
        if box is None:
            return None
        self._remember_tiles(box)
        values = values[slices(_relative(box, full))]
        region = self.mask[slices(box)]
        if self.brush.erase:
            np.minimum(region, 255 - values, out=region)
        else:
            np.maximum(region, values, out=region)
        return box

    def _remember_tiles(self, box: Box) -> None:
        for ty in range(box[1] // TILE, (box[3] - 1) // TILE + 1):
            for tx in range(box[0] // TILE, (box[2] - 1) // TILE + 1):
                if (ty, tx) not in self._originals:
                    tile = (tx * TILE, ty * TILE, (tx + 1) * TILE, (ty + 1) * TILE)
                    self._originals[(ty, tx)] = self.mask[slices(tile)].copy()

    @property
    def nbytes(self) -> int:
        """Memory held for undo so far."""
        return sum(tile.nbytes for tile in self._originals.values())

    def finish(self) -> tuple[Box, np.ndarray] | None:
        """(the box that changed, the mask's values there before the stroke); None: no change."""
        touched, self._touched = self._touched, None
        originals, self._originals = self._originals, {}
        if touched is None:
            return None
        before = self.mask[slices(touched)].copy()
        for (ty, tx), original in originals.items():
            tile = (
                tx * TILE,
                ty * TILE,
                tx * TILE + original.shape[1],
                ty * TILE + original.shape[0],
            )
            common = _intersection(tile, touched)
            if common is not None:
                before[slices(_relative(common, touched))] = original[
                    slices(_relative(common, tile))
                ]
        changed = box_of_mask(before != self.mask[slices(touched)])
        if changed is None:
            return None
        return _absolute(changed, touched), before[slices(changed)].copy()


def _intersection(a: Box, b: Box) -> Box | None:
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    return (x0, y0, x1, y1) if x0 < x1 and y0 < y1 else None


def _relative(box: Box, origin: Box) -> Box:
    return box[0] - origin[0], box[1] - origin[1], box[2] - origin[0], box[3] - origin[1]


def _absolute(box: Box, origin: Box) -> Box:
    return box[0] + origin[0], box[1] + origin[1], box[2] + origin[0], box[3] + origin[1]
