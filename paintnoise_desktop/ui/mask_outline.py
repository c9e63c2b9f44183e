"""The mask's outline as the canvas draws it: a line along the edge of the tinted area.

A tint in the mask colour vanishes on objects of that colour (a red tint on a red car);
an opaque outline does not. It is found on the canvas's scratch image of the mask (its
alpha, already scaled to the screen), so it costs the exposed widget area, not the photo.
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage

EDGE = np.ones((3, 3), np.uint8)


def outline_image(tint: QImage, area: QRect, colour: QColor) -> QImage:
    """An ARGB32 image of `area` (device pixels of `tint`, whose alpha is the mask):
    `colour` on the pixels along the mask's edge, transparent elsewhere."""
    stride = tint.bytesPerLine()
    pixels = np.frombuffer(tint.constBits(), np.uint8).reshape(tint.height(), stride // 4, 4)
    alpha = pixels[area.top(): area.bottom() + 1, area.left(): area.right() + 1, 3]
    inside = (alpha > 127).astype(np.uint8)
    edge = inside - cv2.erode(inside, EDGE, borderType=cv2.BORDER_REPLICATE)
    argb = np.zeros((*edge.shape, 4), np.uint8)
    argb[edge > 0] = (colour.blue(), colour.green(), colour.red(), 255)  # ARGB32's byte order
    height, width = edge.shape
    return QImage(argb.data, width, height, 4 * width, QImage.Format.Format_ARGB32).copy()
