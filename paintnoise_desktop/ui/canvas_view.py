"""Where the photo sits on the canvas: zoom and offset, and the mappings between widget and image.

Image coordinates are continuous: pixel (i, j) covers [i, i+1) x [j, j+1). A widget point p
shows image point (p - offset) / zoom.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRect

from paintnoise_desktop.core.box import Box, clip

MIN_ZOOM = 1 / 64
MAX_ZOOM = 32.0
MIN_VISIBLE = 64  # px of a photo larger than the view that panning always leaves in sight
VISIBLE_SHARE = 0.1  # ... or this share of the view, if more


def clamp_zoom(zoom: float) -> float:
    return min(MAX_ZOOM, max(MIN_ZOOM, zoom))


def _pan_axis(offset: float, delta: float, extent: float, area: float) -> float:
    """The offset moved by `delta` along one axis, within its allowed range.

    A photo no larger than the view stays wholly inside it; a larger one keeps
    a strip of itself in sight. An offset already outside the range (after a zoom)
    may move back towards it but not further out.
    """
    if extent <= area:
        low, high = 0.0, area - extent
    else:
        keep = min(extent, area, max(MIN_VISIBLE, VISIBLE_SHARE * area))
        low, high = keep - extent, area - keep
    low, high = min(low, offset), max(high, offset)
    return min(high, max(low, offset + delta))


class CanvasView:
    def __init__(self) -> None:
        self.zoom = 1.0
        self.offset = QPointF(0.0, 0.0)

    def to_image(self, widget_point: QPointF) -> QPointF:
        return (widget_point - self.offset) / self.zoom

    def to_widget(self, image_point: QPointF) -> QPointF:
        return image_point * self.zoom + self.offset

    def widget_rect_of(self, box: Box, margin: int = 2) -> QRect:
        """The widget pixels that show `box`, grown by `margin` for filtering at the edges."""
        z, o = self.zoom, self.offset
        x0 = math.floor(box[0] * z + o.x()) - margin
        y0 = math.floor(box[1] * z + o.y()) - margin
        x1 = math.ceil(box[2] * z + o.x()) + margin
        y1 = math.ceil(box[3] * z + o.y()) + margin
        return QRect(x0, y0, x1 - x0, y1 - y0)

    def image_box_of(self, rect: QRect, width: int, height: int) -> Box | None:
        """The image pixels that widget `rect` shows (whole pixels), cut to the image."""
        z, o = self.zoom, self.offset
        box = (
            math.floor((rect.left() - o.x()) / z),
            math.floor((rect.top() - o.y()) / z),
            math.ceil((rect.left() + rect.width() - o.x()) / z),
            math.ceil((rect.top() + rect.height() - o.y()) / z),
        )
        return clip(box, width, height)

    def pan(self, delta: QPointF, width: int, height: int, area_width: int,
            area_height: int) -> None:
        """Move a `width` x `height` image by `delta` in an area of the given size, no
        further than keeps it in sight."""
        self.offset = QPointF(
            _pan_axis(self.offset.x(), delta.x(), width * self.zoom, area_width),
            _pan_axis(self.offset.y(), delta.y(), height * self.zoom, area_height),
        )

    def zoom_about(self, zoom: float, widget_point: QPointF) -> None:
        """Change zoom keeping the image point under `widget_point` where it is."""
        anchor = self.to_image(widget_point)
        self.zoom = clamp_zoom(zoom)
        self.offset = widget_point - anchor * self.zoom

    def fit(self, width: int, height: int, area_width: int, area_height: int) -> None:
        """Whole image visible and centred in an area of the given size."""
        self.zoom = clamp_zoom(min(area_width / width, area_height / height))
        self.offset = QPointF(
            (area_width - width * self.zoom) / 2, (area_height - height * self.zoom) / 2
        )

    def actual_size(self, centre: QPointF) -> None:
        """100%, keeping the image point at `centre` in place, on whole widget pixels."""
        self.zoom_about(1.0, centre)
        self.offset = QPointF(round(self.offset.x()), round(self.offset.y()))
