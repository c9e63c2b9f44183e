"""Qt test setup: settings in a temporary INI file, windows that always shut their engine down."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings

from paintnoise_desktop.core.box import slices
from paintnoise_desktop.core.jobs import InpaintJob, InpaintVariant, Result, Status
from paintnoise_desktop.engine.runner import Engine
from paintnoise_desktop.ui.app_settings import AppSettings
from paintnoise_desktop.ui.canvas import Canvas
from paintnoise_desktop.ui.dialogs import Dialogs, UnsavedChoice
from paintnoise_desktop.ui.engine_bridge import EngineBridge
from paintnoise_desktop.ui.main_window import MainWindow
from paintnoise_desktop.ui.recovery_dialog import RecoveryAnswer

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample.jpg"


@pytest.fixture(autouse=True)
def _isolated_qsettings(tmp_path: Path):
    """No test reads or writes the user's real settings."""
    QSettings.setDefaultFormat(QSettings.IniFormat)
    for settings_format in (QSettings.IniFormat, QSettings.NativeFormat):
        QSettings.setPath(settings_format, QSettings.UserScope, str(tmp_path / "qsettings"))
    yield


@pytest.fixture
def app_settings(tmp_path: Path) -> AppSettings:
    return AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))


ACCEPT_SUGGESTION = "<accept the suggested name>"


class ScriptedDialogs(Dialogs):
    """The user's answers to the window's modal questions, given in advance; records the asks."""

    def __init__(self) -> None:
        self.open_answers: list[str | None] = []
        self.save_answers: list[str | None] = []
        self.unsaved_answers: list[UnsavedChoice] = []
        self.save_suggestions: list[str] = []
        self.unsaved_asked: list[str] = []
        self.download_offers: list[tuple[str, ...]] = []
        self.remover_offers = 0
        self.remover_answers: list[bool] = []  # offer_remover: True to remove with what is there
        self.project_open_answers: list[str | None] = []
        self.mask_open_answers: list[str | None] = []
        self.mask_save_answers: list[str | None] = []
        self.project_save_answers: list[str | None] = []
        self.project_save_suggestions: list[str] = []
        # "recover" (the ticked ones: all), "discard" (all), "later", or indices to recover.
        self.recovery_answers: list[str | tuple[int, ...]] = []
        self.recovery_offers: list[list] = []  # the RecoveryOffers each ask showed

    def open_path(self, parent, directory: str) -> str | None:
        return self.open_answers.pop(0)

    def save_path(self, parent, suggested: str) -> str | None:
        self.save_suggestions.append(suggested)
        answer = self.save_answers.pop(0)
        return suggested if answer == ACCEPT_SUGGESTION else answer

    def unsaved_changes(self, parent, name: str) -> UnsavedChoice:
        self.unsaved_asked.append(name)
        # Unscripted (closing the window at the end of a test): throw the changes away.
        return self.unsaved_answers.pop(0) if self.unsaved_answers else UnsavedChoice.DISCARD

    def offer_model_download(self, parent, model_ids: tuple[str, ...], bridge) -> None:
        self.download_offers.append(model_ids)

    def offer_remover(self, parent, bridge) -> bool:
        """Unscripted: "Not now", remove with what is installed."""
        self.remover_offers += 1
        return self.remover_answers.pop(0) if self.remover_answers else True

    def open_mask_path(self, parent, directory: str) -> str | None:
        return self.mask_open_answers.pop(0)

    def save_mask_path(self, parent, suggested: str) -> str | None:
        self.save_suggestions.append(suggested)
        return self.mask_save_answers.pop(0)

    def open_project_path(self, parent, directory: str) -> str | None:
        return self.project_open_answers.pop(0)

    def save_project_path(self, parent, suggested: str) -> str | None:
        self.project_save_suggestions.append(suggested)
        answer = self.project_save_answers.pop(0)
        return suggested if answer == ACCEPT_SUGGESTION else answer

    def offer_recovery(self, parent, offers: list) -> RecoveryAnswer | None:
        self.recovery_offers.append(offers)
        answer = self.recovery_answers.pop(0) if self.recovery_answers else "later"
        if answer == "later":
            return None
        chosen = {"recover": range(len(offers)), "discard": ()}.get(answer, answer)
        return RecoveryAnswer(
            tuple(offer.orphan for i, offer in enumerate(offers) if i in chosen),
            tuple(offer.orphan for i, offer in enumerate(offers) if i not in chosen))


@pytest.fixture
def dialogs() -> ScriptedDialogs:
    return ScriptedDialogs()


