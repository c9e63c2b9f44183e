"""The real window, driven as a user would: open, paint, replace, undo, redo, save, reopen."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QListWidget

from paintnoise_desktop.core import masks
from paintnoise_desktop.core.document import Document
from paintnoise_desktop.core.jobs import (
    FindJob,
    LoadModelJob,
    MaskCandidate,
    Progress,
    Result,
    Status,
)
from paintnoise_desktop.engine.runner import Engine
from paintnoise_desktop.ui.app_settings import MAX_RECENT
from paintnoise_desktop.ui.dialogs import UnsavedChoice
from paintnoise_desktop.ui.edit_jobs import NEED_MASK
from paintnoise_desktop.ui.job_queue import JobState
from paintnoise_desktop.ui.main_window import MainWindow
from paintnoise_desktop.ui.run import run_app

from .conftest import ACCEPT_SUGGESTION, SlowEngine, photo

WAIT_MS = 30_000


def widget_point(window, x: int, y: int) -> QPoint:
    """Where the canvas shows image pixel (x, y)."""
    return window.canvas.widget_rect_of((x, y, x + 1, y + 1)).center()


def paint_stroke(qtbot, window, points: list[tuple[int, int]]) -> None:
    canvas = window.canvas
    qtbot.mousePress(canvas, Qt.LeftButton, pos=widget_point(window, *points[0]))
    for x, y in points[1:]:
        qtbot.mouseMove(canvas, pos=widget_point(window, x, y))
    qtbot.mouseRelease(canvas, Qt.LeftButton, pos=widget_point(window, *points[-1]))


def mask_operation(qtbot, window, operation: str, px: int = 0) -> None:
    """A mask operation, computed off the GUI thread: wait until it is one step of history."""
    window.mask_steps.operate(operation, px)
    settle(qtbot, window)


def settle(qtbot, window) -> None:
    """Wait until no mask is being computed (the newest one, if any, has been applied)."""
    qtbot.waitUntil(lambda: not window.mask_steps.busy, timeout=WAIT_MS)


def open_photo(qtbot, window, path) -> bool:
    """Open `path` as the user would (read on a worker thread); whether it is shown now."""
    opened = qtbot.waitSignal(window.files.opened, timeout=WAIT_MS)
    if not window.files.open_photo(path):
        return False
    opened.wait()
    return opened.args[0]


def saved(qtbot, window, save) -> bool:
    """Call `save` (e.g. window.files.save) and wait until the worker wrote the photo."""
    done = qtbot.waitSignal(window.files.saved, timeout=WAIT_MS)
    if not save():
        return False
    done.wait()
    return done.args[0]


def open_with_stroke(qtbot, window, path: Path) -> Document:
    assert open_photo(qtbot, window, path)
    document = window.document
    w, h = document.width, document.height
    window.mask_panel.size_slider.setValue(max(4, w // 40))
    paint_stroke(qtbot, window, [(w // 3, h // 2), (w // 2, h // 2), (w // 2, h // 3)])
    assert document.mask.any()
    return document


def remove_masked(qtbot, window) -> None:
    """Remove what the mask covers (the offline inpainter): a pixel edit, one undo step."""
    with qtbot.waitSignal(window.bridge.finished, timeout=WAIT_MS) as finished:
        window.jobs.replace("", "")
    assert finished.args[0].ok, finished.args[0].message


def test_paint_replace_undo_redo_save_and_reopen(qtbot, make_window, dialogs, sample_photo):
    window = make_window()
    source_bytes = sample_photo.read_bytes()
    document = open_with_stroke(qtbot, window, sample_photo)
    assert window.windowTitle() == "sample.jpg \u2014 PaintNoise Desktop"  # the mask isn't saved
    assert window.history_panel.count() == 2  # "Open photo", "Brush"
    before = document.rgb.copy()
    mask = document.mask.copy()

    window.prompt_bar.replace_edit.setText("")
    with qtbot.waitSignal(window.bridge.finished, timeout=WAIT_MS) as finished:
        qtbot.mouseClick(window.prompt_bar.replace_button, Qt.LeftButton)
    assert finished.args[0].ok, finished.args[0].message
    after = document.rgb.copy()
    assert np.array_equal(after[mask == 0], before[mask == 0])
    assert not np.array_equal(after[mask > 0], before[mask > 0])
    assert document.history.names[-1] == "Remove"
    assert window.windowTitle() == "sample.jpg* \u2014 PaintNoise Desktop"
    assert [window.history_panel.item(i).text() for i in range(3)] == [
        "Open photo", "Brush", "Remove"]

    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    assert np.array_equal(document.rgb, before)
    assert np.array_equal(document.mask, mask)
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert np.array_equal(document.rgb, after)

    dialogs.save_answers = [ACCEPT_SUGGESTION]
    with qtbot.waitSignal(window.files.saved, timeout=WAIT_MS):
        qtbot.keyClick(window, Qt.Key_S, Qt.ControlModifier)
    exported = sample_photo.with_name("sample-edited.jpg")
    assert dialogs.save_suggestions == [str(exported)]
    assert exported.is_file()
    assert sample_photo.read_bytes() == source_bytes
    assert window.windowTitle() == "sample-edited.jpg \u2014 PaintNoise Desktop"
    reopened = Document.open(exported)
    assert reopened.rgb.shape == after.shape
    assert np.abs(reopened.rgb.astype(int) - after).mean() < 3  # JPEG, quality 95

    lossless = sample_photo.with_name("exact.png")
    dialogs.save_answers = [str(lossless)]
    with qtbot.waitSignal(window.files.saved, timeout=WAIT_MS):
        qtbot.keyClick(window, Qt.Key_S, Qt.ControlModifier | Qt.ShiftModifier)
    assert np.array_equal(Document.open(lossless).rgb, after)
    assert sample_photo.read_bytes() == source_bytes


def test_second_save_writes_where_the_first_went_without_asking(qtbot, make_window, dialogs,
                                                                 sample_photo):
    window = make_window()
    document = open_with_stroke(qtbot, window, sample_photo)
    target = sample_photo.with_name("out.png")
    dialogs.save_answers = [str(target)]
    assert saved(qtbot, window, window.files.save)
    mask_operation(qtbot, window, "grow", 3)
    assert not document.is_dirty  # the mask is not saved with the photo
    remove_masked(qtbot, window)
    assert document.is_dirty
    assert saved(qtbot, window, window.files.save)
    assert dialogs.save_suggestions == [str(sample_photo.with_name("sample-edited.jpg"))]
    assert not document.is_dirty


def test_a_broken_file_shows_the_error_and_keeps_the_photo(qtbot, make_window, sample_photo):
    window = make_window()
    assert open_photo(qtbot, window, sample_photo)
    document = window.document
    broken = sample_photo.with_name("broken.jpg")
    broken.write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")
    assert not open_photo(qtbot, window, broken)
    assert window.document is document
    assert window.error_box.isVisible()
    assert "broken.jpg" in window.error_box.text()
    assert not open_photo(qtbot, window, sample_photo.with_name("missing.jpg"))
    assert window.document is document
    assert window.isVisible()


def test_unsaved_changes_ask_before_another_photo_replaces_them(qtbot, make_window, dialogs,
                                                                sample_photo, tmp_path):
    window = make_window()
    other = tmp_path / "other.png"
    Image.fromarray(photo(64, 48)).save(other)
    document = open_with_stroke(qtbot, window, sample_photo)
    remove_masked(qtbot, window)

    dialogs.unsaved_answers = [UnsavedChoice.CANCEL]
    assert not open_photo(qtbot, window, other)
    assert window.document is document and document.is_dirty
    assert dialogs.unsaved_asked == ["sample.jpg"]

    dialogs.unsaved_answers = [UnsavedChoice.SAVE]
    dialogs.save_answers = [None]  # the user closes the save dialog: nothing happens
    assert not open_photo(qtbot, window, other)
    assert window.document is document

    dialogs.unsaved_answers = [UnsavedChoice.SAVE]
    dialogs.save_answers = [ACCEPT_SUGGESTION]
    assert open_photo(qtbot, window, other)
    assert sample_photo.with_name("sample-edited.jpg").is_file()
    assert window.document.path == other

    mask_operation(qtbot, window, "invert", 0)
    assert "*" not in window.windowTitle()  # the mask is not saved with the photo ...
    assert open_photo(qtbot, window, sample_photo)  # ... but it is work to ask about
    assert dialogs.unsaved_asked == ["sample.jpg"] * 3 + ["other.png"]
    assert window.document.path == sample_photo and not window.document.is_dirty
    assert open_photo(qtbot, window, other)  # no mask, no change: nothing to ask
    assert len(dialogs.unsaved_asked) == 4


def test_closing_with_unsaved_changes_can_be_cancelled(qtbot, make_window, dialogs,
                                                       sample_photo):
    window = make_window()
    open_with_stroke(qtbot, window, sample_photo)
    remove_masked(qtbot, window)
    dialogs.unsaved_answers = [UnsavedChoice.CANCEL]
    assert not window.close()
    assert window.isVisible() and window.bridge.busy is False
    dialogs.unsaved_answers = [UnsavedChoice.DISCARD]
    assert window.close()


def test_closing_with_a_brushed_mask_asks_though_the_title_has_no_star(
        qtbot, make_window, dialogs, sample_photo, tmp_path):
    window = make_window()
    document = open_with_stroke(qtbot, window, sample_photo)
    assert "*" not in window.windowTitle() and not document.is_dirty
    dialogs.unsaved_answers = [UnsavedChoice.CANCEL]
    assert not window.close() and dialogs.unsaved_asked == ["sample.jpg"]
    window.session.undo()  # no mask left: nothing to lose
    assert window.close() and dialogs.unsaved_asked == ["sample.jpg"]


def test_a_saved_photo_with_its_mask_closes_without_asking(qtbot, make_window, dialogs,
                                                           sample_photo):
    window = make_window()
    open_with_stroke(qtbot, window, sample_photo)
    remove_masked(qtbot, window)
    dialogs.save_answers = [ACCEPT_SUGGESTION]
    assert saved(qtbot, window, window.files.save)
    assert window.close() and dialogs.unsaved_asked == []


def test_recent_files_newest_first_pruned_and_capped(qtbot, make_window, app_settings, tmp_path):
    window = make_window()
    paths = []
    for index in range(MAX_RECENT + 2):
        path = tmp_path / f"photo{index}.png"
        Image.fromarray(photo(32, 24, seed=index)).save(path)
        paths.append(path)
        assert open_photo(qtbot, window, path)
    recent = app_settings.recent_files()
    assert recent == [str(p.resolve()) for p in reversed(paths)][:MAX_RECENT]
    paths[-1].unlink()
    assert app_settings.recent_files()[0] == str(paths[-2].resolve())

    menu = window.commands.recent_menu
    menu.aboutToShow.emit()
    titles = [action.text() for action in menu.actions() if action.text()]
    assert titles[0] == paths[-2].name and "Clear List" in titles
    with qtbot.waitSignal(window.files.opened, timeout=WAIT_MS):
        next(a for a in menu.actions() if a.text() == paths[-3].name).trigger()
    assert window.document.path == paths[-3]


def test_replace_with_no_mask_and_no_words_says_what_to_do(qtbot, make_window, sample_photo):
    window = make_window()
    assert open_photo(qtbot, window, sample_photo)
    window.prompt_bar.find_edit.setText("")
    qtbot.mouseClick(window.prompt_bar.replace_button, Qt.LeftButton)
    assert window.statusBar().currentMessage() == NEED_MASK
    assert not window.bridge.busy


def test_mask_operations_are_single_undo_steps(qtbot, make_window, sample_photo):
    window = make_window()
    document = open_with_stroke(qtbot, window, sample_photo)
    painted = document.mask.copy()
    window.mask_panel.amount_spin.setValue(5)
    qtbot.mouseClick(window.mask_panel.operation_buttons["grow"], Qt.LeftButton)
    assert not window.mask_panel.operation_buttons["invert"].isEnabled()  # one at a time
    settle(qtbot, window)
    assert window.mask_panel.operation_buttons["invert"].isEnabled()
    grown = document.mask.copy()
    assert (grown >= painted).all() and grown.sum() > painted.sum()
    assert document.history.names[-1] == "Grow mask 5 px"
    qtbot.mouseClick(window.mask_panel.operation_buttons["clear"], Qt.LeftButton)
    settle(qtbot, window)
    assert not document.mask.any()
    window.session.undo()
    assert np.array_equal(document.mask, grown)
    window.session.undo()
    assert np.array_equal(document.mask, painted)


def test_history_rows_undo_and_redo_to_that_step(qtbot, make_window, sample_photo):
    window = make_window()
    document = open_with_stroke(qtbot, window, sample_photo)
    mask_operation(qtbot, window, "grow", 4)
    mask_operation(qtbot, window, "invert", 0)
    inverted = document.mask.copy()
    view = window.history_panel
    assert view.currentRow() == 3
    view.setCurrentRow(0)
    assert not document.mask.any() and document.history.index == 0
    assert window.windowTitle() == "sample.jpg \u2014 PaintNoise Desktop"
    view.setCurrentRow(3)
    assert np.array_equal(document.mask, inverted)


def test_brush_size_follows_the_slider_and_the_canvas(qtbot, make_window, app_settings):
    window = make_window()
    slider = window.findChild(type(window.mask_panel.size_slider), "brushSizeSlider")
    slider.setValue(55)
    assert window.canvas.brush_size == 55
    window.canvas.set_brush_size(70)
    assert slider.value() == 70
    assert app_settings.brush_size == 70


def test_a_cancelled_replace_leaves_the_photo_untouched(qtbot, make_window, sample_photo):
    window = make_window(engine_factory=lambda settings: SlowEngine(seconds=30))
    document = open_with_stroke(qtbot, window, sample_photo)
    before, steps = document.rgb.copy(), document.history.names
    with qtbot.waitSignal(window.bridge.progress, timeout=WAIT_MS):
        qtbot.mouseClick(window.prompt_bar.replace_button, Qt.LeftButton)
    assert window.prompt_bar.cancel_button.isEnabled()
    assert window.prompt_bar.progress_bar.isVisible()
    with qtbot.waitSignal(window.bridge.finished, timeout=5_000):
        qtbot.keyClick(window.prompt_bar.find_edit, Qt.Key_Escape)
    assert np.array_equal(document.rgb, before) and document.history.names == steps
    assert "Cancelled" in window.statusBar().currentMessage()
    assert not window.prompt_bar.cancel_button.isEnabled()


def test_a_replace_asked_for_while_one_runs_is_queued_and_runs_after_it(
        qtbot, make_window, sample_photo):
    window = make_window()
    document = open_with_stroke(qtbot, window, sample_photo)
    first = window.jobs.replace("", "")
    second = window.jobs.replace("", "")
    assert window.queue_label.text() == "Remove \u00b7 1 queued: Remove"
    assert "Remove queued" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: second.state is JobState.FINISHED, timeout=WAIT_MS)
    assert first.state is JobState.FINISHED and first.revision != second.revision
    assert document.history.names[:2] == ["Brush", "Remove"]  # the second may change nothing
    assert window.queue_label.text() == ""


def test_a_missing_model_is_reported_and_offered_for_download(qtbot, make_window, app_settings,
                                                               dialogs, sample_photo):
    app_settings.inpainter = "sd15-inpainting"
    window = make_window()
    document = open_with_stroke(qtbot, window, sample_photo)
    before = document.rgb.copy()
    with qtbot.waitSignal(window.modelMissing, timeout=WAIT_MS) as missing:
        window.jobs.replace("", "a wooden bench")
    assert missing.args == [("sd15-inpainting",)]
    assert dialogs.download_offers == [("sd15-inpainting",)]
    assert window.statusBar().currentMessage() == (
        "Stable Diffusion 1.5 inpainting is not installed; the photo is unchanged.")
    assert np.array_equal(document.rgb, before)


def test_the_download_offer_comes_after_the_failed_job_has_ended(qtbot, make_window, app_settings,
                                                                  dialogs, sample_photo):
    """The offer is a modal question: while it is open the window must not show the job as
    running (a Cancel button for nothing, the queue label naming it)."""
    app_settings.inpainter = "sd15-inpainting"
    window = make_window()
    open_with_stroke(qtbot, window, sample_photo)
    seen = []
    dialogs.offer_model_download = lambda parent, ids, bridge: seen.append(
        (window.jobs.queue.running, window.queue_label.text()))
    job = window.jobs.replace("", "a wooden bench")
    qtbot.waitUntil(lambda: bool(seen), timeout=WAIT_MS)
    assert seen == [(None, "")] and job.state is JobState.FAILED


class RecordingEngine(Engine):
    """The real engine, remembering every job it was handed."""

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self.jobs = []

    def run(self, job, report, cancel):
        self.jobs.append(job)
        return super().run(job, report, cancel)


def test_settings_reach_the_next_jobs_and_the_engine(qtbot, make_window, app_settings):
    engines = []

    def make_engine(settings) -> RecordingEngine:
        engines.append(RecordingEngine(settings))
        return engines[-1]

    window = make_window(engine_factory=make_engine)
    dialog = window.open_settings()
    dialog.inpainter_combo.setCurrentIndex(dialog.inpainter_combo.findData("opencv-ns"))
    dialog.device_combo.setCurrentText("cpu")
    dialog.steps_spin.setValue(7)
    dialog.accept()
    assert app_settings.inpainter == "opencv-ns"
    assert window.bridge.settings.device == "cpu"
    removers = window.generation_panel.remover_combo  # removing paints with "Remove with"
    removers.setCurrentIndex(removers.findData("opencv-ns"))
    document = Document.from_array(photo(64, 48))
    window.session.open(document)
    document.apply("Square", (20, 15, 40, 30), mask=np.full((15, 20), 255, np.uint8))
    remove_masked(qtbot, window)
    [engine] = engines
    assert engine.settings.device == "cpu"
    assert (engine.jobs[0].inpainter, engine.jobs[0].steps) == ("opencv-ns", 7)


@pytest.mark.parametrize("key_held", [True, False])
def test_compare_shows_the_original_while_held(qtbot, make_window, sample_photo, key_held):
    window = make_window()
    assert open_photo(qtbot, window, sample_photo)
    original = window.document.rgb.copy()
    assert np.array_equal(window.session.original, original)
    shown = []
    window.canvas.set_showing_original = shown.append
    if key_held:
        qtbot.keyPress(window, Qt.Key_Backslash)
        assert window.session.display_image is window.session.original
        qtbot.keyRelease(window, Qt.Key_Backslash)
    else:
        button = window.toolbar.widgetForAction(window.commands.show_original)
        qtbot.mousePress(button, Qt.LeftButton)
        assert window.session.showing_original
        qtbot.mouseRelease(button, Qt.LeftButton)
    assert shown == [True, False] and window.session.display_image is None


@pytest.mark.slow
def test_replace_with_only_words_finds_then_repaints_in_one_gesture(qtbot, make_window,
                                                                     models_env, tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(photo(128, 96)).save(path)
    window = make_window()
    assert open_photo(qtbot, window, path)
    document = window.document
    before = document.rgb.copy()
    window.prompt_bar.find_edit.setText("yellow square, not background")
    window.prompt_bar.replace_edit.setText("")
    qtbot.mouseClick(window.prompt_bar.replace_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(document.history.names) == 2, timeout=120_000)
    assert document.history.names == ["Find: yellow square, not background",
                                      "Remove: yellow square"]
    assert document.mask.any()
    outside = document.mask == 0
    assert np.array_equal(document.rgb[outside], before[outside])
    window.session.undo()
    assert np.array_equal(document.rgb, before) and document.mask.any()
    window.session.undo()
    assert not document.mask.any()


def test_a_photo_dropped_on_the_window_opens(qtbot, make_window, sample_photo):
    window = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(sample_photo))])
    position = QPointF(window.canvas.mapTo(window, window.canvas.rect().center()))
    enter = QDragEnterEvent(position.toPoint(), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(position, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    with qtbot.waitSignal(window.files.opened, timeout=WAIT_MS):
        QApplication.sendEvent(window, drop)
    assert window.document is not None and window.document.path == sample_photo


def test_run_app_opens_the_photo_given_on_the_command_line(qtbot, sample_photo):
    seen = []

    def look_and_close() -> None:
        [window] = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)
                    and w.isVisible()]
        if window.document is None:  # still being read
            QTimer.singleShot(10, look_and_close)
            return
        seen.append(window.document.path)
        window.close()

    QTimer.singleShot(0, look_and_close)
    assert run_app(str(sample_photo)) == 0
    assert seen == [sample_photo]


def test_brush_size_and_window_layout_are_remembered(qtbot, make_window, app_settings):
    first = make_window()
    first.mask_panel.size_slider.setValue(33)
    first.mask_dock.hide()
    first.close()
    second = make_window()
    assert second.canvas.brush_size == 33
    assert second.mask_panel.size_slider.value() == 33
    assert not second.mask_dock.isVisible() and second.history_dock.isVisible()


def test_previews_show_in_place_while_a_job_runs_and_go_when_it_ends(qtbot, make_window,
                                                                     sample_photo):
    window = make_window()
    document = open_with_stroke(qtbot, window, sample_photo)
    window.set_overlay_visible(False)
    w, h = document.width, document.height
    inside = window.canvas.widget_rect_of((5 * w // 12, 5 * h // 12, 5 * w // 12 + 1,
                                           5 * h // 12 + 1)).center()

    def shown():
        colour = window.canvas.grab().toImage().pixelColor(inside)
        return colour.red(), colour.green(), colour.blue()

    before = shown()
    window.show_progress(Progress(1, 0.5, "Painting 5/10"))
    assert window.prompt_bar.progress_bar.value() == 500
    assert window.statusBar().currentMessage() == "Painting 5/10"
    window.session.set_live_preview(np.full((32, 48, 3), (0, 0, 255), np.uint8))
    assert shown() == (0, 0, 255)  # drawn over the region being painted
    window.session.set_live_preview(None)
    assert shown() == before


class KnownAnswerEngine(Engine):
    """The real engine, except that Find answers with candidates fixed in advance.

    Random-weight models propose arbitrary masks; the window's handling of several
    candidates (the strip, switching, adding) needs candidates whose masks are known.
    """

    def __init__(self, candidates: tuple[MaskCandidate, ...]) -> None:
        super().__init__()
        self.candidates = candidates

    def _dispatch(self, job, step, cancel) -> Result:
        if isinstance(job, FindJob):
            step(0.5, "Ranking")
            return Result(job.job_id, Status.FINISHED, candidates=self.candidates)
        return super()._dispatch(job, step, cancel)


def square(x0: int, y0: int, size: int, shape=(48, 64)) -> MaskCandidate:
    """A candidate at half the photo's size (working resolution), as Find returns them."""
    mask = np.zeros(shape, np.uint8)
    mask[y0:y0 + size, x0:x0 + size] = 255
    return MaskCandidate(mask, 0.0, (2 * x0, 2 * y0, 2 * (x0 + size), 2 * (y0 + size)), "segclip")


