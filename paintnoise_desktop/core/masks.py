"""Mask operations: grow, shrink, feather, fill, clean up, combine, resize.

Masks are H x W uint8, 255 = repaint, values between are soft edges. Every function
returns a new array and leaves its input alone. Work is done on the mask's bounding
box plus the margin the operation can reach, so a small object on a 24-megapixel
photo costs what its box costs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import cv2
import numpy as np

from .box import Box, clip, expand, slices
from .jobs import MaskSettings

#: Values at or above this count as "inside" wherever a mask must be made binary.
HALF = 128

#: Soft masks are grown with chained dilations by disks of at most this radius:
#: the sum of disks is a disk, and small kernels keep the cost linear in the radius.
_SOFT_STEP_PX = 8


def bounding_box(mask: np.ndarray) -> Box | None:
    """The box of the mask's non-zero pixels, or None: `box.box_of_mask`, several times faster."""
    x, y, width, height = cv2.boundingRect(mask)
    return (x, y, x + width, y + height) if width else None


def _within_box(
    mask: np.ndarray, margin: int, operation: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Apply `operation` to the mask's bounding box grown by `margin`; zeros elsewhere.

    Valid for operations that keep zero regions zero further than `margin` from any
    non-zero pixel (morphology, blurs, component filters).
    """
    out = np.zeros_like(mask)
    box = bounding_box(mask)
    if box is None:
        return out
    box = clip(expand(box, margin), mask.shape[1], mask.shape[0])
    assert box is not None
    out[slices(box)] = operation(mask[slices(box)])
    return out


def _is_binary(mask: np.ndarray) -> bool:
    return not np.any((mask != 0) & (mask != 255))


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def _dilate(mask: np.ndarray, px: int) -> np.ndarray:
    """Grey dilation by a disk of radius `px` (the image border is not a source)."""
    if _is_binary(mask):
        distance = cv2.distanceTransform(
            (mask == 0).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE
        )
        return np.where(distance <= px, 255, 0).astype(np.uint8)
    steps = math.ceil(px / _SOFT_STEP_PX)
    out = mask
    for i in range(steps):
        radius = px * (i + 1) // steps - px * i // steps
        out = cv2.dilate(out, _disk(radius))
    return out


def grow(mask: np.ndarray, px: int) -> np.ndarray:
    """Every pixel takes the largest value within `px` of it (a disk); soft edges move out."""
    if px <= 0:
        return mask.copy()
    return _within_box(mask, px, lambda crop: _dilate(crop, px))


def shrink(mask: np.ndarray, px: int) -> np.ndarray:
    """Every pixel takes the smallest value within `px` of it (a disk); soft edges move in.

    The photo's border does not eat into the mask: an object cut by the frame keeps
    its pixels along the frame.
    """
    if px <= 0:
        return mask.copy()
    return _within_box(mask, px, lambda crop: 255 - _dilate(255 - crop, px))


def feather(mask: np.ndarray, px: int) -> np.ndarray:
    """Soften the edge with a Gaussian blur reaching about `px` either side of it."""
    if px <= 0:
        return mask.copy()
    sigma = px / 2
    reach = math.ceil(3 * sigma)
    size = 2 * reach + 1
    return _within_box(
        mask,
        reach,
        lambda crop: cv2.GaussianBlur(crop, (size, size), sigma, borderType=cv2.BORDER_REPLICATE),
    )


def invert(mask: np.ndarray) -> np.ndarray:
    return 255 - mask


def clear(shape: tuple[int, int]) -> np.ndarray:
    return np.zeros(shape, np.uint8)


def binarise(mask: np.ndarray) -> np.ndarray:
    """255 where the mask is at least half on, 0 elsewhere."""
    return np.where(mask >= HALF, 255, 0).astype(np.uint8)


def _fill_holes(crop: np.ndarray) -> np.ndarray:
    outside = np.pad((crop < HALF).astype(np.uint8), 1, constant_values=1)
    flood_mask = np.zeros((outside.shape[0] + 2, outside.shape[1] + 2), np.uint8)
    cv2.floodFill(outside, flood_mask, (0, 0), 2)
    holes = outside[1:-1, 1:-1] == 1
    out = crop.copy()
    out[holes] = 255
    return out


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """Background regions enclosed by the mask on every side become 255.

    A region that reaches the photo's border is not a hole. "Background" means
    below half on, so a feathered ring still encloses its middle.
    """
    return _within_box(mask, 0, _fill_holes)


def _drop_specks(crop: np.ndarray, min_area: int) -> np.ndarray:
    _, labels, stats, _ = cv2.connectedComponentsWithStats(
        (crop > 0).astype(np.uint8), connectivity=8
    )
    small = stats[:, cv2.CC_STAT_AREA] < min_area
    small[0] = False  # label 0 is the background
    if not small[1:].any():
        return crop.copy()
    out = crop.copy()
    out[small[labels]] = 0
    return out


def drop_specks(mask: np.ndarray, min_area: int) -> np.ndarray:
    """Remove connected blobs (8-connected, soft edges included) of fewer than `min_area` pixels."""
    if min_area <= 1:
        return mask.copy()
    return _within_box(mask, 0, lambda crop: _drop_specks(crop, min_area))


def union(masks: Iterable[np.ndarray]) -> np.ndarray:
    """The pixelwise maximum of one or more masks of the same size."""
    masks = list(masks)
    if not masks:
        raise ValueError("union needs at least one mask")
    out = masks[0].copy()
    for mask in masks[1:]:
        np.maximum(out, mask, out=out)
    return out


def resize_mask(mask: np.ndarray, width: int, height: int) -> np.ndarray:
    """Smoothly resample a mask (bilinear): edges stay smooth, flat 0 and 255 areas stay exact."""
    if mask.shape == (height, width):
        return mask.copy()
    return cv2.resize(mask, (width, height), interpolation=cv2.INTER_LINEAR)


def object_size(mask: np.ndarray) -> float:
    """The diagonal of the largest blob's box, in pixels (0 for an empty mask).

    Growing by a fraction of this rather than of sqrt(area) covers more of thin or
    elongated objects (a person, a pole, whose shadows and halos scale with their
    length), and taking the largest blob rather than the whole mask keeps a union
    of several objects from being grown by the distance between them.
    """
    count, _, stats, _ = cv2.connectedComponentsWithStats((mask >= HALF).astype(np.uint8))
    if count <= 1:
        return 0.0
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    width = stats[largest, cv2.CC_STAT_WIDTH]
    height = stats[largest, cv2.CC_STAT_HEIGHT]
    return math.hypot(width, height)


def grow_px(mask: np.ndarray, settings: MaskSettings) -> int:
    """How far `postprocess` grows this mask: a fraction of its size, at least `grow_min_px`."""
    return max(settings.grow_min_px, round(settings.grow_fraction * object_size(mask)))


def _postprocess(crop: np.ndarray, settings: MaskSettings) -> np.ndarray:
    if settings.fill_holes:
        crop = _fill_holes(crop)
    area = int(np.count_nonzero(crop))
    min_area = math.ceil(settings.min_speck_fraction * area)
    if min_area > 1:
        crop = _drop_specks(crop, min_area)
    if not crop.any():
        return crop
    grown = _dilate(crop, grow_px(crop, settings))
    if settings.feather_px <= 0:
        return grown
    # The feather may lower the grown band but never the object itself.
    return np.maximum(feather(grown, settings.feather_px), crop)


def postprocess(mask: np.ndarray, settings: MaskSettings) -> np.ndarray:
    """Turn a raw found mask into one fit to repaint through: covering the whole object wins.

    Binarise at half; with `settings.tight` that is all. Otherwise fill enclosed holes,
    drop specks smaller than `min_speck_fraction` of the object's area, grow by
    `grow_px` (a fraction of the object's size, see `object_size`), and feather the
    new edge outward by `feather_px`: the object itself stays fully 255.
    """
    binary = binarise(mask)
    if settings.tight:
        return binary
    box = bounding_box(binary)
    if box is None:
        return binary
    # A margin that reaches as far as the grow can on any object inside the box.
    diagonal = math.hypot(box[2] - box[0], box[3] - box[1])
    reach = max(settings.grow_min_px, math.ceil(settings.grow_fraction * diagonal))
    margin = reach + math.ceil(1.5 * max(settings.feather_px, 0)) + 2
    return _within_box(binary, margin, lambda crop: _postprocess(crop, settings))
