"""Mask operations: grow, shrink, feather, fill, clean up, combine, resize.

Masks are H x W uint8, 255 = repaint, values between are soft edges. Every function
returns a new array and leaves its input alone. Work is confined to the mask's
bounding box plus the margin the operation can reach, and local operations (grow,
shrink, feather) skip tiles that are all one value, so a 24-megapixel mask costs
what its edges cost.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

import cv2
import numpy as np

from .box import Box, clip, expand, slices
from .box import union as box_union
from .jobs import MaskSettings

#: Values at or above this count as "inside" wherever a mask must be made binary.
HALF = 128

#: Soft masks are grown with chained dilations by disks of at most this radius:
#: the sum of disks is a disk, and small kernels keep the cost linear in the radius.
_SOFT_STEP_PX = 8

#: Local operations run on tiles of this side when their reach is short.
_TILE_PX = 256

#: `changed_box` compares masks this many rows at a time.
_BAND_ROWS = 256

Operation = Callable[[np.ndarray], np.ndarray]


def bounding_box(mask: np.ndarray) -> Box | None:
    """The box of the mask's non-zero pixels, or None: `box.box_of_mask`, several times faster."""
    x, y, width, height = cv2.boundingRect(mask)
    return (x, y, x + width, y + height) if width else None


def changed_box(before: np.ndarray, after: np.ndarray) -> Box | None:
    """The box of the pixels where two same-sized masks differ, or None.

    Band by band, so no full-size difference is made: on a 24 MP photo, first touching
    a fresh 24 MB array alone can take longer than the comparison.
    """
    found: Box | None = None
    for top in range(0, before.shape[0], _BAND_ROWS):
        rows = slice(top, top + _BAND_ROWS)
        band = bounding_box(cv2.absdiff(before[rows], after[rows]))
        if band is not None:
            x0, y0, x1, y1 = band
            found = box_union(found, (x0, top + y0, x1, top + y1))
    return found


def _within_box(
    mask: np.ndarray, margin: int, operation: Operation, box: Box | None = None
) -> np.ndarray:
    """Apply `operation` to the mask's bounding box (`box` if known) grown by `margin`.

    Zeros elsewhere: valid for operations that keep zero regions zero further than
    `margin` from any non-zero pixel (morphology, blurs, component filters).
    """
    out = np.zeros_like(mask)
    box = box or bounding_box(mask)
    if box is None:
        return out
    box = clip(expand(box, margin), mask.shape[1], mask.shape[0])
    assert box is not None
    out[slices(box)] = operation(mask[slices(box)])
    return out


def _locally(mask: np.ndarray, reach: int, operation: Operation) -> np.ndarray:
    """Apply a local operation tile by tile; zeros outside the mask's box grown by `reach`.

    `operation`'s output at a pixel must depend only on the mask within `reach` of it,
    and a window of one value must come out as that value (morphology, blurs). Each
    tile is computed from itself plus `reach` around it, so the result equals the
    operation on the whole mask; tiles whose window is all one value are just filled.
    """
    out = np.zeros_like(mask)
    box = bounding_box(mask)
    if box is None:
        return out
    height, width = mask.shape
    x0, y0, x1, y1 = clip(expand(box, reach), width, height)
    side = _TILE_PX
    if 4 * reach > side or 2 * side >= max(x1 - x0, y1 - y0):
        # Windows would overlap more than flat tiles could save.
        out[y0:y1, x0:x1] = operation(mask[y0:y1, x0:x1])
        return out
    for ty in range(y0, y1, side):
        for tx in range(x0, x1, side):
            tile = (tx, ty, min(tx + side, x1), min(ty + side, y1))
            window = clip(expand(tile, reach), width, height)
            values = mask[slices(window)]
            low, high, _, _ = cv2.minMaxLoc(values)
            if low == high:
                out[slices(tile)] = int(low)
                continue
            inner = (tile[0] - window[0], tile[1] - window[1])
            inner_box = (inner[0], inner[1], inner[0] + tile[2] - tx, inner[1] + tile[3] - ty)
            out[slices(tile)] = operation(values)[slices(inner_box)]
    return out