def found_mask(candidates, settings, *chosen: int, size=(128, 96)) -> np.ndarray:
    return masks.mask_from_candidates([candidates[i].mask for i in chosen], *size, settings)


def on_screen(dock) -> bool:
    """Whether the dock is shown: a tab under another is moved off screen, not hidden."""
    return dock.isVisible() and not dock.visibleRegion().isEmpty()


def open_synthetic(qtbot, window, tmp_path, width: int = 128, height: int = 96) -> Document:
    path = tmp_path / "photo.png"
    Image.fromarray(photo(width, height)).save(path)
    assert open_photo(qtbot, window, path)
    return window.document


def click_candidate(qtbot, window, row: int, modifier=Qt.NoModifier) -> None:
    listed = window.candidate_panel.list
    qtbot.mouseClick(listed.viewport(), Qt.LeftButton, modifier,
                     pos=listed.visualItemRect(listed.item(row)).center())


def wait_for_step(qtbot, window, name: str, steps: int) -> None:
    """Wait until the history has `steps` steps, the last one named `name`, and nothing pends."""
    history = window.document.history
    qtbot.waitUntil(lambda: history.index == steps and history.names[-1] == name
                    and not window.mask_steps.busy, timeout=WAIT_MS)


def test_find_shows_candidates_and_clicking_another_makes_it_the_mask(qtbot, make_window,
                                                                       app_settings, tmp_path):
    candidates = (replace(square(4, 4, 10), score=0.7), replace(square(40, 20, 12), score=0.2))
    settings = app_settings.mask_settings
    window = make_window(engine_factory=lambda settings: KnownAnswerEngine(candidates))
    document = open_synthetic(qtbot, window, tmp_path)
    assert not on_screen(window.candidate_dock)
    window.prompt_bar.find_edit.setText("yellow square")
    qtbot.keyClick(window.prompt_bar.find_edit, Qt.Key_Return)
    wait_for_step(qtbot, window, "Find: yellow square", 1)
    assert document.history.names == ["Find: yellow square"]
    assert np.array_equal(document.mask, found_mask(candidates, settings, 0))
    assert document.mask[8:28, 8:28].min() > 127 and not document.mask[40:64, 80:104].any()
    listed = window.findChild(QListWidget, "candidateList")
    assert on_screen(window.candidate_dock) and listed.count() == 2
    assert [index.row() for index in listed.selectedIndexes()] == [0]

    click_candidate(qtbot, window, 1)
    wait_for_step(qtbot, window, "Candidate 2: yellow square", 2)
    assert np.array_equal(document.mask, found_mask(candidates, settings, 1))
    assert document.mask[40:64, 80:104].min() > 127 and not document.mask[8:28, 8:28].any()
    click_candidate(qtbot, window, 0, Qt.ControlModifier)
    wait_for_step(qtbot, window, "Candidates 1, 2: yellow square", 3)
    assert np.array_equal(document.mask, found_mask(candidates, settings, 0, 1))
    window.session.undo()
    window.session.undo()
    assert np.array_equal(document.mask, found_mask(candidates, settings, 0))

    open_photo(qtbot, window, document.path)
    assert not on_screen(window.candidate_dock) and listed.count() == 0
    assert on_screen(window.history_dock)