class SlowEngine(Engine):
    """The real Engine's run() (progress, cancel, errors) around a job that just takes time.

    A timing double only: it stands in for a long model call, reporting a step every
    `tick` seconds for `seconds` in all, and answers with an empty finished result.
    """

    def __init__(self, seconds: float = 1.5, tick: float = 0.01) -> None:
        super().__init__()
        self.seconds = seconds
        self.tick = tick

    def _dispatch(self, job, step, cancel) -> Result:
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < self.seconds:
            step(elapsed / self.seconds, "Working")
            time.sleep(self.tick)
        step(1.0, "Done")
        return Result(job.job_id, Status.FINISHED)


@pytest.fixture
def make_bridge():
    """Bridges made through this fixture are shut down after the test, even when it fails."""
    bridges: list[EngineBridge] = []

    def make(**kwargs) -> EngineBridge:
        bridge = EngineBridge(**kwargs)
        bridges.append(bridge)
        return bridge

    yield make
    for bridge in bridges:
        bridge.shutdown()


def photo(width: int = 160, height: int = 120, seed: int = 0) -> np.ndarray:
    """A synthetic photo with texture and a bright square object in the middle."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width]
    rgb = np.stack([xs * 255 // width, ys * 255 // height, (xs + ys) % 256], axis=-1)
    rgb = (rgb + rng.integers(0, 20, rgb.shape)).clip(0, 255).astype(np.uint8)
    rgb[height // 3: 2 * height // 3, width // 3: 2 * width // 3] = (250, 240, 40)
    return rgb


@pytest.fixture
def sample_photo(tmp_path: Path) -> Path:
    """A copy of the bundled sample photo (a synthetic JPEG without it) in a folder of its own,
    so that saving next to it never touches the source tree."""
    folder = tmp_path / "photos"
    folder.mkdir()
    path = folder / "sample.jpg"
    if SAMPLE.is_file():
        shutil.copyfile(SAMPLE, path)
    else:
        Image.fromarray(photo(320, 240)).save(path, quality=92)
    return path


@pytest.fixture
def make_window(qtbot, app_settings, dialogs, make_bridge):
    """A shown main window with scripted dialogs; its engine thread is shut down afterwards."""

    def make(**bridge_kwargs) -> MainWindow:
        window = MainWindow(app_settings, make_bridge(**bridge_kwargs), dialogs)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()  # shortcuts act in the active window only
        qtbot.waitUntil(window.isActiveWindow)
        return window

    return make


# -- a Replace that paints known variants (test_session, test_job_queue) ------------------

BOX = (60, 40, 100, 80)  # the photo's yellow square, in a 160 x 120 photo
COLOURS = ((220, 30, 30), (30, 200, 60), (40, 60, 230))
YELLOW = (250, 240, 40)


class PaintsVariants(Engine):
    """The real engine, except that a Replace paints each variant in a plain colour of its own,
    so what the canvas shows can be told apart; it can be held at a gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.gate.set()

    def _dispatch(self, job, step, cancel) -> Result:
        if not isinstance(job, InpaintJob):
            return super()._dispatch(job, step, cancel)
        while not self.gate.wait(0.01):
            step(0.0, "Waiting")  # raises JobCancelled once the job was cancelled
        variants = []
        for seed, colour in enumerate(COLOURS[:job.variants]):
            image = job.image.copy()
            image[slices(BOX)] = colour
            variants.append(InpaintVariant(image, BOX, seed))
        return Result(job.job_id, Status.FINISHED, variants=tuple(variants))


def open_square_masked(qtbot, window: MainWindow, folder: Path) -> None:
    """Open a synthetic 160 x 120 photo in `window` and mask its square (BOX)."""
    path = folder / "photo.png"
    Image.fromarray(photo(160, 120)).save(path)
    opened = qtbot.waitSignal(window.files.opened, timeout=30_000)
    assert window.files.open_photo(path)
    opened.wait()
    window.session.apply("Square", BOX, mask=np.full((40, 40), 255, np.uint8))


@pytest.fixture
def painted(qtbot, make_window, app_settings, tmp_path):
    """A window with the square masked and a Replace of it done in three variants."""
    app_settings.variants = 3
    engine = PaintsVariants()
    window = make_window(engine_factory=lambda settings: engine)
    open_square_masked(qtbot, window, tmp_path)
    with qtbot.waitSignal(window.bridge.finished, timeout=30_000):
        window.jobs.replace("", "a silver fork")
    assert window.variants_panel.list.count() == 3
    return window, engine


CANVAS_W, CANVAS_H = 200, 150  # the `canvas` fixture's size


@pytest.fixture
def canvas(qtbot) -> Canvas:
    """A canvas of its own, shown, CANVAS_W x CANVAS_H."""
    widget = Canvas()
    qtbot.addWidget(widget)
    widget.resize(CANVAS_W, CANVAS_H)
    widget.show()
    qtbot.waitExposed(widget)
    return widget
