"""What the canvas shows over the photo: variant overrides, the original, the live preview,
the brush as a diameter that follows the photo, and big changes made band by band."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest

from paintnoise_desktop.core.document import Document
from paintnoise_desktop.ui.app_settings import MAX_BRUSH
from paintnoise_desktop.ui.canvas import Canvas

from .conftest import CANVAS_H as H
from .conftest import CANVAS_W as W
from .test_canvas import GREY

GOLD = (250, 200, 0)


def document(width: int = W, height: int = H, seed: int | None = None) -> Document:
    if seed is None:
        rgb = np.empty((height, width, 3), np.uint8)
        rgb[:] = GREY
    else:
        rgb = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return Document(rgb)


def colour_at(canvas: Canvas, x: int, y: int) -> tuple[int, int, int]:
    return QColor(canvas.grab().toImage().pixel(x, y)).getRgb()[:3]


def shown(canvas: Canvas) -> np.ndarray:
    """The canvas's pixels as H x W x 3."""
    image = canvas.grab().toImage().convertToFormat(canvas.grab().toImage().Format.Format_RGB888)
    bits = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    return bits.reshape(image.height(), image.bytesPerLine())[:, : 3 * image.width()].reshape(
        image.height(), image.width(), 3).copy()


# -- variant overrides ----------------------------------------------------------------------


def test_an_override_with_a_box_shows_only_that_box(canvas):
    doc = document()
    canvas.set_document(doc)
    canvas.zoom_actual()
    canvas.set_overlay_visible(False)
    variant = np.zeros_like(doc.rgb)
    variant[:] = GOLD  # differs everywhere, but only its box is the variant's
    canvas.set_display_override(variant, (64, 32, 128, 96))
    assert colour_at(canvas, 100, 60) == GOLD
    assert colour_at(canvas, 10, 10) == GREY and colour_at(canvas, 160, 120) == GREY
    canvas.set_display_override(None)
    assert colour_at(canvas, 100, 60) == GREY


@pytest.mark.parametrize("size", [(200, 150), (1600, 1200)])
def test_an_override_looks_exactly_like_a_document_with_those_pixels(qtbot, canvas, size):
    """The patch's levels line up with the photo's: no seam at any zoom."""
    doc = document(*size, seed=1)
    canvas.set_document(doc)
    canvas.set_overlay_visible(False)
    box = (37, 21, 151, 111)
    variant = doc.rgb.copy()
    variant[21:111, 37:151] = np.random.default_rng(2).integers(0, 256, (90, 114, 3), np.uint8)
    canvas.set_display_override(variant, box)
    canvas.flush()
    with_override = shown(canvas)
    canvas.set_document(Document(variant))
    canvas.set_overlay_visible(False)
    canvas.flush()
    np.testing.assert_array_equal(with_override, shown(canvas))


def test_a_big_override_is_made_band_by_band_and_kept_for_next_time(qtbot, canvas):
    doc = document(2000, 1500)
    canvas.set_document(doc)
    qtbot.waitUntil(lambda: not canvas.busy)
    canvas.set_overlay_visible(False)
    variant = np.zeros_like(doc.rgb)
    variant[:] = GOLD
    canvas.set_display_override(variant, (0, 0, 2000, 1500))
    assert canvas.busy, "three megapixels are not made in one go"
    qtbot.waitUntil(lambda: not canvas.busy)
    assert colour_at(canvas, 100, 75) == GOLD
    canvas.set_display_override(None)
    canvas.set_display_override(variant, (0, 0, 2000, 1500))
    assert not canvas.busy and colour_at(canvas, 100, 75) == GOLD


# -- big changes -------------------------------------------------------------------------


def test_opening_and_refreshing_a_big_photo_never_does_it_all_at_once(qtbot, canvas):
    doc = document(3000, 2000, seed=4)
    canvas.set_document(doc)
    assert canvas.busy
    qtbot.waitUntil(lambda: not canvas.busy)
    before = shown(canvas)
    doc.rgb[:] = 255 - doc.rgb
    doc.mask[:] = 255
    canvas.refresh()
    assert canvas.busy
    qtbot.waitUntil(lambda: not canvas.busy)
    after = shown(canvas)
    assert not np.array_equal(before, after)
    doc.mask[:] = 0
    canvas.refresh()
    canvas.flush()
    expected = Canvas()
    qtbot.addWidget(expected)
    expected.resize(W, H)
    expected.show()
    expected.set_document(doc)
    expected.flush()
    np.testing.assert_array_equal(shown(canvas), shown(expected))