def test_single_key_shortcuts_do_not_steal_typing(qtbot, make_window, sample_photo):
    window = make_window()
    assert open_photo(qtbot, window, sample_photo)
    window.prompt_bar.find_edit.setFocus()
    qtbot.keyClicks(window.prompt_bar.find_edit, "member")
    assert window.prompt_bar.find_edit.text() == "member"
    assert window.canvas.overlay_visible and window.canvas.tool == "add"
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key_E)
    qtbot.keyClick(window.canvas, Qt.Key_M)
    assert window.canvas.tool == "erase" and not window.canvas.overlay_visible
    assert window.mask_panel.erase_button.isChecked()
    assert not window.mask_panel.overlay_check.isChecked()


@pytest.mark.slow
def test_replace_variants_are_compared_and_swapped_within_one_undo_step(
        qtbot, make_window, app_settings, models_env, tmp_path):
    app_settings.inpainter = "sd2-inpainting"
    app_settings.qsettings.setValue("inpaint/steps", 2)
    path = tmp_path / "photo.png"
    Image.fromarray(photo(96, 64)).save(path)
    window = make_window()
    window.prompt_bar.variants_spin.setValue(2)
    assert app_settings.variants == 2
    document = open_with_stroke(qtbot, window, path)
    before = document.rgb.copy()
    with qtbot.waitSignal(window.bridge.finished, timeout=120_000) as finished:
        window.jobs.replace("", "a wooden bench")
    result = finished.args[0]
    assert result.ok, result.message
    first, second = result.variants
    assert not np.array_equal(first.image, second.image)
    assert window.variants_panel.isVisible() and window.variants_panel.list.count() == 2
    assert np.array_equal(document.rgb, first.image)

    shown = []
    window.canvas.set_display_override = lambda rgb, box=None: shown.append(rgb)
    window.variants_panel.previewRequested.emit(1)
    window.variants_panel.previewRequested.emit(-1)
    assert shown[0] is second.image and shown[1] is None

    window.variants_panel.variantChosen.emit(1)
    assert np.array_equal(document.rgb, second.image)
    assert document.history.names == ["Brush", "Replace with: a wooden bench"]
    window.session.undo()
    assert np.array_equal(document.rgb, before)


