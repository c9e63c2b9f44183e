"""Images the canvas draws from: a photo or mask held as QImages at full, 1/2, 1/4, ... size.

Drawing a 24-megapixel photo at 1/8 zoom straight from the full image either aliases (bilinear
samples 4 of every 64 pixels) or costs a full-image scale per paint. Each level here is the
2x2 average of the one above, so the canvas draws from the level nearest its zoom and scales
by at most 2x. A change to a box of the source is pushed down the levels for that box only.

A change too big to make at once (a new photo, the undo of a whole-mask step, a variant
painted over most of the photo) is split into bands of rows by `PendingUpdates` and made a
few bands at a time, so the GUI thread never stops for long; each band reads its source when
it is made, so the last change always wins.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtGui import QImage

from paintnoise_desktop.core.box import Box, clip

#: Levels stop once the long side would fall below this.
SMALLEST_SIDE = 256


#: Pixels of level 0 made per band: a few ms of work on a slow, shared core.
BAND_PIXELS = 250_000


def rgb_to_rgb32(rgb: np.ndarray) -> np.ndarray:
    """H x W x 4 uint8 in QImage.Format_RGB32's byte order (B, G, R, 255 on little-endian)."""
    return cv2.cvtColor(np.asarray(rgb[..., :3]), cv2.COLOR_RGB2BGRA)


def qimage_over(pixels: np.ndarray) -> QImage:
    """A QImage sharing `pixels`' memory: H x W x 4 as RGB32, H x W as Alpha8.

    The caller must keep `pixels` alive as long as the QImage.
    """
    height, width = pixels.shape[:2]
    fmt = QImage.Format.Format_RGB32 if pixels.ndim == 3 else QImage.Format.Format_Alpha8
    return QImage(pixels.data, width, height, pixels.strides[0], fmt)


