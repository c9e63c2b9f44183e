"""Where to cut the photo before repainting: crops around the mask, sized for the model.

An inpainting model sees only a crop: the masked region plus enough of the
surroundings to continue them, at about the model's native resolution. A small
object on a 24-megapixel photo therefore costs the same as on a 512 px one.

Each `CropPlan` owns a `region` (a box of mask pixels it repaints; regions of one
plan list are disjoint and together hold every mask pixel) inside a larger
context `box`. Mask pieces far apart get separate crops; a region too long for one
square-ish crop (a 1 x 2000 px scratch on a narrow strip) is cut into tiles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .box import Box, box_of_mask, slices

MARGIN = 0.25  # context on each side, as a fraction of the region's size ...
MIN_MARGIN_PX = 32  # ... and at least this many pixels
MERGE_DISTANCE_PX = 64  # pieces whose grown boxes come closer than this share a crop
MAX_ASPECT = 2.0  # crops are at most this elongated (tiled when the photo forbids widening)
MAX_PIECES = 8  # more separate pieces than this (specks all over) are painted as one region


@dataclass(frozen=True)
class CropPlan:
    box: Box  # the crop cut from the photo: region plus context, inside the photo
    region: Box  # the mask pixels this crop repaints (inside `box`)
    work_size: tuple[int, int]  # (width, height) the inpainter works at

    @property
    def size(self) -> tuple[int, int]:
        return self.box[2] - self.box[0], self.box[3] - self.box[1]


def plan_crops(
    mask: np.ndarray,
    native_size: int | None,
    margin: float = MARGIN,
    min_margin: int = MIN_MARGIN_PX,
    merge_distance: int = MERGE_DISTANCE_PX,
    max_aspect: float = MAX_ASPECT,
    max_pieces: int = MAX_PIECES,
) -> list[CropPlan]:
    """Crops that together repaint every pixel of `mask` above 0.

    `native_size` is the model's resolution (512 for SD 2): crops are at least that
    big on each side when the photo allows, square-ish, with sides multiples of 8
    (or the photo's own side when it is smaller), and `work_size` is a multiple of 8
    with about `native_size`**2 pixels (so a photo smaller than the model is
    upscaled). `native_size=None` (OpenCV) works at the crop's own size.
    """
    height, width = mask.shape[:2]
    regions = _merged_regions(mask > 0, margin, min_margin, merge_distance)
    if len(regions) > max_pieces:
        regions = [_union_box(regions)]
    plans: list[CropPlan] = []
    for region in regions:
        plans.extend(_plans_for(region, width, height, native_size, margin, min_margin, max_aspect))
    return plans


def context_margin(region: Box, margin: float = MARGIN, min_margin: int = MIN_MARGIN_PX) -> tuple[int, int]:
    """Context added on each side of a region: (horizontal, vertical) pixels."""
    w, h = region[2] - region[0], region[3] - region[1]
    return max(min_margin, math.ceil(margin * w)), max(min_margin, math.ceil(margin * h))


def grown(region: Box, margin: float = MARGIN, min_margin: int = MIN_MARGIN_PX) -> Box:
    mx, my = context_margin(region, margin, min_margin)
    return region[0] - mx, region[1] - my, region[2] + mx, region[3] + my


def work_size_for(size: tuple[int, int], native_size: int | None) -> tuple[int, int]:
    """(width, height) in multiples of 8 with about native_size**2 pixels, aspect kept."""
    w, h = size
    if native_size is None:
        return w, h
    scale = native_size / math.sqrt(w * h)
    return max(8, round(w * scale / 8) * 8), max(8, round(h * scale / 8) * 8)


def resize_pixels(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize to (width, height): area averaging to shrink, Lanczos to enlarge."""
    height, width = pixels.shape[:2]
    if (width, height) == tuple(size):
        return pixels
    shrinking = size[0] * size[1] < width * height
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LANCZOS4
    return cv2.resize(pixels, tuple(size), interpolation=interpolation)


def resize_hole(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The mask's pixels above 0 at (width, height), as 0/255; partly covered pixels count as hole."""
    hole = np.where(mask > 0, 255, 0).astype(np.uint8)
    return np.where(resize_pixels(hole, size) > 0, 255, 0).astype(np.uint8)


def _merged_regions(on: np.ndarray, margin: float, min_margin: int, merge_distance: int) -> list[Box]:
    """Boxes of connected mask pieces, merged until their grown boxes keep apart."""
    extent = box_of_mask(on)
    if extent is None:
        return []
    # label only the mask's box: a small object on a 24 MP photo costs what its box costs
    count, _, stats, _ = cv2.connectedComponentsWithStats(
        on[slices(extent)].astype(np.uint8), connectivity=8
    )
    boxes = np.array(
        [(x, y, x + w, y + h) for x, y, w, h in stats[1:count, :4]], dtype=np.int64
    ).reshape(-1, 4) + np.array([extent[0], extent[1]] * 2)
    while len(boxes) > 1:
        reach = np.array([grown(tuple(b), margin, min_margin) for b in boxes], dtype=np.int64)
        reach[:, :2] -= merge_distance // 2
        reach[:, 2:] += merge_distance - merge_distance // 2
        touching = (
            (reach[:, None, 0] < reach[None, :, 2]) & (reach[None, :, 0] < reach[:, None, 2])
            & (reach[:, None, 1] < reach[None, :, 3]) & (reach[None, :, 1] < reach[:, None, 3])
        )
        groups = _connected_groups(touching)
        if len(groups) == len(boxes):
            break
        boxes = np.array([_union_box(boxes[g].tolist()) for g in groups], dtype=np.int64)
    return sorted(tuple(int(v) for v in b) for b in boxes)


def _union_box(boxes: list[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def _connected_groups(adjacent: np.ndarray) -> list[list[int]]:
    n = len(adjacent)
    group = list(range(n))

    def root(i: int) -> int:
        while group[i] != i:
            group[i] = group[group[i]]
            i = group[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(adjacent, 1))):
        group[root(int(i))] = root(int(j))
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(root(i), []).append(i)
    return list(members.values())


def _plans_for(
    region: Box, width: int, height: int, native_size: int | None,
    margin: float, min_margin: int, max_aspect: float,
) -> list[CropPlan]:
    box = _context_box(region, width, height, native_size, margin, min_margin, max_aspect)
    bw, bh = box[2] - box[0], box[3] - box[1]
    rw, rh = region[2] - region[0], region[3] - region[1]
    too_long = native_size is not None and max(bw, bh) > max_aspect * min(bw, bh)
    if too_long and max(rw, rh) >= 16:
        if rw >= rh:
            cut = region[0] + rw // 2
            halves = [(region[0], region[1], cut, region[3]), (cut, region[1], region[2], region[3])]
        else:
            cut = region[1] + rh // 2
            halves = [(region[0], region[1], region[2], cut), (region[0], cut, region[2], region[3])]
        return [
            plan
            for half in halves
            for plan in _plans_for(half, width, height, native_size, margin, min_margin, max_aspect)
        ]
    return [CropPlan(box, region, work_size_for((bw, bh), native_size))]


def _context_box(
    region: Box, width: int, height: int, native_size: int | None,
    margin: float, min_margin: int, max_aspect: float,
) -> Box:
    gx0, gy0, gx1, gy1 = grown(region, margin, min_margin)
    want_w, want_h = gx1 - gx0, gy1 - gy0
    if native_size is not None:
        want_w, want_h = max(want_w, native_size), max(want_h, native_size)
        want_w = max(want_w, math.ceil(want_h / max_aspect))
        want_h = max(want_h, math.ceil(want_w / max_aspect))
    w_len, h_len = min(_snap8(want_w), width), min(_snap8(want_h), height)
    if native_size is not None:  # where the photo caps one side, do not stretch the other
        w_len = min(w_len, max(min(_snap8(gx1 - gx0), width), _floor8(max_aspect * h_len)))
        h_len = min(h_len, max(min(_snap8(gy1 - gy0), height), _floor8(max_aspect * w_len)))
    x0, x1 = _span(gx0, gx1, w_len, width)
    y0, y1 = _span(gy0, gy1, h_len, height)
    return x0, y0, x1, y1


def _snap8(length: int) -> int:
    return -(-length // 8) * 8


def _floor8(length: float) -> int:
    return max(8, int(length) // 8 * 8)


def _span(lo: int, hi: int, length: int, limit: int) -> tuple[int, int]:
    """A span of `length` (at most `limit`) centred on [lo, hi), moved inside [0, limit)."""
    length = min(length, limit)
    start = (lo + hi - length) // 2
    start = max(0, min(start, limit - length))
    return start, start + length