def test_cancel_in_the_prompt_bar_leaves_other_jobs_alone(qtbot, make_window, sample_photo):
    window = make_window(engine_factory=lambda settings: SlowEngine(seconds=0.5))
    assert open_photo(qtbot, window, sample_photo)
    download = window.bridge.submit(lambda job_id: LoadModelJob(job_id, "sd2-inpainting"))
    assert not window.prompt_bar.cancel_button.isEnabled()
    mask_operation(qtbot, window, "invert", 0)
    replace_id = window.jobs.replace("", "").engine_id
    assert window.prompt_bar.cancel_button.isEnabled()
    results = {}
    window.bridge.finished.connect(lambda result: results.update({result.job_id: result.status}))
    qtbot.mouseClick(window.prompt_bar.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(results) == 2, timeout=WAIT_MS)
    assert results == {download: Status.FINISHED, replace_id: Status.CANCELLED}
    assert not window.prompt_bar.cancel_button.isEnabled()


def test_save_as_may_write_over_the_original_when_the_user_picks_it(qtbot, make_window, dialogs,
                                                                     sample_photo):
    window = make_window()
    document = open_with_stroke(qtbot, window, sample_photo)
    remove_masked(qtbot, window)
    dialogs.save_answers = [str(sample_photo)]
    with qtbot.waitSignal(window.files.saved, timeout=WAIT_MS):
        window.commands.save_as.trigger()
    assert dialogs.save_suggestions == [str(sample_photo.with_name("sample-edited.jpg"))]
    assert np.abs(Document.open(sample_photo).rgb.astype(int) - document.rgb).mean() < 3
    assert window.windowTitle() == "sample.jpg \u2014 PaintNoise Desktop"