# -- the original ------------------------------------------------------------------------


def test_showing_the_original_shows_its_pixels_and_says_so(canvas):
    doc = document()
    original = doc.rgb.copy()
    canvas.set_document(doc)
    canvas.set_original(original, matches_document=True)
    canvas.zoom_actual()
    canvas.set_overlay_visible(False)
    doc.rgb[60:100, 100:150] = GOLD
    canvas.refresh((100, 60, 150, 100))
    assert colour_at(canvas, 120, 80) == GOLD
    plain = shown(canvas)
    canvas.set_showing_original(True)
    assert canvas.showing_original
    assert colour_at(canvas, 120, 80) == GREY
    label = shown(canvas)[8:30, 8:80]
    assert (label.max(axis=2) > 200).any(), "white text"
    assert (label.max(axis=2) < 60).any(), "on a dark tag"
    canvas.set_showing_original(False)
    np.testing.assert_array_equal(shown(canvas), plain)


def test_the_original_follows_later_changes_while_shown(canvas):
    doc = document()
    canvas.set_document(doc)
    canvas.set_original(doc.rgb.copy(), matches_document=True)
    canvas.zoom_actual()
    canvas.set_overlay_visible(False)
    canvas.set_showing_original(True)
    doc.rgb[0:20, 0:20] = GOLD
    canvas.refresh((0, 0, 20, 20))
    assert colour_at(canvas, 150, 130) == GREY
    doc.rgb[120:150, 140:200] = GOLD
    canvas.refresh((140, 120, 200, 150))
    assert colour_at(canvas, 150, 130) == GREY, "a box changed after the press is the original"
    canvas.set_showing_original(False)
    assert colour_at(canvas, 150, 130) == GOLD


def test_without_an_original_nothing_pretends_to_be_one(canvas):
    doc = document()
    canvas.set_document(doc)
    plain = shown(canvas)
    canvas.set_showing_original(True)
    np.testing.assert_array_equal(shown(canvas), plain)


# -- the live preview ---------------------------------------------------------------------


def test_the_live_preview_is_drawn_in_place_over_its_box(canvas):
    doc = document()
    canvas.set_document(doc)
    canvas.zoom_actual()
    preview = np.zeros((16, 16, 3), np.uint8)
    preview[:] = (0, 0, 255)
    canvas.set_live_preview(preview, (100, 50, 164, 114))
    assert colour_at(canvas, 130, 80) == (0, 0, 255)
    assert colour_at(canvas, 104, 54) == (0, 0, 255) and colour_at(canvas, 160, 110) == (0, 0, 255)
    assert colour_at(canvas, 96, 80) == GREY and colour_at(canvas, 168, 80) == GREY
    canvas.zoom_in()
    top_left = canvas.widget_rect_of((110, 60, 111, 61)).center()
    assert colour_at(canvas, top_left.x(), top_left.y()) == (0, 0, 255), "it zooms with the photo"
    canvas.set_live_preview(None)
    assert colour_at(canvas, top_left.x(), top_left.y()) == GREY


def test_a_preview_without_a_box_covers_the_mask(canvas):
    doc = document()
    doc.mask[40:60, 80:120] = 255
    canvas.set_document(doc)
    canvas.zoom_actual()
    canvas.set_live_preview(np.full((10, 20, 3), 255, np.uint8))
    assert colour_at(canvas, 100, 50) == (255, 255, 255)
    assert colour_at(canvas, 20, 20) == GREY


# -- the brush -------------------------------------------------------------------------------


def test_the_brush_size_is_a_diameter(canvas):
    doc = document()
    canvas.set_document(doc)
    canvas.zoom_actual()
    canvas.brush_hardness = 1.0
    canvas.set_brush_size(40)
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(100, 75))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       QPoint(100, 75))
    columns = np.flatnonzero(doc.mask[75] > 127)
    assert 38 <= columns.size <= 42


