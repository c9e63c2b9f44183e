"""Images the canvas draws from: a photo or mask held as QImages at full, 1/2, 1/4, ... size.

Drawing a 24-megapixel photo at 1/8 zoom straight from the full image either aliases (bilinear
samples 4 of every 64 pixels) or costs a full-image scale per paint. Each level here is the
2x2 average of the one above, so the canvas draws from the level nearest its zoom and scales
by at most 2x. A change to a box of the source is pushed down the levels for that box only.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from PySide6.QtGui import QImage

from paintnoise_desktop.core.box import Box, clip

#: Levels stop once the long side would fall below this.
SMALLEST_SIDE = 256


def rgb_to_rgb32(rgb: np.ndarray) -> np.ndarray:
    """H x W x 4 uint8 in QImage.Format_RGB32's byte order (B, G, R, 255 on little-endian)."""
    out = np.empty((*rgb.shape[:2], 4), np.uint8)
    out[..., 0] = rgb[..., 2]
    out[..., 1] = rgb[..., 1]
    out[..., 2] = rgb[..., 0]
    out[..., 3] = 255
    return out


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


class ImagePyramid:
    """Levels of one image (RGB32 pixels or an Alpha8 mask) with QImages over them."""

    def __init__(self, pixels: np.ndarray) -> None:
        self.levels: list[np.ndarray] = [np.array(pixels, order="C", copy=True)]
        while max(self.levels[-1].shape[:2]) > SMALLEST_SIDE:
            self.levels.append(_halve(self.levels[-1]))
        self.images = [qimage_over(level) for level in self.levels]

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