def test_a_failed_save_says_why_and_keeps_the_changes(qtbot, make_window, dialogs, sample_photo):
    window = make_window()
    document = open_with_stroke(qtbot, window, sample_photo)
    remove_masked(qtbot, window)
    dialogs.save_answers = [str(sample_photo.parent / "no such folder" / "out.jpg")]
    assert not saved(qtbot, window, window.files.save)
    assert window.error_box.isVisible() and window.error_box.text()
    assert document.is_dirty and window.windowTitle().startswith("sample.jpg*")


def test_focus_returns_to_the_canvas_when_a_replace_waits_for_the_mask(qtbot, make_window,
                                                                       tmp_path):
    window = make_window()
    document = open_synthetic(qtbot, window, tmp_path)
    window.session.apply("Square", (40, 30, 80, 60), mask=np.full((30, 40), 255, np.uint8))
    window.mask_steps.operate("grow", 2)
    assert window.mask_steps.busy
    field = window.prompt_bar.replace_edit
    field.setFocus()
    qtbot.keyClick(field, Qt.Key_Return)  # empty: remove what the mask covers
    assert window.statusBar().currentMessage() == "Replacing once the mask is ready\u2026"
    assert window.canvas.hasFocus()
    qtbot.waitUntil(lambda: document.history.names[-1] == "Remove", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.jobs.running, timeout=WAIT_MS)
