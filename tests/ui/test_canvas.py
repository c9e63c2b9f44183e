"""The canvas driven as a user would: zoom, pan, brush strokes, overlay, refresh, override."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QSize, Qt
from PySide6.QtGui import QColor, QRegion, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLineEdit, QPushButton, QWidget

from paintnoise_desktop.core.document import Document
from paintnoise_desktop.ui.canvas import Canvas

from .conftest import CANVAS_H as H
from .conftest import CANVAS_W as W

GREY = (90, 110, 130)
LEFT = Qt.MouseButton.LeftButton
NO_KEYS = Qt.KeyboardModifier.NoModifier


def make_document(width: int = W, height: int = H) -> Document:
    rgb = np.empty((height, width, 3), np.uint8)
    rgb[:] = GREY
    return Document(rgb)


def drag(canvas: Canvas, points: list[tuple[int, int]], button=LEFT, keys=NO_KEYS) -> None:
    QTest.mousePress(canvas, button, keys, QPoint(*points[0]))
    for p in points[1:]:
        QTest.mouseMove(canvas, QPoint(*p))
    QTest.mouseRelease(canvas, button, keys, QPoint(*points[-1]))


def line(start: tuple[int, int], end: tuple[int, int], steps: int = 12) -> list[tuple[int, int]]:
    return [
        (
            round(start[0] + (end[0] - start[0]) * i / steps),
            round(start[1] + (end[1] - start[1]) * i / steps),
        )
        for i in range(steps + 1)
    ]


def colour_at(canvas: Canvas, x: int, y: int) -> tuple[int, int, int]:
    return QColor(canvas.grab().toImage().pixel(x, y)).getRgb()[:3]


# -- zoom -----------------------------------------------------------------------------------


def test_set_document_fits_the_photo_in_the_widget(canvas):
    canvas.resize(400, 400)
    canvas.set_document(make_document())
    assert canvas.zoom == pytest.approx(2.0)
    # centred vertically: 150 px of photo at 2x in a 400 px high widget leaves 50 px each side
    top_left = canvas.widget_rect_of((0, 0, 1, 1)).center()
    bottom_right = canvas.widget_rect_of((W - 1, H - 1, W, H)).center()
    assert (top_left.x(), top_left.y()) == pytest.approx((1, 51), abs=1)
    assert (bottom_right.x(), bottom_right.y()) == pytest.approx((399, 349), abs=1)


def test_fit_follows_resizes_until_the_user_zooms(canvas):
    canvas.set_document(make_document())
    canvas.resize(2 * W, 2 * H)
    assert canvas.zoom == pytest.approx(2.0)
    canvas.zoom_in()
    canvas.resize(4 * W, 4 * H)
    assert canvas.zoom == pytest.approx(2.0 * 1.25)
    canvas.zoom_fit()
    assert canvas.zoom == pytest.approx(4.0)


def test_zoom_in_out_and_actual_size(canvas, qtbot):
    canvas.set_document(make_document())
    with qtbot.waitSignal(canvas.zoomChanged) as signal:
        canvas.zoom_in()
    assert canvas.zoom > 1.0 and signal.args == [canvas.zoom]
    canvas.zoom_out()
    canvas.zoom_out()
    assert canvas.zoom < 1.0
    canvas.zoom_actual()
    assert canvas.zoom == 1.0
    for _ in range(100):
        canvas.zoom_out()
    assert canvas.zoom == pytest.approx(1 / 64)


def test_wheel_zoom_keeps_the_image_point_under_the_cursor(canvas):
    canvas.set_document(make_document())
    cursor = QPointF(37, 101)
    before = canvas.image_point_at(cursor)
    for notches in (1, 1, 3, -2):
        event = QWheelEvent(
            cursor,
            canvas.mapToGlobal(cursor),
            QPoint(),
            QPoint(0, 120 * notches),
            Qt.MouseButton.NoButton,
            NO_KEYS,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(canvas, event)
        after = canvas.image_point_at(cursor)
        assert (after.x(), after.y()) == pytest.approx((before.x(), before.y()), abs=1.0)
    assert canvas.zoom == pytest.approx(1.25**3)


# -- brush ----------------------------------------------------------------------------------


def painted_along(mask: np.ndarray, points: list[tuple[float, float]]) -> bool:
    return all(mask[int(y), int(x)] == 255 for x, y in points)


@pytest.mark.parametrize("zoom", [1.0, 2.0])
def test_left_drag_paints_along_the_path_in_image_coordinates(canvas, qtbot, zoom):
    canvas.resize(round(W * zoom), round(H * zoom))
    doc = make_document()
    canvas.set_document(doc)
    assert canvas.zoom == zoom
    canvas.set_brush_size(4)
    with qtbot.waitSignal(canvas.maskEdited) as edited:
        drag(
            canvas,
            line((round(20 * zoom), round(75 * zoom)), (round(180 * zoom), round(75 * zoom))),
        )
    assert edited.args == ["Brush"]
    assert painted_along(doc.mask, [(x, 75) for x in range(20, 181)])
    rows = np.flatnonzero(doc.mask.any(axis=1))
    assert rows.min() >= 75 - 5 and rows.max() <= 75 + 5
    assert not doc.mask[:, :15].any() and not doc.mask[:, 186:].any()
    assert len(doc.history.names) == 1


class PaintedRegion(QObject):
    """Collects the regions of the paint events a widget receives."""

    def __init__(self, widget: Canvas) -> None:
        super().__init__(widget)
        self.region = QRegion()
        self.events = 0
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.region = self.region.united(event.region())
            self.events += 1
        return False


def test_a_stroke_repaints_only_the_widget_rects_it_touched(canvas, qtbot):
    canvas.resize(400, 300)
    doc = make_document()
    canvas.set_document(doc)
    canvas.set_brush_size(5)
    QTest.mouseMove(canvas, QPoint(100, 100))
    QApplication.processEvents()
    painted = PaintedRegion(canvas)
    QTest.mousePress(canvas, LEFT, NO_KEYS, QPoint(100, 100))
    QTest.mouseMove(canvas, QPoint(300, 100))  # one far jump: the stroke fills the gap
    qtbot.waitUntil(lambda: painted.events > 0)
    QApplication.processEvents()
    QTest.mouseRelease(canvas, LEFT, NO_KEYS, QPoint(300, 100))
    assert painted.region.contains(QPoint(200, 100)), "the dabs between the events are shown"
    # at 2x a 5 px brush is 10 px on screen: the stroke fits a strip about 220 x 30
    bounds = painted.region.boundingRect()
    assert bounds.width() < 240 and bounds.height() < 40


def test_each_drag_is_one_history_step_and_undo_restores_the_mask(canvas):
    doc = make_document()
    canvas.set_document(doc)
    canvas.zoom_actual()
    names = []
    canvas.maskEdited.connect(names.append)
    drag(canvas, line((10, 10), (100, 100), steps=30))
    drag(canvas, line((150, 20), (150, 130), steps=30))
    assert names == ["Brush", "Brush"]
    assert len(doc.history.names) == 2
    QTest.mouseMove(canvas, QPoint(5, 140))  # keep the brush outline away from the sampled pixels
    assert colour_at(canvas, 150, 75)[0] > GREY[0] + 50
    canvas.refresh(doc.undo())
    assert not doc.mask[:, 140:].any() and doc.mask[50, 50] == 255
    assert colour_at(canvas, 150, 75) == GREY
    assert colour_at(canvas, 50, 50)[0] > GREY[0] + 50


def test_dragging_after_a_pan_paints_under_the_cursor(canvas, qtbot):
    doc = make_document(2 * W, 2 * H)
    canvas.set_document(doc)
    canvas.zoom_actual()  # the photo's centre (200, 150) at the widget's centre (100, 75)
    drag(canvas, line((100, 70), (130, 90)), button=Qt.MouseButton.MiddleButton)
    assert not doc.mask.any(), "a middle-button drag pans and paints nothing"
    QTest.keyPress(canvas, Qt.Key.Key_Space)
    drag(canvas, line((100, 70), (90, 80)))
    QTest.keyRelease(canvas, Qt.Key.Key_Space)
    assert not doc.mask.any(), "a left drag with Space held pans and paints nothing"
    # panned by (30, 20) then (-10, 10): widget (0, 0) shows image (100 - 20, 75 - 30)
    canvas.set_brush_size(3)
    drag(canvas, line((60, 40), (160, 40)))
    assert painted_along(doc.mask, [(x, 85) for x in range(140, 241)])
    assert not doc.mask[:75].any() and not doc.mask[95:].any()


def test_erase_tool_alt_and_right_button_remove_the_mask(canvas):
    doc = make_document()
    doc.mask[:] = 255
    canvas.set_document(doc)
    canvas.zoom_actual()
    canvas.set_brush_size(4)
    canvas.set_tool("erase")
    drag(canvas, line((20, 30), (180, 30)))
    canvas.set_tool("add")
    drag(canvas, line((20, 75), (180, 75)), keys=Qt.KeyboardModifier.AltModifier)
    drag(canvas, line((20, 120), (180, 120)), button=Qt.MouseButton.RightButton)
    for y in (30, 75, 120):
        assert not doc.mask[y, 20:181].any()
    assert doc.mask[50, 100] == 255 and doc.mask[100, 100] == 255
    assert doc.history.names[-3:] == ["Erase", "Erase", "Erase"]


def test_tool_none_pans_instead_of_painting(canvas):
    doc = make_document()
    canvas.set_document(doc)
    canvas.zoom_in()  # larger than the widget: there is room to pan
    canvas.set_tool("none")
    before = canvas.image_point_at(QPointF(50, 50))
    drag(canvas, line((50, 50), (70, 60)))
    after = canvas.image_point_at(QPointF(50, 50))
    assert not doc.mask.any()
    moved = (before.x() - after.x(), before.y() - after.y())
    assert moved == pytest.approx((20 / canvas.zoom, 10 / canvas.zoom), abs=0.01)


def photo_on_screen(canvas: Canvas, doc: Document):
    """The part of the widget that shows the photo."""
    drawn = canvas.widget_rect_of((0, 0, doc.width, doc.height)).adjusted(2, 2, -2, -2)
    return drawn & canvas.rect()


@pytest.mark.parametrize("far", [(2000, 1500), (-2000, -1500), (2000, -1500)])
def test_a_photo_larger_than_the_view_cannot_be_panned_out_of_sight(canvas, far):
    doc = make_document(4 * W, 4 * H)
    canvas.set_document(doc)
    canvas.zoom_actual()
    centre = (W // 2, H // 2)
    drag(canvas, [centre, (centre[0] + far[0], centre[1] + far[1])],
         button=Qt.MouseButton.MiddleButton)
    shown = photo_on_screen(canvas, doc)
    assert shown.width() >= 64 and shown.height() >= 64
    assert shown.width() < W, "it did pan towards the edge"


def test_a_photo_smaller_than_the_view_stays_inside_it(canvas):
    doc = make_document(W // 2, H // 2)
    canvas.set_document(doc)
    canvas.zoom_actual()
    for far in [(500, 400), (-900, -700)]:
        drag(canvas, [(W // 2, H // 2), (W // 2 + far[0], H // 2 + far[1])],
             button=Qt.MouseButton.MiddleButton)
        assert photo_on_screen(canvas, doc).size() == QSize(W // 2, H // 2)
    assert canvas.widget_rect_of((0, 0, 1, 1)).topLeft() == QPoint(-2, -2), "pushed to a corner"


def focus_in_window(qtbot, focused_type):
    """A window with a canvas and a focused button or line edit beside it."""
    window = QWidget()
    qtbot.addWidget(window)
    canvas, other = Canvas(), focused_type("Press me" if focused_type is QPushButton else "")
    layout = QHBoxLayout(window)
    layout.addWidget(other)
    layout.addWidget(canvas)
    window.resize(W + 120, H)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    other.setFocus()
    qtbot.waitUntil(other.hasFocus)
    canvas.resize(W, H)
    doc = make_document(2 * W, 2 * H)
    canvas.set_document(doc)
    canvas.zoom_actual()
    return window, canvas, other, doc


def test_space_drag_over_the_canvas_pans_while_a_button_has_the_focus(qtbot):
    _window, canvas, button, doc = focus_in_window(qtbot, QPushButton)
    clicks = []
    button.clicked.connect(lambda: clicks.append(True))
    QTest.mouseMove(canvas, QPoint(100, 70))
    before = canvas.image_point_at(QPointF(100, 70))
    keyboard = QApplication.focusWidget()  # where a real key press goes
    QTest.keyPress(keyboard, Qt.Key.Key_Space)
    drag(canvas, line((100, 70), (130, 90)))
    QTest.keyRelease(keyboard, Qt.Key.Key_Space)
    assert not doc.mask.any(), "Space + drag pans and paints nothing"
    after = canvas.image_point_at(QPointF(100, 70))
    assert (before.x() - after.x(), before.y() - after.y()) == pytest.approx((30, 20), abs=0.01)
    assert not clicks and not button.isDown(), "Space went to the canvas, not the button"
    drag(canvas, line((20, 20), (60, 20)))
    assert doc.mask.any(), "once Space is up, a drag paints again"


def test_space_typed_in_a_text_field_is_text_even_with_the_mouse_over_the_canvas(qtbot):
    _window, canvas, edit, doc = focus_in_window(qtbot, QLineEdit)
    QTest.mouseMove(canvas, QPoint(100, 70))
    QTest.keyClicks(edit, "red car")
    assert edit.text() == "red car"
    drag(canvas, line((100, 70), (130, 90)))
    assert doc.mask.any()


def test_bracket_keys_grow_and_shrink_the_brush(canvas, qtbot):
    canvas.set_brush_size(20)
    with qtbot.waitSignal(canvas.brushSizeChanged) as grown:
        QTest.keyClick(canvas, Qt.Key.Key_BracketRight)
    assert grown.args[0] > 20 and canvas.brush_size == grown.args[0]
    QTest.keyClick(canvas, Qt.Key.Key_BracketLeft)
    QTest.keyClick(canvas, Qt.Key.Key_BracketLeft)
    assert canvas.brush_size < 20
    canvas.set_brush_size(1)
    QTest.keyClick(canvas, Qt.Key.Key_BracketRight)
    assert canvas.brush_size == 2


# -- what is shown --------------------------------------------------------------------------


def test_overlay_tints_the_mask_and_can_be_hidden(canvas):
    doc = make_document()
    doc.mask[40:80, 50:100] = 255
    canvas.set_document(doc)
    canvas.zoom_actual()
    red, _green, blue = colour_at(canvas, 70, 60)
    assert red > GREY[0] + 50 and blue < GREY[2] - 30, "masked pixels are tinted red"
    assert colour_at(canvas, 20, 20) == GREY, "unmasked pixels show the photo"
    canvas.set_overlay_visible(False)
    assert not canvas.overlay_visible
    assert colour_at(canvas, 70, 60) == GREY


def test_refresh_of_a_box_shows_the_changed_mask_and_pixels(canvas):
    doc = make_document()
    canvas.set_document(doc)
    canvas.zoom_actual()
    assert colour_at(canvas, 150, 100) == GREY
    doc.mask[90:110, 140:160] = 255
    doc.rgb[10:20, 10:20] = (0, 0, 255)
    canvas.refresh((140, 90, 160, 110))
    assert colour_at(canvas, 150, 100)[0] > GREY[0] + 50
    assert colour_at(canvas, 15, 15) == GREY, "pixels outside the refreshed box are not reloaded"
    canvas.refresh((10, 10, 20, 20))
    assert colour_at(canvas, 15, 15) == (0, 0, 255)


def test_refresh_of_everything_after_clearing_the_mask_removes_the_tint(canvas):
    doc = make_document()
    doc.mask[40:80, 50:100] = 255
    canvas.set_document(doc)
    assert colour_at(canvas, 70, 60) != GREY
    doc.mask[:] = 0
    canvas.refresh()
    assert colour_at(canvas, 70, 60) == GREY


def test_painting_at_a_small_zoom_shows_on_screen(qtbot):
    """A large photo drawn from a reduced level still shows a fresh stroke where it was drawn."""
    canvas = Canvas()
    qtbot.addWidget(canvas)
    canvas.resize(200, 150)
    canvas.show()
    doc = make_document(1600, 1200)
    canvas.set_document(doc)
    qtbot.waitUntil(lambda: not canvas.busy)  # a big photo's levels are made band by band
    assert canvas.zoom == pytest.approx(0.125)
    canvas.set_brush_size(40)
    drag(canvas, line((40, 75), (160, 75)))
    assert painted_along(doc.mask, [(x, 604) for x in range(330, 1280, 10)])
    QTest.mouseMove(canvas, QPoint(5, 5))  # keep the brush outline away from the sampled pixels
    assert colour_at(canvas, 100, 75)[0] > GREY[0] + 50
    assert colour_at(canvas, 100, 30) == GREY


def test_display_override_replaces_the_photo_until_cleared(canvas):
    doc = make_document()
    canvas.set_document(doc)
    canvas.set_overlay_visible(False)
    other = np.zeros_like(doc.rgb)
    other[:] = (250, 200, 0)
    canvas.set_display_override(other)
    assert colour_at(canvas, 100, 75) == (250, 200, 0)
    canvas.set_display_override(None)
    assert colour_at(canvas, 100, 75) == GREY


def test_without_a_document_the_canvas_invites_opening_a_photo(canvas):
    image = canvas.grab().toImage()
    background = QColor(image.pixel(2, 2))
    centre_row = [QColor(image.pixel(x, H // 2)) for x in range(W)]
    assert any(c.lightness() > background.lightness() + 60 for c in centre_row), "hint text drawn"
