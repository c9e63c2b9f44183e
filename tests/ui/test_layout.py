"""The window's layout holds under load: variants, a running job and narrow windows squeeze
no field below a usable width and never make the window wider."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from paintnoise_desktop.core.jobs import InpaintVariant, MaskCandidate
from paintnoise_desktop.ui.prompt_bar import FIND_MIN_WIDTH, REPLACE_MIN_WIDTH, PromptBar
from paintnoise_desktop.ui.session import Found, Replaced

from .test_main_window import (
    KnownAnswerEngine,
    on_screen,
    open_photo,
    open_synthetic,
    square,
    wait_for_step,
)


def settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


def field_geometry(bar: PromptBar) -> list:
    return [bar.find_edit.geometry(), bar.replace_edit.geometry(), bar.find_button.geometry(),
            bar.replace_button.geometry()]


class Host(QWidget):
    """A window holding only the bar, as the main window's column does."""

    def __init__(self) -> None:
        super().__init__()
        self.bar = PromptBar()
        QVBoxLayout(self).addWidget(self.bar)

    def resize_bar(self, width: int) -> None:
        self.resize(width, self.sizeHint().height())
        settle()
        assert self.bar.width() <= width


@pytest.fixture
def host(qtbot) -> Host:
    widget = Host()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def bar(host) -> PromptBar:
    return host.bar


@pytest.mark.parametrize("width", [1100, 700, 500])
def test_fields_keep_their_width_and_place_when_a_job_starts_and_ends(host, bar, width):
    host.resize_bar(width)
    idle = field_geometry(bar)
    assert bar.find_edit.width() >= FIND_MIN_WIDTH
    assert bar.replace_edit.width() >= REPLACE_MIN_WIDTH
    bar.set_busy(True)
    settle()
    assert bar.progress_bar.isVisible()
    assert field_geometry(bar) == idle
    bar.set_busy(False)
    settle()
    assert field_geometry(bar) == idle


def test_a_narrow_bar_puts_replace_with_below_find(host, bar):
    host.resize_bar(1400)
    assert bar.one_row
    assert bar.replace_edit.geometry().top() == bar.find_edit.geometry().top()
    host.resize_bar(host.minimumSizeHint().width())
    assert not bar.one_row
    assert bar.replace_edit.geometry().top() > bar.find_edit.geometry().bottom()
    assert bar.find_edit.width() >= FIND_MIN_WIDTH
    assert bar.replace_edit.width() >= REPLACE_MIN_WIDTH
    assert bar.minimumSizeHint().width() <= 500, "two rows fit beside the mask panel at 800 px"


def test_placeholders_are_shown_whole(host, bar):
    host.resize_bar(host.minimumSizeHint().width())
    for edit in (bar.find_edit, bar.replace_edit):
        text = edit.fontMetrics().horizontalAdvance(edit.placeholderText())
        assert edit.width() > text + 24  # frame, margins and the clear button


def show_variants(window, shown: list[InpaintVariant]) -> None:
    """What a Replace leaves in the session: its variants, the first applied."""
    window.session.set_replaced(Replaced("Replace", tuple(shown), 0, "k") if shown else None)


def variants(image: np.ndarray, count: int) -> list[InpaintVariant]:
    box = (10, 10, image.shape[1] - 10, image.shape[0] - 10)
    return [InpaintVariant(image.copy(), box, 2057787880 + n) for n in range(count)]


def test_eight_variants_with_long_seeds_leave_the_window_its_width(qtbot, make_window,
                                                                   sample_photo):
    window = make_window()
    window.resize(1280, 800)
    assert open_photo(qtbot, window, sample_photo)
    settle()
    width = window.width()
    for count in (3, 8):
        show_variants(window, variants(window.document.rgb, count))
        window.prompt_bar.set_busy(True)
        settle()
        assert window.variants_panel.isVisible()
        assert window.minimumSizeHint().width() <= width
        assert window.width() == width
        bar = window.prompt_bar
        assert bar.find_edit.width() >= FIND_MIN_WIDTH
        assert bar.replace_edit.width() >= REPLACE_MIN_WIDTH
        window.prompt_bar.set_busy(False)


def test_the_candidate_strip_and_a_running_job_leave_find_its_width(qtbot, make_window,
                                                                    sample_photo):
    window = make_window()
    window.resize(1280, 800)
    assert open_photo(qtbot, window, sample_photo)
    rgb = window.document.rgb
    mask = np.zeros(rgb.shape[:2], np.uint8)
    mask[20:80, 30:90] = 255
    found = [MaskCandidate(mask, score, (30, 20, 90, 80), "segclip", "thing")
             for score in (0.9, 0.004)]
    window.session.set_found(Found("thing", tuple(found), (0,)))
    window.prompt_bar.set_busy(True)
    settle()
    assert on_screen(window.candidate_dock)
    assert window.prompt_bar.find_edit.width() >= FIND_MIN_WIDTH
    assert window.prompt_bar.replace_edit.width() >= REPLACE_MIN_WIDTH
    assert window.width() == 1280
    window.prompt_bar.set_busy(False)


def photo_on_screen(window) -> tuple:
    """Where the photo is drawn and at what zoom, and where the prompt bar's fields are."""
    canvas, document = window.canvas, window.document
    return (canvas.zoom, canvas.geometry(), canvas.widget_rect_of(
        (0, 0, document.width, document.height)), window.prompt_bar.geometry(),
        field_geometry(window.prompt_bar))


