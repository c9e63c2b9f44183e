"""The canvas: shows the photo with its mask tinted over it, zooms, pans, and paints the mask.

Speed on large photos comes from doing work in proportion to what changed: a brush dab copies
only its dirty box of the mask into the overlay and repaints only the widget rectangle showing
that box; a paint event draws only its exposed rectangle, from the pyramid level that matches
the zoom (see image_pyramid.py). Changes too big for one go (a new photo, undoing a whole-mask
step) are made band by band between events, so the window never stops for long.

Over the photo the canvas can show other pixels for a box of it without touching the
document: a variant being compared (`set_display_override`), the photo as it was opened
(`set_showing_original`, labelled "Original"), and a running job's live preview drawn in
place over the region being painted (`set_live_preview`). The brush size is a diameter in
photo pixels, kept as a share of the photo's longer side from one photo to the next.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
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

from paintnoise_desktop.core.box import Box, area, box_of_mask, clip, slices, union
from paintnoise_desktop.core.brush import Brush, Stroke
from paintnoise_desktop.core.document import Document
from paintnoise_desktop.ui.app_settings import MAX_BRUSH, MIN_BRUSH, AppSettings
from paintnoise_desktop.ui.canvas_view import CanvasView
from paintnoise_desktop.ui.image_pyramid import (
    BAND_PIXELS,
    ImagePyramid,
    PendingUpdates,
    aligned,
    qimage_over,
    rgb_to_rgb32,
)
from paintnoise_desktop.ui.mask_outline import outline_image

TOOLS = ("add", "erase", "select", "none")  # select: clicks go to a SelectTool
ZOOM_STEP = 1.25
WHEEL_NOTCH = 120
BRUSH_STEP = 1.15
OVERLAY_COLOUR = QColor(255, 32, 32)
OVERLAY_OPACITY = 0.45
BACKGROUND = QColor(48, 48, 48)
EMPTY_HINT = "Open a photo (Ctrl+O) or drop one here"
ORIGINAL_LABEL = "Original"
#: The keys and gestures the canvas handles itself, for the shortcuts sheet (keyPressEvent,
#: mousePressEvent and wheelEvent below are what they describe).
CANVAS_KEYS = (
    ("Space + drag, middle drag", "Pan the photo"),
    ("Wheel", "Zoom about the pointer"),
    ("+ / \u2212", "Zoom in / out"),
    ("] / [", "Bigger / smaller brush"),
    ("Drag", "Paint with the brush"),
    ("Right drag, Alt + drag", "Erase from the mask"),
)
PENDING_BUDGET_S = 0.015  # GUI time given to queued pyramid bands per turn of the event loop
#: Variant patches are kept ready, newest first, up to this many pixels in all (about 260 MB
#: with their levels), so pointing back at one costs nothing.
PATCH_PIXELS_KEPT = 48_000_000


@dataclass
class _Patch:
    """Pixels of `source` (a whole-photo RGB image) shown over `box` of the photo.

    Its pyramid has as many levels as the photo's and `box` is aligned to them, so each
    level lines up with the photo's. It is filled top to bottom; `filled` rows are ready.
    """

    source: np.ndarray
    box: Box
    pyramid: ImagePyramid
    filled: int = 0

    @property
    def ready(self) -> bool:
        return self.filled >= self.box[3] - self.box[1]


class Canvas(QWidget):
    zoomChanged = Signal(float)
    brushSizeChanged = Signal(int)
    maskEdited = Signal(str)
    strokeBegun = Signal()  # a brush stroke is held: end_stroke() ends it
    strokeEnded = Signal()  # it ended, recorded (maskEdited) or not
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
        self._overlay: ImagePyramid | None = None
        # Holds every non-zero mask pixel (it may be larger): no tint work outside it.
        self._mask_extent: Box | None = None
        # The overlay's scratch image, kept between paints: a fresh widget-sized image on
        # every paint cost 40-80 ms on a 24 MP photo (new memory is slow to touch).
        self._tint = QImage()
        self._pending = PendingUpdates()
        self._pending_timer = QTimer(self, singleShot=True, interval=0)
        self._pending_timer.timeout.connect(self._run_pending)
        self._patches: list[_Patch] = []  # newest last
        self._override: _Patch | None = None
        self._original: np.ndarray | None = None
        self._original_patch: _Patch | None = None
        self._original_under: _Patch | None = None  # drawn under a patch still being made
        self._changed: Box | None = None  # holds every pixel that may differ from the original
        self._showing_original = False
        self._live: tuple[QImage, Box | None] | None = None
        self._overlay_visible = True
        self._overlay_colour, self._overlay_opacity, self._outline = (
            OVERLAY_COLOUR, OVERLAY_OPACITY, False)
        self._mask_preview: tuple[QImage, np.ndarray] | None = None  # a candidate pointed at
        self._select = None  # the SelectTool the "select" tool hands its gestures to
        self._tool = "add"
        self._brush_size = 20  # diameter, photo pixels
        self._brush_share: float | None = None  # diameter / the photo's longer side
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
        """Show `doc` (None: none). A big photo's levels are made band by band."""
        self._stroke = None
        self._doc = doc
        self._pending.drop()
        self._patches, self._override, self._live = [], None, None
        self._mask_preview = None
        self._original = self._original_patch = self._original_under = None
        self._changed, self._showing_original = None, False
        self._photo = self._overlay = self._mask_extent = None
        if doc is not None:
            self._photo = ImagePyramid.blank(doc.height, doc.width, 4)
            self._overlay = ImagePyramid.blank(doc.height, doc.width, 1)
            self._mask_extent = box_of_mask(doc.mask)
            everything = (0, 0, doc.width, doc.height)
            self._update(self._photo, everything, self._photo_pixels, self._repaint)
            if self._mask_extent is not None:
                self._update(self._overlay, self._mask_extent, self._mask_pixels, self._repaint)
            if self._brush_share is not None:
                self._set_brush(round(self._brush_share * max(doc.width, doc.height)))
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
        self._changed = union(self._changed, box)
        self._update(self._photo, box, self._photo_pixels, self._repaint)
        self._update(self._overlay, box, self._mask_pixels, self._repaint)
        self._mask_extent = extent
        if self._showing_original:
            self._show_original_patch()

    @property
    def busy(self) -> bool:
        """Whether levels of the photo, mask or an override are still being made."""
        return self._pending.busy

    def flush(self) -> None:
        """Make every level still queued now (for a screenshot or a test)."""
        self._pending.finish()

    def _photo_pixels(self, box: Box) -> np.ndarray:
        assert self._doc is not None
        return rgb_to_rgb32(self._doc.rgb[slices(box)])

    def _mask_pixels(self, box: Box) -> np.ndarray:
        assert self._doc is not None
        return self._doc.mask[slices(box)]

    def _repaint(self, box: Box) -> None:
        self.update(self.widget_rect_of(box))

    def _update(self, pyramid: ImagePyramid, box: Box, source, done) -> None:
        """Make `box` of `pyramid` from `source`: at once when small, else band by band."""
        if area(box) <= BAND_PIXELS:
            pyramid.update(box, source(box))
            done(box)
        else:
            self._pending.add(pyramid, box, source, done)
            self._pending.run(0.0)  # one band now, the rest between events
            self._pending_timer.start()

    def _run_pending(self) -> None:
        self._pending.run(PENDING_BUDGET_S)
        if self._pending.busy:
            self._pending_timer.start()

    def _refresh_overlay(self, box: Box) -> None:
        assert self._doc is not None and self._overlay is not None
        self._overlay.update(box, self._doc.mask[slices(box)])
        self._mask_extent = union(self._mask_extent, box)
        if self._overlay_visible:
            self.update(self.widget_rect_of(box))

    # -- other pixels over the photo ------------------------------------------------------

    def set_display_override(self, rgb: np.ndarray | None, box: Box | None = None) -> None:
        """Show `rgb` (a whole photo, e.g. a variant) instead of the document's pixels inside
        `box` (None: anywhere), without touching the document; None shows the document.

        Only that box is made into levels (band by band when big), and the last few are kept,
        so pointing at variants in turn is cheap even on a big photo.
        """
        old, self._override = self._override, None
        if rgb is not None and self._photo is not None:
            self._override = self._patch(rgb, box)
        for patch in {id(p): p for p in (old, self._override) if p is not None}.values():
            self._repaint(patch.box)

    def set_original(self, rgb: np.ndarray | None, matches_document: bool = False) -> None:
        """The photo as it was opened, for comparing (`set_showing_original`).

        `matches_document`: `rgb` equals the document's pixels as shown now (it was just
        opened), so only boxes refreshed from now on can differ and only they are made into
        levels when comparing; otherwise it may differ anywhere.
        """
        self._original, self._original_patch, self._original_under = rgb, None, None
        if self._doc is not None and rgb is not None and not matches_document:
            self._changed = (0, 0, self._doc.width, self._doc.height)
        elif matches_document:
            self._changed = None
        if self._showing_original:
            self._show_original_patch()
            self.update()

    @property
    def showing_original(self) -> bool:
        return self._showing_original

    def set_showing_original(self, on: bool) -> None:
        """While on, show the original (see `set_original`) labelled "Original"."""
        if on == self._showing_original:
            return
        self._showing_original = on
        if on:
            self._show_original_patch()
        self.update()

    def _show_original_patch(self) -> None:
        """Make sure the original's patch covers every pixel that changed since."""
        patch = self._original_patch
        if self._original is None or self._changed is None or self._photo is None:
            self._original_patch = None
        elif patch is None or patch.source is not self._original or union(
                patch.box, self._changed) != patch.box:
            self._original_patch = self._patch(self._original, self._changed, keep=False)
            # until the bigger patch is made, the smaller one still shows what it holds
            self._original_under = patch if patch is not None and patch.source is \
                self._original else None

    def set_live_preview(self, image: np.ndarray | None, box: Box | None = None) -> None:
        """Draw a running job's preview (small RGB) scaled into photo `box`, the region it
        is painting; None clears it. Without a box it is centred on the mask."""
        old = self._live_rect()
        if image is None:
            self._live = None
        else:
            rgb = np.ascontiguousarray(image[..., :3], dtype=np.uint8)
            height, width = rgb.shape[:2]
            qimage = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888)
            self._live = (qimage.copy(), box)
        for rect in (old, self._live_rect()):
            if rect is not None:
                self.update(rect.toAlignedRect().adjusted(-2, -2, 2, 2))

    def _live_rect(self) -> QRectF | None:
        """Where the live preview is drawn, in widget coordinates."""
        if self._live is None or self._doc is None:
            return None
        image, box = self._live
        if box is None:
            box = self._mask_extent or (0, 0, self._doc.width, self._doc.height)
            x0, y0, x1, y1 = box  # the preview's shape, covering the mask, centred on it
            scale = max((x1 - x0) / image.width(), (y1 - y0) / image.height())
            cx, cy, w, h = (x0 + x1) / 2, (y0 + y1) / 2, image.width() * scale, \
                image.height() * scale
            top_left, bottom_right = QPointF(cx - w / 2, cy - h / 2), QPointF(cx + w / 2, cy + h / 2)
        else:
            top_left, bottom_right = QPointF(box[0], box[1]), QPointF(box[2], box[3])
        return QRectF(self._view.to_widget(top_left), self._view.to_widget(bottom_right))

    def _keep(self, patch: _Patch) -> None:
        """Add `patch` to those kept, dropping the oldest beyond PATCH_PIXELS_KEPT."""
        kept, total = [patch], area(patch.box)
        for older in reversed(self._patches):
            total += area(older.box)
            if total <= PATCH_PIXELS_KEPT or older is self._override:
                kept.append(older)
            else:
                self._pending.drop(older.pyramid)
        self._patches = kept[::-1]

    def _patch(self, source: np.ndarray, box: Box | None, keep: bool = True) -> _Patch:
        """A patch of `source` over `box` (None: everything), reused when one was made."""
        assert self._photo is not None
        width, height = self._photo.width, self._photo.height
        box = clip(box or (0, 0, width, height), width, height) or (0, 0, width, height)
        box = aligned(box, self._photo.alignment, width, height)
        for patch in self._patches:
            if patch.source is source and patch.box == box:
                return patch
        x0, y0, x1, y1 = box
        patch = _Patch(source, box, ImagePyramid.blank(y1 - y0, x1 - x0, 4,
                                                       len(self._photo.levels)))

        def pixels(band: Box) -> np.ndarray:
            return rgb_to_rgb32(source[y0 + band[1] : y0 + band[3], x0 + band[0] : x0 + band[2]])

        def made(band: Box) -> None:
            patch.filled = max(patch.filled, band[3])
            if patch is self._override or patch is self._original_patch:
                self._repaint((x0 + band[0], y0 + band[1], x0 + band[2], y0 + band[3]))

        if keep:
            self._keep(patch)
        self._update(patch.pyramid, (0, 0, x1 - x0, y1 - y0), pixels, made)
        return patch

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

    def zoom_to(self, box: Box, margin: float = 0.1) -> None:
        """Show photo `box` as large as fits, centred, with `margin` of its size around it."""
        x0, y0, x1, y1 = box
        pad = margin * max(x1 - x0, y1 - y0)
        zoom = min(self.width() / (x1 - x0 + 2 * pad), self.height() / (y1 - y0 + 2 * pad))
        self._zoom_about(zoom, self._centre())
        centre = self._view.to_widget(QPointF((x0 + x1) / 2, (y0 + y1) / 2))
        self._view.offset = self._view.offset + self._centre() - centre
        self._view_changed()

    def widget_point_of(self, image_point: QPointF) -> QPointF:
        return self._view.to_widget(image_point)

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

    def set_overlay_style(self, colour: QColor, opacity: float, outline: bool) -> None:
        """The mask's tint colour and opacity, and whether its edge is outlined opaquely."""
        self._overlay_colour, self._overlay_opacity, self._outline = colour, opacity, outline
        self.update()

    def set_mask_preview(self, mask: np.ndarray | None) -> None:
        """Tint `mask` (any size with the photo's aspect, e.g. a candidate's) in place of the
        document's mask, without touching it; None shows the document's mask again."""
        if mask is None:
            self._mask_preview = None
        else:
            alpha = np.ascontiguousarray(mask, dtype=np.uint8)
            self._mask_preview = (qimage_over(alpha), alpha)
        self.update()

    def set_select_tool(self, select) -> None:
        """Where the "select" tool's presses, drags, keys and marks go (see select_tool.py)."""
        self._select = select

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
        """The brush's diameter in photo pixels."""
        return self._brush_size

    @brush_size.setter
    def brush_size(self, diameter: int) -> None:
        self.set_brush_size(diameter)

    def set_brush_size(self, diameter: int) -> None:
        """Set the brush's diameter (photo pixels); with a photo open, also its share.
        The size it has already changes nothing (an echo of brushSizeChanged keeps the share
        exact)."""
        diameter = int(min(MAX_BRUSH, max(MIN_BRUSH, diameter)))
        if diameter == self._brush_size:
            return
        if self._doc is not None:
            self._brush_share = diameter / max(self._doc.width, self._doc.height)
        self._set_brush(diameter)

    @property
    def brush_share(self) -> float | None:
        """The diameter as a share of the photo's longer side, as last set on a photo."""
        return self._brush_share

    def set_brush_share(self, share: float | None) -> None:
        """Keep the brush at `share` of each photo's longer side (None: at its size in px)."""
        self._brush_share = share if share and share > 0 else None
        if self._doc is not None and self._brush_share is not None:
            self._set_brush(round(self._brush_share * max(self._doc.width, self._doc.height)))

    def remember_brush_in(self, settings: AppSettings) -> None:
        """Start from the brush `settings` remember (size and share of the photo) and keep
        them up to date, so the next run starts where this one ended."""
        self.set_brush_share(settings.brush_share)
        self._set_brush(settings.brush_size)
        self.brushSizeChanged.connect(lambda _size: self._store_brush(settings))

    def _store_brush(self, settings: AppSettings) -> None:
        settings.brush_size = self._brush_size
        if self._brush_share is not None:
            settings.brush_share = self._brush_share

    def _set_brush(self, diameter: int) -> None:
        diameter = int(min(MAX_BRUSH, max(MIN_BRUSH, diameter)))
        if diameter == self._brush_size:
            return
        self._update_brush_outline()
        self._brush_size = diameter
        self._update_brush_outline()
        self.brushSizeChanged.emit(diameter)

    @property
    def brush_hardness(self) -> float:
        return self._brush_hardness

    @brush_hardness.setter
    def brush_hardness(self, hardness: float) -> None:
        self._brush_hardness = min(1.0, max(0.0, float(hardness)))

    def _brush_active(self) -> bool:
        return (self._tool not in ("none", "select") and not self._space_held
                and self._pan_from is None)

    def _update_cursor(self) -> None:
        if self._doc is None:
            self.unsetCursor()
        elif self._pan_from is not None:
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        elif self._tool == "none" or self._space_held:
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        elif self._tool == "select":
            self.setCursor(Qt.CursorShape.CrossCursor)
        else:
            self.setCursor(Qt.CursorShape.BlankCursor)

    def _brush_outline_rect(self) -> QRect | None:
        if self._mouse is None:
            return None
        r = math.ceil(self._brush_size / 2 * self._view.zoom) + 3
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
        brush = Brush(self._brush_size / 2, hardness=self._brush_hardness, erase=erase)
        self._stroke = Stroke(self._doc.mask, brush)
        self._stroke_name = "Erase" if erase else "Brush"
        self.strokeBegun.emit()
        self._continue_stroke(pos)

    def _continue_stroke(self, pos: QPointF) -> None:
        assert self._stroke is not None
        p = self.image_point_at(pos)
        box = self._stroke.add_point(p.x(), p.y())
        if box is not None:
            self._refresh_overlay(box)

    def end_stroke(self) -> None:
        """End the stroke being held now, as if the button were let go: one step."""
        stroke, self._stroke = self._stroke, None
        if stroke is None:
            return
        try:
            finished = stroke.finish() if self._doc is not None else None
            if finished is not None:
                box, mask_before = finished
                self._doc.record_stroke(self._stroke_name, box, mask_before)
                self.maskEdited.emit(self._stroke_name)
        finally:
            self.strokeEnded.emit()

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
        elif self._tool == "select":
            if self._doc is not None and self._select is not None:
                self._select.press(event, self.image_point_at(event.position()))
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
            elif self._tool == "select" and self._select is not None:
                self._select.move(event, self.image_point_at(pos))
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
            self.end_stroke()
        elif self._tool == "select" and self._select is not None:
            self._select.release(event, self.image_point_at(event.position()))

    def event(self, event: QEvent) -> bool:
        """Keys the select tool claims (Tab, Esc) reach it before focus moves or a shortcut
        takes them."""
        if (event.type() in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride)
                and self._tool == "select" and self._select is not None
                and self._select.claims(event.key())):
            if event.type() == QEvent.Type.KeyPress:
                self._select.key(event.key())
            event.accept()
            return True
        return super().event(event)

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
        """At fit the photo refits; otherwise the user's zoom stays and the photo point at
        the centre stays at the centre."""
        if self._fit_on_resize:
            self.zoom_fit()
        elif event.oldSize().isValid():
            grown = event.size() - event.oldSize()
            self._view.offset = self._view.offset + QPointF(grown.width() / 2, grown.height() / 2)
            self.update()
        super().resizeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        exposed = event.rect()
        painter = QPainter(self)
        painter.fillRect(exposed, BACKGROUND)
        if self._doc is None or self._photo is None:
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, EMPTY_HINT)
            return
        self._draw_level(painter, self._photo, exposed)
        original = self._showing_original and self._original is not None
        patch = self._original_patch if original else self._override
        if original and self._original_under is not None and patch is not None:
            if patch.ready:
                self._original_under = None
            else:
                under = self._original_under
                self._draw_level(painter, under.pyramid, exposed, under.box[:2], under.filled)
        if patch is not None:
            self._draw_level(painter, patch.pyramid, exposed, patch.box[:2], patch.filled)
        if (self._overlay_visible or self._mask_preview is not None) and self._overlay is not None:
            self._draw_overlay(painter, exposed)  # a candidate pointed at shows even so
        if self._live is not None and not original:
            self._draw_live_preview(painter)  # over the tint: the painting is what is watched
        if self._tool == "select" and self._select is not None:
            self._select.paint(painter)
        if self._mouse is not None and self._brush_active():
            self._draw_brush_outline(painter)
        if original:
            self._draw_label(painter, ORIGINAL_LABEL)

    def _level_geometry(
        self, pyramid: ImagePyramid, exposed: QRect, origin: tuple[int, int] = (0, 0),
        filled: int | None = None,
    ) -> tuple[int, QRectF, QRect] | None:
        """(level, widget target, level source) for the part of `pyramid` inside `exposed`.

        The pyramid's pixel (0, 0) is the photo's `origin` (aligned to its levels); only its
        first `filled` rows (None: all) are drawn.
        """
        assert self._photo is not None
        ox, oy = origin
        rows = pyramid.height if filled is None else min(filled, pyramid.height)
        box = self._view.image_box_of(exposed, self._photo.width, self._photo.height)
        if box is None or rows <= 0:
            return None
        box = clip((box[0] - ox, box[1] - oy, box[2] - ox, box[3] - oy), pyramid.width, rows)
        if box is None:
            return None
        level = pyramid.level_for(self._screen_zoom())
        s = 1 << level
        image = pyramid.levels[level]
        level_rows = image.shape[0] if rows == pyramid.height else rows // s
        lx0, ly0 = box[0] // s, box[1] // s
        lx1 = min(-(-box[2] // s), image.shape[1])
        ly1 = min(-(-box[3] // s), level_rows)
        if lx1 <= lx0 or ly1 <= ly0:
            return None
        top_left = self._view.to_widget(QPointF(ox + lx0 * s, oy + ly0 * s))
        scale = s * self._view.zoom
        target = QRectF(top_left.x(), top_left.y(), (lx1 - lx0) * scale, (ly1 - ly0) * scale)
        return level, target, QRect(lx0, ly0, lx1 - lx0, ly1 - ly0)

    def _screen_zoom(self) -> float:
        """Device pixels per image pixel (the zoom is in logical pixels)."""
        return self._view.zoom * self.devicePixelRatioF()

    def _smooth(self) -> bool:
        return self._screen_zoom() < 1.0

    def _draw_level(self, painter: QPainter, pyramid: ImagePyramid, exposed: QRect,
                    origin: tuple[int, int] = (0, 0), filled: int | None = None) -> None:
        geometry = self._level_geometry(pyramid, exposed, origin, filled)
        if geometry is None:
            return
        level, target, source = geometry
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._smooth())
        painter.drawImage(target, pyramid.images[level], QRectF(source))

    def _draw_overlay(self, painter: QPainter, exposed: QRect) -> None:
        """Tint the mask: its alpha scaled into a scratch image the size of the exposed part,
        coloured, and laid over the photo."""
        assert self._overlay is not None and self._photo is not None
        if self._mask_preview is not None:
            image = self._mask_preview[0]
            whole = (0, 0, self._photo.width, self._photo.height)
            target = QRectF(self._view.widget_rect_of(whole, 0))
            source = QRectF(image.rect())
        else:
            if self._mask_extent is None:
                return
            exposed = exposed & self.widget_rect_of(self._mask_extent)
            geometry = self._level_geometry(self._overlay, exposed)
            if geometry is None:
                return
            level, target, source = geometry
            image, source = self._overlay.images[level], QRectF(source)
        area = target.toAlignedRect() & exposed
        if area.isEmpty():
            return
        tint = self._tint_image()
        tp = QPainter(tint)
        tp.setClipRect(area)
        tp.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        tp.fillRect(area, Qt.GlobalColor.transparent)
        tp.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)
        tp.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._smooth())
        tp.drawImage(target, image, source)
        tp.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
        tp.fillRect(area, self._overlay_colour)
        tp.end()
        dpr = tint.devicePixelRatio()
        device_area = QRect(math.floor(area.x() * dpr), math.floor(area.y() * dpr),
                            math.ceil(area.width() * dpr), math.ceil(area.height() * dpr))
        painter.setOpacity(self._overlay_opacity)
        painter.drawImage(QRectF(area), tint, QRectF(device_area))
        painter.setOpacity(1.0)
        if self._outline:
            painter.drawImage(QRectF(area), outline_image(tint, device_area & tint.rect(),
                                                          self._overlay_colour))

    def _tint_image(self) -> QImage:
        """The widget-sized scratch image for the overlay, made anew only when the size changes."""
        dpr = self.devicePixelRatioF()
        size = QSize(math.ceil(self.width() * dpr), math.ceil(self.height() * dpr))
        if self._tint.size() != size or self._tint.devicePixelRatio() != dpr:
            self._tint = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
            self._tint.setDevicePixelRatio(dpr)
        return self._tint

    def _draw_live_preview(self, painter: QPainter) -> None:
        rect = self._live_rect()
        assert self._live is not None and rect is not None
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(rect, self._live[0])

    def _draw_label(self, painter: QPainter, text: str) -> None:
        """`text` in a dark tag at the canvas's top left corner."""
        font = painter.font()
        font.setBold(True)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        tag = QRect(8, 8, metrics.horizontalAdvance(text) + 16, metrics.height() + 8)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 170))
        painter.drawRoundedRect(tag, 4, 4)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)

    def _draw_brush_outline(self, painter: QPainter) -> None:
        assert self._mouse is not None
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        r = max(1.0, self._brush_size / 2 * self._view.zoom)
        centre = QPointF(self._mouse.toPoint()) + QPointF(0.5, 0.5)
        painter.setPen(QPen(QColor(0, 0, 0, 160), 3))
        painter.drawEllipse(centre, r, r)
        painter.setPen(QPen(QColor(255, 255, 255), 1))
        painter.drawEllipse(centre, r, r)


def _takes_text(widget: QWidget | None) -> bool:
    """Whether `widget` types what is keyed (a line edit, a spin box ...): Space is its own."""
    return widget is not None and widget.testAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled)