def _halve(region: np.ndarray) -> np.ndarray:
    """2x2 average; an odd last row or column is averaged with itself."""
    h, w = region.shape[:2]
    if h % 2 or w % 2:
        region = cv2.copyMakeBorder(region, 0, h % 2, 0, w % 2, cv2.BORDER_REPLICATE)
    return cv2.resize(
        region, (region.shape[1] // 2, region.shape[0] // 2), interpolation=cv2.INTER_AREA
    )


def level_count(width: int, height: int) -> int:
    """How many levels a pyramid of a `width` x `height` image has."""
    count = 1
    while max(width, height) > SMALLEST_SIDE:
        width, height, count = (width + 1) // 2, (height + 1) // 2, count + 1
    return count


class ImagePyramid:
    """Levels of one image (RGB32 pixels or an Alpha8 mask) with QImages over them.

    `count` levels are made when given (a patch of a photo has as many levels as the
    photo, so each of its levels lines up with the photo's), else until the long side
    falls to SMALLEST_SIDE.
    """

    def __init__(self, pixels: np.ndarray, count: int | None = None) -> None:
        height, width = pixels.shape[:2]
        count = count or level_count(width, height)
        self.levels: list[np.ndarray] = [np.array(pixels, order="C", copy=True)]
        while len(self.levels) < count:
            self.levels.append(_halve(self.levels[-1]))
        self.images = [qimage_over(level) for level in self.levels]

    @classmethod
    def blank(cls, height: int, width: int, channels: int, count: int | None = None,
              ) -> ImagePyramid:
        """A pyramid of zeros, to be filled by `update` (RGB32 when `channels` is 4)."""
        pyramid = cls.__new__(cls)
        count = count or level_count(width, height)
        shape = (height, width, channels) if channels > 1 else (height, width)
        pyramid.levels = []
        for _ in range(count):
            pyramid.levels.append(np.zeros(shape, np.uint8))
            shape = ((shape[0] + 1) // 2, (shape[1] + 1) // 2, *shape[2:])
        pyramid.images = [qimage_over(level) for level in pyramid.levels]
        return pyramid

    @property
    def alignment(self) -> int:
        """Boxes on multiples of this map to whole pixels of every level."""
        return 1 << (len(self.levels) - 1)

    @property
    def width(self) -> int:
        return self.levels[0].shape[1]

    @property
    def height(self) -> int:
        return self.levels[0].shape[0]

    def level_for(self, zoom: float) -> int:
        """The smallest level still at least as detailed as the screen at `zoom`."""
        if zoom >= 1.0:
            return 0
        return min(math.floor(math.log2(1.0 / zoom) + 1e-9), len(self.levels) - 1)

    def update(self, box: Box, pixels: np.ndarray) -> None:
        """Copy `pixels` (the new content of `box`) into level 0 and redo the levels below."""
        y0, x0 = box[1], box[0]
        self.levels[0][y0 : box[3], x0 : box[2]] = pixels
        for k in range(1, len(self.levels)):
            below, above = self.levels[k], self.levels[k - 1]
            box = clip(
                (box[0] // 2, box[1] // 2, (box[2] + 1) // 2, (box[3] + 1) // 2),
                below.shape[1],
                below.shape[0],
            )
            if box is None:
                return
            x0, y0, x1, y1 = box
            region = above[
                2 * y0 : min(2 * y1, above.shape[0]), 2 * x0 : min(2 * x1, above.shape[1])
            ]
            below[y0:y1, x0:x1] = _halve(region)


def aligned(box: Box, alignment: int, width: int, height: int) -> Box:
    """`box` grown outwards to multiples of `alignment`, cut to the image."""
    x0, y0, x1, y1 = box
    a = alignment
    return (x0 // a * a, y0 // a * a, min(width, -(-x1 // a) * a), min(height, -(-y1 // a) * a))


def bands(box: Box, alignment: int) -> list[Box]:
    """`box` cut into bands of whole rows, about BAND_PIXELS each, starting on aligned rows."""
    x0, y0, x1, y1 = box
    rows = max(alignment, BAND_PIXELS // max(1, x1 - x0) // alignment * alignment)
    starts = [y0, *range((y0 // rows + 1) * rows, y1, rows)]
    return [(x0, start, x1, min(y1, stop)) for start, stop in zip(starts, [*starts[1:], y1])]


@dataclass
class _Band:
    pyramid: ImagePyramid
    box: Box  # in the pyramid's own pixels
    source: Callable[[Box], np.ndarray]  # the new level-0 pixels of a box, read when made
    done: Callable[[Box], None]


class PendingUpdates:
    """Updates of pyramids made band by band, a time budget at a time, oldest first."""

    def __init__(self) -> None:
        self._bands: deque[_Band] = deque()

    @property
    def busy(self) -> bool:
        return bool(self._bands)

    def add(self, pyramid: ImagePyramid, box: Box, source: Callable[[Box], np.ndarray],
            done: Callable[[Box], None] = lambda box: None) -> None:
        """Queue `box` of `pyramid`; bands of it already queued are dropped (this remakes them)."""
        self._bands = deque(band for band in self._bands
                            if band.pyramid is not pyramid or not _inside(band.box, box))
        for band in bands(box, pyramid.alignment):
            self._bands.append(_Band(pyramid, band, source, done))

    def drop(self, pyramid: ImagePyramid | None = None) -> None:
        """Forget the queued bands of `pyramid` (None: of all)."""
        self._bands = deque(band for band in self._bands
                            if pyramid is not None and band.pyramid is not pyramid)

    def run(self, budget_s: float) -> None:
        """Make bands until `budget_s` seconds have gone (at least one band, if any)."""
        start = time.perf_counter()
        while self._bands:
            band = self._bands.popleft()
            band.pyramid.update(band.box, band.source(band.box))
            band.done(band.box)
            if time.perf_counter() - start >= budget_s:
                return

    def finish(self) -> None:
        """Make every queued band now."""
        self.run(math.inf)


def _inside(inner: Box, outer: Box) -> bool:
    return (outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2]
            and inner[3] <= outer[3])
