"""The canvas: shows the photo with its mask tinted over it, zooms, pans, and paints the mask.

Speed on large photos comes from doing work in proportion to what changed: a brush dab copies
only its dirty box of the mask into the overlay and repaints only the widget rectangle showing
that box; a paint event draws only its exposed rectangle, from the pyramid level that matches
the zoom (see image_pyramid.py).
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QApplication, QWidget

from paintnoise_desktop.core.box import Box, box_of_mask, clip, slices, union
from paintnoise_desktop.core.brush import Brush, Stroke
from paintnoise_desktop.core.document import Document
from paintnoise_desktop.ui.canvas_view import CanvasView
from paintnoise_desktop.ui.image_pyramid import ImagePyramid, rgb_to_rgb32

TOOLS = ("add", "erase", "none")
ZOOM_STEP = 1.25
WHEEL_NOTCH = 120
BRUSH_STEP = 1.15
MIN_BRUSH, MAX_BRUSH = 1, 2000
OVERLAY_COLOUR = QColor(255, 32, 32)
OVERLAY_OPACITY = 0.45
BACKGROUND = QColor(48, 48, 48)
EMPTY_HINT = "Open a photo (Ctrl+O) or drop one here"


class Canvas(QWidget):
    zoomChanged = Signal(float)
    brushSizeChanged = Signal(int)
    maskEdited = Signal(str)
    cursorMoved = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("canvas")
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(64, 64)
        self._doc: Document | None = None
        self._view = CanvasView()
        self._photo: ImagePyramid | None = None
        self._override: ImagePyramid | None = None
        self._override_source: np.ndarray | None = None
        self._overlay: ImagePyramid | None = None
        # Holds every non-zero mask pixel (it may be larger): no tint work outside it.
        self._mask_extent: Box | None = None
        self._overlay_visible = True
        self._tool = "add"
        self._brush_size = 20
        self._brush_hardness = 0.8
        self._stroke: Stroke | None = None
        self._stroke_name = ""
        self._pan_from: QPointF | None = None
        self._space_held = False
        self._mouse: QPointF | None = None
        self._fit_on_resize = True
        self._update_cursor()

    # -- document -------------------------------------------------------------------------

    def set_document(self, doc: Document | None) -> None:
        self._stroke = None
        self._doc = doc
        self._override = self._override_source = None
        self._photo = self._overlay = self._mask_extent = None
        if doc is not None:
            self._photo = ImagePyramid(rgb_to_rgb32(doc.rgb))
            self._overlay = ImagePyramid(doc.mask)
            self._mask_extent = box_of_mask(doc.mask)
        self._update_cursor()
        self.zoom_fit()

    def refresh(self, box: Box | None = None) -> None:
        """The document's pixels or mask changed inside `box` (None: anywhere)."""
        doc = self._doc
        if doc is None or self._photo is None or self._overlay is None:
            return
        if (self._photo.height, self._photo.width) != doc.mask.shape:
            self.set_document(doc)
            return
        if box is None:
            box, extent = (0, 0, doc.width, doc.height), box_of_mask(doc.mask)
        else:
            box, extent = clip(box, doc.width, doc.height), union(self._mask_extent, box)
            if box is None:
                return
        self._photo.update(box, rgb_to_rgb32(doc.rgb[slices(box)]))
        self._overlay.update(box, doc.mask[slices(box)])
        self._mask_extent = extent
        self.update(self.widget_rect_of(box))

    def _refresh_overlay(self, box: Box) -> None:
        assert self._doc is not None and self._overlay is not None
        self._overlay.update(box, self._doc.mask[slices(box)])
        self._mask_extent = union(self._mask_extent, box)
        if self._overlay_visible:
            self.update(self.widget_rect_of(box))

    def set_display_override(self, rgb: np.ndarray | None) -> None:
        """Show `rgb` (same size as the photo) instead of the document's pixels; None restores."""
        if rgb is None:
            self._override = None
        elif rgb is not self._override_source or self._override is None:
            self._override = ImagePyramid(rgb_to_rgb32(rgb))
            self._override_source = rgb
        self.update()

    # -- zoom and pan ---------------------------------------------------------------------

    @property
    def zoom(self) -> float:
        return self._view.zoom

    def zoom_in(self) -> None:
        self._zoom_about(self._view.zoom * ZOOM_STEP, self._centre())

    def zoom_out(self) -> None:
        self._zoom_about(self._view.zoom / ZOOM_STEP, self._centre())

    def zoom_fit(self) -> None:
        self._fit_on_resize = True
        if self._doc is not None:
            self._view.fit(self._doc.width, self._doc.height, self.width(), self.height())
        self._view_changed()

    def zoom_actual(self) -> None:
        self._fit_on_resize = False
        self._view.actual_size(self._centre())
        self._view_changed()

    def _zoom_about(self, zoom: float, widget_point: QPointF) -> None:
        self._fit_on_resize = False
        self._view.zoom_about(zoom, widget_point)
        self._view_changed()

    def _centre(self) -> QPointF:
        return QPointF(self.width() / 2, self.height() / 2)

    def _view_changed(self) -> None:
        self.zoomChanged.emit(self._view.zoom)
        self.update()

    # -- overlay, tool, brush -------------------------------------------------------------

    @property
    def overlay_visible(self) -> bool:
        return self._overlay_visible

    def set_overlay_visible(self, on: bool) -> None:
        self._overlay_visible = on
        self.update()

    @property
    def tool(self) -> str:
        return self._tool

    def set_tool(self, tool: str) -> None:
        if tool not in TOOLS:
            raise ValueError(f"unknown canvas tool {tool!r}; expected one of {TOOLS}")
        self._tool = tool
        self._update_cursor()
        self.update()

    @property
    def brush_size(self) -> int:
        return self._brush_size

    @brush_size.setter
    def brush_size(self, radius: int) -> None:
        self.set_brush_size(radius)

    def set_brush_size(self, radius: int) -> None:
        radius = int(min(MAX_BRUSH, max(MIN_BRUSH, radius)))
        if radius == self._brush_size:
            return
        self._update_brush_outline()
        self._brush_size = radius
        self._update_brush_outline()
        self.brushSizeChanged.emit(radius)

    @property
    def brush_hardness(self) -> float:
        return self._brush_hardness

    @brush_hardness.setter
    def brush_hardness(self, hardness: float) -> None:
        self._brush_hardness = min(1.0, max(0.0, float(hardness)))

    def _brush_active(self) -> bool:
        return self._tool != "none" and not self._space_held and self._pan_from is None

    def _update_cursor(self) -> None:
        if self._doc is None:
            self.unsetCursor()
        elif self._pan_from is not None:
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        elif self._tool == "none" or self._space_held:
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        else:
            self.setCursor(Qt.CursorShape.BlankCursor)

    def _brush_outline_rect(self) -> QRect | None:
        if self._mouse is None:
            return None
        r = math.ceil(self._brush_size * self._view.zoom) + 3
        c = self._mouse.toPoint()
        return QRect(c.x() - r, c.y() - r, 2 * r + 1, 2 * r + 1)

    def _update_brush_outline(self) -> None:
        rect = self._brush_outline_rect()
        if rect is not None:
            self.update(rect)

    # -- painting the mask ----------------------------------------------------------------

    def image_point_at(self, widget_point: QPointF) -> QPointF:
        """The image point under the centre of the widget pixel at `widget_point`
        (continuous coordinates: pixel (i, j) spans [i, i+1) x [j, j+1))."""
        return self._view.to_image(widget_point + QPointF(0.5, 0.5))

    def widget_rect_of(self, box: Box) -> QRect:
        """The widget rectangle showing image `box`."""
        return self._view.widget_rect_of(box)

    def _begin_stroke(self, pos: QPointF, erase: bool) -> None:
        assert self._doc is not None
        brush = Brush(self._brush_size, hardness=self._brush_hardness, erase=erase)
        self._stroke = Stroke(self._doc.mask, brush)
        self._stroke_name = "Erase" if erase else "Brush"
        self._continue_stroke(pos)

    def _continue_stroke(self, pos: QPointF) -> None:
        assert self._stroke is not None
        p = self.image_point_at(pos)
        box = self._stroke.add_point(p.x(), p.y())
        if box is not None:
            self._refresh_overlay(box)

    def _end_stroke(self) -> None:
        stroke, self._stroke = self._stroke, None
        if stroke is None or self._doc is None:
            return
        finished = stroke.finish()
        if finished is None:
            return
        box, mask_before = finished
        self._doc.record_stroke(self._stroke_name, box, mask_before)
        self.maskEdited.emit(self._stroke_name)

    # -- events ---------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        button = event.button()
        if self._pan_from is not None or self._stroke is not None:
            return
        pans = button == Qt.MouseButton.MiddleButton or (
            button == Qt.MouseButton.LeftButton and (self._space_held or self._tool == "none")
        )
        if pans:
            self._update_brush_outline()
            self._pan_from = event.position()
            self._update_cursor()
        elif self._doc is not None and button in (
            Qt.MouseButton.LeftButton,
            Qt.MouseButton.RightButton,
        ):
            erase = (
                self._tool == "erase"
                or button == Qt.MouseButton.RightButton
                or bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)
            )
            self._begin_stroke(event.position(), erase)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._pan_from is not None:
            if self._photo is not None:
                self._fit_on_resize = False
                self._view.pan(pos - self._pan_from, self._photo.width, self._photo.height,
                               self.width(), self.height())
            self._pan_from = pos
            self._mouse = pos
            self.update()
        else:
            self._update_brush_outline()
            self._mouse = pos
            self._update_brush_outline()
            if self._stroke is not None:
                self._continue_stroke(pos)
        p = self.image_point_at(pos)
        self.cursorMoved.emit(math.floor(p.x()), math.floor(p.y()))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None and event.button() in (
            Qt.MouseButton.LeftButton,
            Qt.MouseButton.MiddleButton,
        ):
            self._pan_from = None
            self._update_cursor()
            self._update_brush_outline()
        elif self._stroke is not None:
            self._end_stroke()

    def enterEvent(self, event: QEvent) -> None:
        """Take the keyboard under the pointer, so Space pans here rather than pressing a
        focused button; a field being typed in keeps its focus (and its spaces)."""
        if not _takes_text(QApplication.focusWidget()):
            self.setFocus(Qt.FocusReason.MouseFocusReason)
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self._update_brush_outline()
        self._mouse = None
        super().leaveEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        notches = event.angleDelta().y() / WHEEL_NOTCH
        if notches:
            self._zoom_about(self._view.zoom * ZOOM_STEP**notches, event.position())
        event.accept()

    def _hold_space(self, held: bool) -> None:
        self._space_held = held
        self._update_brush_outline()
        self._update_cursor()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._hold_space(True)
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif key == Qt.Key.Key_Minus:
            self.zoom_out()
        elif key == Qt.Key.Key_BracketRight:
            self.set_brush_size(max(self._brush_size + 1, round(self._brush_size * BRUSH_STEP)))
        elif key == Qt.Key.Key_BracketLeft:
            self.set_brush_size(min(self._brush_size - 1, round(self._brush_size / BRUSH_STEP)))
        else:
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._hold_space(False)
        else:
            super().keyReleaseEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        if self._fit_on_resize:
            self.zoom_fit()
        super().resizeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        exposed = event.rect()
        painter = QPainter(self)
        painter.fillRect(exposed, BACKGROUND)
        if self._doc is None or self._photo is None:
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, EMPTY_HINT)
            return
        photo = self._override if self._override is not None else self._photo
        self._draw_level(painter, photo, exposed)
        if self._overlay_visible and self._overlay is not None:
            self._draw_overlay(painter, exposed)
        if self._mouse is not None and self._brush_active():
            self._draw_brush_outline(painter)

    def _level_geometry(
        self, pyramid: ImagePyramid, exposed: QRect
    ) -> tuple[int, QRectF, QRect] | None:
        """(level, widget target, level source) for the part of `pyramid` inside `exposed`."""
        box = self._view.image_box_of(exposed, pyramid.width, pyramid.height)
        if box is None:
            return None
        level = pyramid.level_for(self._screen_zoom())
        s = 1 << level
        image = pyramid.levels[level]
        lx0, ly0 = box[0] // s, box[1] // s
        lx1 = min(-(-box[2] // s), image.shape[1])
        ly1 = min(-(-box[3] // s), image.shape[0])
        top_left = self._view.to_widget(QPointF(lx0 * s, ly0 * s))
        scale = s * self._view.zoom
        target = QRectF(top_left.x(), top_left.y(), (lx1 - lx0) * scale, (ly1 - ly0) * scale)
        return level, target, QRect(lx0, ly0, lx1 - lx0, ly1 - ly0)

    def _screen_zoom(self) -> float:
        """Device pixels per image pixel (the zoom is in logical pixels)."""
        return self._view.zoom * self.devicePixelRatioF()

    def _smooth(self) -> bool:
        return self._screen_zoom() < 1.0

    def _draw_level(self, painter: QPainter, pyramid: ImagePyramid, exposed: QRect) -> None:
        geometry = self._level_geometry(pyramid, exposed)
        if geometry is None:
            return
        level, target, source = geometry
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._smooth())
        painter.drawImage(target, pyramid.images[level], QRectF(source))

    def _draw_overlay(self, painter: QPainter, exposed: QRect) -> None:
        """Tint the mask: its alpha scaled into a scratch image the size of the exposed part,
        coloured, and laid over the photo."""
        assert self._overlay is not None
        if self._mask_extent is None:
            return
        exposed = exposed & self.widget_rect_of(self._mask_extent)
        geometry = self._level_geometry(self._overlay, exposed)
        if geometry is None:
            return
        level, target, source = geometry
        area = target.toAlignedRect() & exposed
        if area.isEmpty():
            return
        dpr = self.devicePixelRatioF()
        size = QSize(math.ceil(area.width() * dpr), math.ceil(area.height() * dpr))
        tint = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
        tint.setDevicePixelRatio(dpr)
        tint.fill(0)
        tp = QPainter(tint)
        tp.translate(-area.topLeft())
        tp.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._smooth())
        tp.drawImage(target, self._overlay.images[level], QRectF(source))
        tp.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
        tp.fillRect(area, OVERLAY_COLOUR)
        tp.end()
        painter.setOpacity(OVERLAY_OPACITY)
        painter.drawImage(area.topLeft(), tint)
        painter.setOpacity(1.0)

    def _draw_brush_outline(self, painter: QPainter) -> None:
        assert self._mouse is not None
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        r = max(1.0, self._brush_size * self._view.zoom)
        centre = QPointF(self._mouse.toPoint()) + QPointF(0.5, 0.5)
        painter.setPen(QPen(QColor(0, 0, 0, 160), 3))
        painter.drawEllipse(centre, r, r)
        painter.setPen(QPen(QColor(255, 255, 255), 1))
        painter.drawEllipse(centre, r, r)


def _takes_text(widget: QWidget | None) -> bool:
    """Whether `widget` types what is keyed (a line edit, a spin box ...): Space is its own."""
    return widget is not None and widget.testAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled)
