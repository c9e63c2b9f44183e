"""The Select tool in the window: clicks, Alt/right clicks and drags on the canvas become
click Finds; Tab cycles SAM's alternatives, Shift adds, Esc ends a selection, each answer
is one undo step; and once with the real tiny Segment Anything end to end.

`ClickAnswers` is the controlled predictor: the real engine, except that a click Find is
answered with masks made from the prompt (discs around the points on the object, holes
around those off it, the box filled), three sizes of them with known scores, so what
reaches the mask can be checked exactly.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF, Qt

from paintnoise_desktop.core.jobs import FindJob, MaskCandidate, Result, Status
from paintnoise_desktop.core.masks import bounding_box
from paintnoise_desktop.engine.find.sam_model import load_sam
from paintnoise_desktop.engine.models.device import pick_device
from paintnoise_desktop.engine.runner import Engine
from paintnoise_desktop.engine.settings import EngineSettings
from tests.engine.test_sam_reference import decisive
from tests.tinymodels.sam import build_sam
from tests.ui.conftest import photo

W, H = 160, 120
RADII = (12, 20, 6)  # the alternatives' disc radii, best first
SCORES = (0.9, 0.7, 0.5)


def prompt_mask(job: FindJob, radius: int) -> np.ndarray:
    ys, xs = np.mgrid[0:H, 0:W]
    mask = np.zeros((H, W), bool)
    if job.box is not None:
        x0, y0, x1, y1 = job.box
        mask[y0:y1, x0:x1] = True
    for x, y, positive in job.points:
        disc = (xs - x) ** 2 + (ys - y) ** 2 <= (radius if positive else radius // 2) ** 2
        mask = mask | disc if positive else mask & ~disc
    return mask.astype(np.uint8) * 255


class ClickAnswers(Engine):
    def __init__(self) -> None:
        super().__init__()
        self.jobs: list[FindJob] = []
        self.gate = threading.Event()  # cleared: hold each job until it is set again
        self.gate.set()

    def _dispatch(self, job, step, cancel) -> Result:
        assert isinstance(job, FindJob) and job.method == "points"
        self.jobs.append(job)
        while not self.gate.wait(0.01):
            step(0.0, "Looking at the photo")
        candidates = tuple(
            MaskCandidate(mask, score, bounding_box(mask), "click")
            for radius, score in zip(RADII, SCORES)
            if bounding_box(mask := prompt_mask(job, radius)) is not None)
        return Result(job.job_id, Status.FINISHED, candidates=candidates)


def open_photo(qtbot, window, tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(photo(W, H)).save(path)
    with qtbot.waitSignal(window.files.opened, timeout=30_000):
        assert window.files.open_photo(path)
    window.canvas.flush()


def settle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.jobs.running and not window.mask_steps.busy,
                    timeout=30_000)


def at(window, x: float, y: float):
    """The widget pixel showing photo point (x, y)."""
    return window.canvas.widget_point_of(QPointF(x, y)).toPoint()


def click(qtbot, window, x, y, button=Qt.LeftButton, modifiers=Qt.NoModifier):
    qtbot.mouseClick(window.canvas, button, modifiers, at(window, x, y))
    settle(qtbot, window)


@pytest.fixture
def clicking(qtbot, make_window, app_settings, tmp_path):
    app_settings.tight = True  # the raw masks, so they can be compared exactly
    engine = ClickAnswers()
    window = make_window(engine_factory=lambda settings: engine)
    open_photo(qtbot, window, tmp_path)
    qtbot.keyClick(window.canvas, Qt.Key_S)
    assert window.canvas.tool == "select"
    assert window.mask_panel.select_button.isChecked()
    return window, engine


def near(point, x, y) -> bool:
    return abs(point[0] - x) <= 1 and abs(point[1] - y) <= 1


def test_click_alt_click_and_right_click_make_points(qtbot, clicking):
    window, engine = clicking
    click(qtbot, window, 80, 60)
    click(qtbot, window, 84, 60, modifiers=Qt.AltModifier)
    click(qtbot, window, 70, 50, button=Qt.RightButton)
    points = engine.jobs[-1].points
    assert [positive for *_, positive in points] == [True, False, False]
    assert near(points[0], 80, 60) and near(points[1], 84, 60) and near(points[2], 70, 50)
    assert np.array_equal(window.document.mask, prompt_mask(engine.jobs[-1], RADII[0]))
    assert window.document.history.names[-1] == "Click: 3 points"
    assert window.document.history.top.recipe is None  # clicks, like strokes, are not replayed


def test_drag_draws_a_box(qtbot, clicking):
    window, engine = clicking
    canvas = window.canvas
    qtbot.mousePress(canvas, Qt.LeftButton, Qt.NoModifier, at(window, 30, 20))
    qtbot.mouseMove(canvas, at(window, 60, 40))
    qtbot.mouseMove(canvas, at(window, 90, 70))
    qtbot.mouseRelease(canvas, Qt.LeftButton, Qt.NoModifier, at(window, 90, 70))
    settle(qtbot, window)
    job = engine.jobs[-1]
    assert job.points == () and job.box is not None
    assert all(abs(a - b) <= 1 for a, b in zip(job.box, (30, 20, 90, 70)))
    assert np.array_equal(window.document.mask, prompt_mask(job, RADII[0]))


def test_tab_cycles_the_alternatives_in_the_same_undo_step(qtbot, clicking):
    window, engine = clicking
    click(qtbot, window, 80, 60)
    steps = len(window.document.history.names)
    for radius in (RADII[1], RADII[2], RADII[0]):
        qtbot.keyClick(window.canvas, Qt.Key_Tab)
        settle(qtbot, window)
        assert np.array_equal(window.document.mask, prompt_mask(engine.jobs[-1], radius))
        assert len(window.document.history.names) == steps
    assert window.canvas.hasFocus()  # Tab did not move the focus away
    assert len(engine.jobs) == 1  # cycling asks the engine nothing
    window.session.undo()
    assert not window.document.mask.any()


def test_each_click_is_one_undo_step_and_esc_ends_the_selection(qtbot, clicking):
    window, engine = clicking
    click(qtbot, window, 80, 60)
    first = window.document.mask.copy()
    click(qtbot, window, 100, 60)
    assert len(engine.jobs[-1].points) == 2
    window.session.undo()
    assert np.array_equal(window.document.mask, first)
    assert window.select_tool.selection.points == ()  # undo ended the selection
    click(qtbot, window, 40, 30)
    click(qtbot, window, 45, 30)
    qtbot.keyClick(window.canvas, Qt.Key_Escape)
    assert window.select_tool.selection.points == ()
    click(qtbot, window, 120, 90)
    assert len(engine.jobs[-1].points) == 1  # a new selection
    assert np.array_equal(window.document.mask, prompt_mask(engine.jobs[-1], RADII[0]))


def test_shift_click_adds_a_new_object_to_the_mask(qtbot, clicking):
    window, engine = clicking
    click(qtbot, window, 40, 30)
    left = window.document.mask.copy()
    click(qtbot, window, 120, 90, modifiers=Qt.ShiftModifier)
    right = prompt_mask(engine.jobs[-1], RADII[0])
    assert len(engine.jobs[-1].points) == 1
    assert np.array_equal(window.document.mask, np.maximum(left, right))
    assert window.document.history.names[-1] == "Add click: 1 point"
    click(qtbot, window, 125, 90)  # refines the added object; the first stays
    both = np.maximum(left, prompt_mask(engine.jobs[-1], RADII[0]))
    assert np.array_equal(window.document.mask, both)
    qtbot.keyClick(window.canvas, Qt.Key_Tab)
    settle(qtbot, window)
    assert np.array_equal(window.document.mask,
                          np.maximum(left, prompt_mask(engine.jobs[-1], RADII[1])))


def test_points_are_drawn_on_the_canvas(qtbot, clicking):
    window, _engine = clicking
    click(qtbot, window, 80, 60)
    click(qtbot, window, 40, 30, modifiers=Qt.AltModifier)
    shown = window.canvas.grab().toImage()
    green, red = shown.pixelColor(at(window, 80, 60)), shown.pixelColor(at(window, 40, 30))
    assert green.green() > 150 and green.red() < 120
    assert red.red() > 180 and red.green() < 100


@pytest.fixture(scope="module")
def sam_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    build_sam(root / "sam-vit-b")
    return root


def test_a_click_on_the_canvas_masks_through_the_real_tiny_sam(qtbot, make_window, app_settings,
                                                               sam_folder, tmp_path):
    """The real engine thread and engine, the tiny SAM loaded by the app's loader: the
    mask is SamPredictor's best for the clicked point; a second click reuses the embedding."""
    from segment_anything import SamPredictor

    app_settings.tight = True
    settings = EngineSettings(models_dir=sam_folder)

    def real_engine(_settings):
        engine = Engine(settings)
        device = pick_device(settings)
        engine.models.get(f"sam-vit-b@{device}", lambda: decisive(
            load_sam(sam_folder / "sam-vit-b", "sam-vit-b", device)))
        return engine

    window = make_window(engine_factory=real_engine)
    open_photo(qtbot, window, tmp_path)
    window.set_tool("select")
    messages = []
    window.bridge.progress.connect(lambda progress: messages.append(progress.message))
    click(qtbot, window, 80, 60)
    assert "Looking at the photo" in messages
    mask = window.document.mask
    assert mask.any() and window.session.found.candidates[0].source == "click"

    point = window.select_tool.selection.points[0]
    sam = decisive(load_sam(sam_folder / "sam-vit-b", "sam-vit-b", pick_device(settings)))
    predictor = SamPredictor(sam)
    predictor.set_image(window.document.rgb)
    masks, quality, _ = predictor.predict(point_coords=np.array([point[:2]]),
                                          point_labels=np.array([1]), multimask_output=True)
    assert np.array_equal(mask > 0, masks[int(np.argmax(quality))])

    messages.clear()
    click(qtbot, window, 100, 60, modifiers=Qt.AltModifier)
    assert "Looking at the photo" not in messages
    assert window.document.history.names[-1] == "Click: 2 points"


def test_clicks_made_while_one_runs_keep_only_the_newest_and_shift_keeps_the_first(
        qtbot, clicking):
    window, engine = clicking
    engine.gate.clear()  # the first click waits, as for the embedding on a CPU
    qtbot.mouseClick(window.canvas, Qt.LeftButton, Qt.NoModifier, at(window, 40, 30))
    qtbot.waitUntil(lambda: len(engine.jobs) == 1, timeout=10_000)
    for x in (44, 48):  # two more points on the same object, queued
        qtbot.mouseClick(window.canvas, Qt.LeftButton, Qt.NoModifier, at(window, x, 30))
    qtbot.mouseClick(window.canvas, Qt.LeftButton, Qt.ShiftModifier, at(window, 120, 90))
    assert len(window.jobs.queue.queued) == 2  # the 3-point Find stands for the 2-point one
    engine.gate.set()
    settle(qtbot, window)
    assert [len(job.points) for job in engine.jobs] == [1, 3, 1]
    first = prompt_mask(engine.jobs[1], RADII[0])
    assert np.array_equal(window.document.mask,
                          np.maximum(first, prompt_mask(engine.jobs[2], RADII[0])))
    assert window.document.history.names[-2:] == ["Click: 3 points", "Add click: 1 point"]