def test_the_brush_keeps_its_share_of_the_photo_from_photo_to_photo(qtbot, canvas):
    canvas.set_document(document(6000, 40))
    canvas.set_brush_size(139)
    assert canvas.brush_share == pytest.approx(139 / 6000)
    with qtbot.waitSignal(canvas.brushSizeChanged) as changed:
        canvas.set_document(document(600, 400))
    assert changed.args == [14] and canvas.brush_size == 14
    canvas.set_document(document(6000, 40))
    assert canvas.brush_size == 139, "rounding on the small photo does not drift the share"
    canvas.brushSizeChanged.connect(canvas.set_brush_size)  # a window showing it echoes it
    canvas.set_document(document(600, 400))
    canvas.set_document(document(6000, 40))
    assert canvas.brush_size == 139


def test_a_remembered_share_applies_to_the_next_photo(canvas):
    canvas.set_brush_size(30)
    canvas.set_brush_share(0.1)
    assert canvas.brush_size == 30  # no photo yet
    canvas.set_document(document(300, 200))
    assert canvas.brush_size == 30
    canvas.set_document(document(1000, 20))
    assert canvas.brush_size == 100


def test_the_brush_and_its_share_are_remembered_for_the_next_run(qtbot, app_settings):
    first = Canvas()
    qtbot.addWidget(first)
    first.remember_brush_in(app_settings)
    assert first.brush_size == app_settings.brush_size  # never set on a photo: in pixels
    first.set_document(document(6000, 40))
    first.set_brush_size(139)  # on a 24 MP photo's long side
    assert app_settings.brush_size == 139
    assert app_settings.brush_share == pytest.approx(139 / 6000)
    second = Canvas()
    qtbot.addWidget(second)
    second.remember_brush_in(app_settings)
    second.set_document(document(600, 400))
    assert second.brush_size == 14 and app_settings.brush_size == 14
    assert app_settings.brush_share == pytest.approx(139 / 6000), "the share does not drift"


def test_the_brush_range_is_the_settings_range(canvas):
    canvas.set_brush_size(10**9)
    assert canvas.brush_size == MAX_BRUSH
    canvas.set_brush_size(-5)
    assert canvas.brush_size == 1


def test_kept_variant_patches_stay_within_their_memory(canvas, monkeypatch):
    monkeypatch.setattr("paintnoise_desktop.ui.canvas.PATCH_PIXELS_KEPT", 3 * 64 * 64)
    doc = document(256, 256)
    canvas.set_document(doc)
    variants = [np.full_like(doc.rgb, n) for n in range(5)]
    for variant in variants:
        canvas.set_display_override(variant, (0, 0, 64, 64))
    kept = [patch.source for patch in canvas._patches]
    assert len(kept) == 3 and all(kept[-1 - n] is variants[-1 - n] for n in range(3))


def test_while_a_bigger_original_patch_is_made_the_smaller_one_still_shows(qtbot, canvas):
    doc = document(2000, 1500)
    canvas.set_document(doc)
    canvas.flush()
    canvas.set_original(doc.rgb.copy(), matches_document=True)
    canvas.set_overlay_visible(False)
    canvas.zoom_actual()
    doc.rgb[700:800, 950:1050] = GOLD  # under the canvas's centre
    canvas.refresh((950, 700, 1050, 800))
    centre = canvas.widget_rect_of((1000, 750, 1001, 751)).center()
    canvas.set_showing_original(True)
    assert colour_at(canvas, centre.x(), centre.y()) == GREY
    doc.rgb[0:1500, 0:2000:7] = GOLD  # a big change: the original's patch grows
    canvas.refresh()
    assert canvas.busy
    assert colour_at(canvas, centre.x(), centre.y()) == GREY, "never the edit while comparing"
    qtbot.waitUntil(lambda: not canvas.busy)
    assert colour_at(canvas, centre.x(), centre.y()) == GREY
    canvas.set_showing_original(False)
    canvas.flush()
    assert colour_at(canvas, centre.x(), centre.y()) == GOLD