def _is_binary(mask: np.ndarray) -> bool:
    return cv2.countNonZero(cv2.inRange(mask, 1, 254)) == 0


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def _dilate_binary(mask: np.ndarray, px: int) -> np.ndarray:
    """Pixels whose centre is within `px` of the mask (exact Euclidean distance)."""
    outside = cv2.threshold(mask, 0, 1, cv2.THRESH_BINARY_INV)[1]
    distance = cv2.distanceTransform(outside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return cv2.compare(distance, float(px), cv2.CMP_LE)


def _dilate_soft(mask: np.ndarray, px: int) -> np.ndarray:
    """Grey dilation by a disk of radius `px`, as a chain of small disks."""
    steps = math.ceil(px / _SOFT_STEP_PX)
    out = mask
    for i in range(steps):
        out = cv2.dilate(out, _disk(px * (i + 1) // steps - px * i // steps))
    return out


def _dilation(mask: np.ndarray, px: int) -> Operation:
    """The dilation that suits this mask: exact distance for binary masks, grey for soft."""
    if _is_binary(mask):
        return lambda values: _dilate_binary(values, px)
    return lambda values: _dilate_soft(values, px)


def grow(mask: np.ndarray, px: int) -> np.ndarray:
    """Every pixel takes the largest value within `px` of it (a disk); soft edges move out."""
    if px <= 0:
        return mask.copy()
    return _locally(mask, px, _dilation(mask, px))


def shrink(mask: np.ndarray, px: int) -> np.ndarray:
    """Every pixel takes the smallest value within `px` of it (a disk); soft edges move in.

    The photo's border does not eat into the mask: an object cut by the frame keeps
    its pixels along the frame.
    """
    if px <= 0:
        return mask.copy()
    dilate = _dilation(mask, px)
    return _locally(mask, px, lambda values: 255 - dilate(255 - values))


def feather(mask: np.ndarray, px: int) -> np.ndarray:
    """Soften the edge with a Gaussian blur reaching about `px` either side of it."""
    if px <= 0:
        return mask.copy()
    sigma = px / 2
    reach = math.ceil(3 * sigma)
    size = 2 * reach + 1
    return _locally(
        mask,
        reach,
        lambda values: cv2.GaussianBlur(
            values, (size, size), sigma, borderType=cv2.BORDER_REPLICATE
        ),
    )


def invert(mask: np.ndarray) -> np.ndarray:
    return 255 - mask


def clear(shape: tuple[int, int]) -> np.ndarray:
    return np.zeros(shape, np.uint8)


def binarise(mask: np.ndarray) -> np.ndarray:
    """255 where the mask is at least half on, 0 elsewhere."""
    return cv2.threshold(mask, HALF - 1, 255, cv2.THRESH_BINARY)[1]


def _fill_holes(crop: np.ndarray) -> np.ndarray:
    outside = np.pad(
        cv2.threshold(crop, HALF - 1, 1, cv2.THRESH_BINARY_INV)[1], 1, constant_values=1
    )
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


def _components(mask: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """8-connected blobs of pixels above `threshold`: (labels, stats without the background)."""
    above = cv2.threshold(mask, threshold, 1, cv2.THRESH_BINARY)[1]
    _, labels, stats, _ = cv2.connectedComponentsWithStats(above, connectivity=8)
    return labels, stats[1:]


def _without_small(
    crop: np.ndarray, labels: np.ndarray, stats: np.ndarray, min_area: int
) -> np.ndarray:
    """`crop` with the blobs of fewer than `min_area` pixels set to 0, each within its own box."""
    out = crop.copy()
    for label in np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < min_area):
        x, y, w, h = stats[label, :4]
        region = slice(y, y + h), slice(x, x + w)
        out[region][labels[region] == label + 1] = 0
    return out


def drop_specks(mask: np.ndarray, min_area: int) -> np.ndarray:
    """Remove connected blobs (8-connected, soft edges included) of fewer than `min_area` pixels."""
    if min_area <= 1:
        return mask.copy()

    def drop(crop: np.ndarray) -> np.ndarray:
        labels, stats = _components(crop, 0)
        return _without_small(crop, labels, stats, min_area)

    return _within_box(mask, 0, drop)


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


def _largest_diagonal(stats: np.ndarray) -> float:
    if len(stats) == 0:
        return 0.0
    largest = stats[int(np.argmax(stats[:, cv2.CC_STAT_AREA]))]
    return math.hypot(largest[cv2.CC_STAT_WIDTH], largest[cv2.CC_STAT_HEIGHT])


def object_size(mask: np.ndarray) -> float:
    """The diagonal of the largest blob's box, in pixels (0 for an empty mask).

    Growing by a fraction of this rather than of sqrt(area) covers more of thin or
    elongated objects (a person, a pole, whose shadows and halos scale with their
    length), and taking the largest blob rather than the whole mask keeps a union
    of several objects from being grown by the distance between them.
    """
    return _largest_diagonal(_components(mask, HALF - 1)[1])


def _grow_px(size: float, settings: MaskSettings) -> int:
    return max(settings.grow_min_px, round(settings.grow_fraction * size))


def grow_px(mask: np.ndarray, settings: MaskSettings) -> int:
    """How far `postprocess` grows this mask: a fraction of its size, at least `grow_min_px`."""
    return _grow_px(object_size(mask), settings)


def _postprocess(crop: np.ndarray, settings: MaskSettings) -> np.ndarray:
    if not crop.any():
        return crop
    if settings.fill_holes:
        crop = _fill_holes(crop)
    labels, stats = _components(crop, 0)
    min_area = math.ceil(settings.min_speck_fraction * int(stats[:, cv2.CC_STAT_AREA].sum()))
    small = stats[:, cv2.CC_STAT_AREA] < min_area
    if small.any():
        crop = _without_small(crop, labels, stats, min_area)
    px = _grow_px(_largest_diagonal(stats[~small]), settings)
    grown = _locally(crop, px, lambda values: _dilate_binary(values, px))
    if settings.feather_px <= 0:
        return grown
    # The feather may lower the grown band but never the object itself.
    return cv2.max(feather(grown, settings.feather_px), crop)


def postprocess(mask: np.ndarray, settings: MaskSettings) -> np.ndarray:
    """Turn a raw found mask into one fit to repaint through: covering the whole object wins.

    Binarise at half; with `settings.tight` that is all. Otherwise fill enclosed holes,
    drop specks smaller than `min_speck_fraction` of the object's area, grow by
    `grow_px` (a fraction of the object's size, see `object_size`), and feather the
    new edge outward by `feather_px`: the object itself stays fully 255. Sizes are in
    the given mask's pixels, so results follow the resolution it is run at.
    """
    if settings.tight:
        return binarise(mask)
    box = bounding_box(mask)
    if box is None:
        return mask.copy()
    # A margin that reaches as far as the grow can on any object inside the box.
    diagonal = math.hypot(box[2] - box[0], box[3] - box[1])
    reach = max(settings.grow_min_px, math.ceil(settings.grow_fraction * diagonal))
    margin = reach + math.ceil(1.5 * max(settings.feather_px, 0)) + 2
    return _within_box(mask, margin, lambda crop: _postprocess(binarise(crop), settings), box)


def mask_from_candidates(
    chosen: Sequence[np.ndarray], width: int, height: int, settings: MaskSettings
) -> np.ndarray:
    """The full-size mask to repaint through, from the chosen candidates' working-size masks.

    Post-processing runs at the candidates' working size, with the pixel settings
    scaled to it, and only the result is brought to full size: a slider change on a
    24-megapixel photo then costs a 1024 px post-process and one resize, not a
    full-size distance transform. Pixel settings keep meaning photo pixels.
    """
    found = union(chosen)
    scale = found.shape[1] / width
    if not settings.tight:
        settings = replace(
            settings,
            grow_min_px=max(1, round(settings.grow_min_px * scale)) if settings.grow_min_px else 0,
            feather_px=round(settings.feather_px * scale),
        )
    small = postprocess(found, settings)
    full = resize_mask(small, width, height)
    return binarise(full) if settings.tight else full