@pytest.mark.parametrize("zoomed", [False, True], ids=["at fit", "zoomed in"])
def test_the_first_find_moves_neither_the_photo_nor_the_prompt_bar(qtbot, make_window,
                                                                  tmp_path, zoomed):
    engine = KnownAnswerEngine((square(2, 2, 10), square(40, 4, 10)))
    window = make_window(engine_factory=lambda settings: engine)
    window.resize(1280, 800)
    open_synthetic(qtbot, window, tmp_path)
    if zoomed:
        window.canvas.zoom_in()
    settle()
    before = photo_on_screen(window)
    assert not on_screen(window.candidate_dock) and on_screen(window.history_dock)
    bar = window.prompt_bar
    bar.find_edit.setText("square")
    qtbot.keyClick(bar.find_edit, Qt.Key_Return)
    wait_for_step(qtbot, window, "Find: square", 1)
    settle()
    assert on_screen(window.candidate_dock) and window.candidate_panel.list.count() == 2
    assert photo_on_screen(window) == before


def test_variants_after_a_replace_do_not_move_the_photo(qtbot, make_window, sample_photo):
    window = make_window()
    window.resize(1280, 800)
    assert open_photo(qtbot, window, sample_photo)
    settle()
    before = photo_on_screen(window)
    show_variants(window, variants(window.document.rgb, 4))
    settle()
    assert on_screen(window.variants_panel)
    assert photo_on_screen(window) == before


def test_a_zoomed_photo_keeps_its_zoom_and_centre_when_the_canvas_resizes(qtbot, make_window,
                                                                          sample_photo):
    window = make_window()
    window.resize(1280, 800)
    assert open_photo(qtbot, window, sample_photo)
    settle()
    canvas = window.canvas
    canvas.zoom_in()
    zoom, centre = canvas.zoom, canvas.image_point_at(QPointF(canvas.rect().center()))
    window.resize(1000, 700)
    settle()
    assert canvas.zoom == zoom
    moved = canvas.image_point_at(QPointF(canvas.rect().center())) - centre
    assert abs(moved.x()) * zoom <= 1 and abs(moved.y()) * zoom <= 1
    canvas.zoom_fit()
    fitted = canvas.zoom
    window.resize(1280, 800)
    settle()
    assert canvas.zoom > fitted, "at fit the photo refits a larger canvas"


def test_variants_lie_over_the_canvas_and_leave_the_brush_in_sight(
        qtbot, make_window, sample_photo):
    """After a Replace the strip shows at the canvas's bottom edge; the Mask panel (the brush)
    stays on screen and a small window keeps its width."""
    window = make_window()
    window.resize(800, 600)
    assert open_photo(qtbot, window, sample_photo)
    settle()
    canvas_size = window.canvas.size()
    show_variants(window, variants(window.document.rgb, 8))
    settle()
    strip = window.variants_panel
    assert on_screen(strip) and on_screen(window.mask_dock)
    assert not window.mask_panel.size_slider.visibleRegion().isEmpty()
    canvas_rect = QRect(window.canvas.mapTo(window, QPoint(0, 0)), window.canvas.size())
    strip_rect = QRect(strip.mapTo(window, QPoint(0, 0)), strip.size())
    assert canvas_rect.contains(strip_rect) and strip_rect.bottom() == canvas_rect.bottom()
    assert window.canvas.size() == canvas_size and window.width() == 800
    show_variants(window, [])
    settle()
    assert not strip.isVisible()


def test_actions_that_need_a_photo_wait_for_one(qtbot, make_window, sample_photo):
    window = make_window()
    needs_photo = window.commands.photo_actions
    assert not any(action.isEnabled() for action in needs_photo)
    assert open_photo(qtbot, window, sample_photo)
    assert all(action.isEnabled() for action in needs_photo)


def test_the_generation_settings_are_one_collapsible_panel_bound_to_the_settings(
        qtbot, make_window, app_settings):
    window = make_window()
    panel = window.generation_panel
    assert window.generation_dock.isVisible()
    panel.set_expanded(True)
    panel.variants_spin.setValue(3)
    assert app_settings.variants == 3 and window.prompt_bar.variants_spin.value() == 3
    window.prompt_bar.variants_spin.setValue(2)
    assert panel.variants_spin.value() == 2


def test_a_layout_saved_by_an_older_version_is_not_restored(qtbot, make_window, app_settings):
    old = make_window()
    old.addDockWidget(Qt.LeftDockWidgetArea, old.candidate_dock)  # where it used to open
    old.candidate_dock.hide()
    old.close()  # saves its own layout, which an older version's replaces:
    app_settings.save_window(old.saveGeometry(), old.saveState(1))
    window = make_window()
    assert window.dockWidgetArea(window.candidate_dock) == Qt.RightDockWidgetArea
    assert window.tabifiedDockWidgets(window.candidate_dock) == [window.history_dock]


def test_opening_the_generation_panel_moves_neither_the_photo_nor_the_prompt_bar(
        qtbot, make_window, sample_photo):
    window = make_window()
    window.resize(1280, 800)
    assert open_photo(qtbot, window, sample_photo)
    settle()
    before, size = photo_on_screen(window), window.size()
    window.generation_panel.set_expanded(True)
    settle()
    assert window.generation_panel.body.isVisible()
    assert window.size() == size
    assert photo_on_screen(window) == before
