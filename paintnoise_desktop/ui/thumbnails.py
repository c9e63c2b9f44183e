"""Small pictures in the window: pixmaps from RGB arrays, and the strips of them that show
Find's candidates (a column) and Replace's variants (a row)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QListView, QListWidget, QWidget

THUMBNAIL = 96


def pixmap_of(rgb: np.ndarray) -> QPixmap:
    """A pixmap holding its own copy of an H x W x 3 uint8 array."""
    rgb = np.ascontiguousarray(rgb[..., :3], dtype=np.uint8)
    height, width = rgb.shape[:2]
    return QPixmap.fromImage(QImage(rgb.data, width, height, 3 * width,
                                    QImage.Format_RGB888).copy())


def thumbnail_strip(object_name: str, accessible_name: str, parent: QWidget,
                    horizontal: bool = False) -> QListWidget:
    """A one-column (or, `horizontal`, one-row) list of thumbnails that never reorders them."""
    strip = QListWidget(parent)
    strip.setObjectName(object_name)
    strip.setAccessibleName(accessible_name)
    strip.setViewMode(QListView.IconMode)
    strip.setFlow(QListView.LeftToRight if horizontal else QListView.TopToBottom)
    strip.setWrapping(False)
    strip.setMovement(QListView.Static)
    strip.setResizeMode(QListView.Adjust)
    strip.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
    return strip
