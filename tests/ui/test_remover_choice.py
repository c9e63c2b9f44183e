"""Remove with: the window's remover setting and combo, and the small remover offered first."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QMainWindow, QMessageBox

from paintnoise_desktop.engine.inpaint.learned import LearnedInpainter
from paintnoise_desktop.engine.models.needs import REMOVERS
from paintnoise_desktop.engine.runner import Engine
from paintnoise_desktop.engine.settings import EngineSettings
from paintnoise_desktop.ui.generation_panel import GenerationPanel
from paintnoise_desktop.ui.model_manager import ModelManagerDialog
from paintnoise_desktop.ui.model_offer import offer_remover
from tests.tinymodels.lama import save_lama, tiny_lama
from tests.ui.conftest import BOX, photo

WAIT_MS = 30_000


class RecordsInpainters(Engine):
    """The real engine, remembering which inpainter each Replace or Remove asked for."""

    def __init__(self, settings: EngineSettings) -> None:
        super().__init__(settings)
        self.asked: list[str] = []

    def _dispatch(self, job, step, cancel):
        if hasattr(job, "inpainter"):
            self.asked.append(job.inpainter)
        return super()._dispatch(job, step, cancel)


@pytest.fixture
def engine_settings(tmp_path) -> EngineSettings:
    return EngineSettings(models_dir=tmp_path / "models")


@pytest.fixture
def masked_window(qtbot, make_window, engine_settings, tmp_path, monkeypatch):
    """A window over a photo with its square masked, on a recording engine."""
    monkeypatch.setattr(LearnedInpainter, "native_size", 128)  # fast; the path is the same
    engine = RecordsInpainters(engine_settings)
    window = make_window(engine_factory=lambda settings: engine, settings=engine_settings)
    path = tmp_path / "photo.png"
    Image.fromarray(photo(160, 120)).save(path)
    opened = qtbot.waitSignal(window.files.opened, timeout=WAIT_MS)
    assert window.files.open_photo(path)
    opened.wait()
    window.session.apply("Square", BOX, mask=np.full((40, 40), 255, np.uint8))
    return window, engine


def test_the_remover_combo_offers_every_remover_and_sets_the_setting(qtbot, app_settings,
                                                                     engine_settings):
    save_lama(engine_settings.models_dir / "lama", tiny_lama())
    panel = GenerationPanel(app_settings, engine_settings)
    qtbot.addWidget(panel)
    combo = panel.remover_combo
    assert [combo.itemData(i) for i in range(combo.count())] == list(REMOVERS)
    assert combo.currentData() == "auto" == app_settings.remover
    assert combo.itemText(combo.findData("lama")) == "LaMa (big-lama) (installed)"
    assert "not installed" in combo.itemText(combo.findData("deepfill-v2"))
    combo.setCurrentIndex(combo.findData("deepfill-v2"))
    assert app_settings.remover == "deepfill-v2"
    app_settings.remover = "opencv-ns"
    assert combo.currentData() == "opencv-ns"
    app_settings.reset_generation()
    assert app_settings.remover == "auto"


def test_a_removal_uses_the_remover_and_a_replacement_the_inpainter(qtbot, masked_window,
                                                                    app_settings, dialogs,
                                                                    engine_settings):
    window, engine = masked_window
    save_lama(engine_settings.models_dir / "lama", tiny_lama())
    before = window.session.document.rgb.copy()
    app_settings.inpainter = "opencv-ns"
    with qtbot.waitSignal(window.bridge.finished, timeout=WAIT_MS):
        window.jobs.replace("", "")
    assert engine.asked == ["auto"] and dialogs.remover_offers == 0  # LaMa is installed
    after = window.session.document.rgb
    assert not np.array_equal(after, before)
    x0, y0, x1, y1 = BOX
    outside = np.ones(before.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(after[outside], before[outside])
    assert "Remove done" in window.statusBar().currentMessage()
    app_settings.remover = "opencv-telea"
    with qtbot.waitSignal(window.bridge.finished, timeout=WAIT_MS):
        window.jobs.replace("", "  ")
    with qtbot.waitSignal(window.bridge.finished, timeout=WAIT_MS):
        window.jobs.replace("", "a bench")  # painting words: the inpainter, not the remover
    assert engine.asked == ["auto", "opencv-telea", "opencv-ns"]


def test_removing_with_auto_and_no_learned_remover_offers_lama_first(qtbot, masked_window,
                                                                     dialogs):
    window, engine = masked_window
    dialogs.remover_answers = [False]  # Download: nothing is removed now
    assert window.jobs.replace("", "") is None
    assert dialogs.remover_offers == 1 and engine.asked == []
    assert "once LaMa (big-lama) is downloaded" in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.bridge.finished, timeout=WAIT_MS):
        window.jobs.replace("", "")  # asked once per window: this removes with what is there
    assert dialogs.remover_offers == 1 and engine.asked == ["auto"]
    assert "Remove done" in window.statusBar().currentMessage()


def test_asking_for_lama_by_name_when_it_is_missing_gives_the_usual_offer(qtbot, masked_window,
                                                                          app_settings, dialogs):
    window = masked_window[0]
    app_settings.remover = "lama"
    with qtbot.waitSignal(window.bridge.finished, timeout=WAIT_MS):
        window.jobs.replace("", "")
    assert dialogs.remover_offers == 0
    qtbot.waitUntil(lambda: dialogs.download_offers == [("lama",)], timeout=WAIT_MS)


def test_the_offer_is_one_question_whose_no_goes_on_and_yes_downloads(qtbot, make_bridge,
                                                                      monkeypatch,
                                                                      engine_settings):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    asked, answers, started = [], [QMessageBox.No, QMessageBox.Yes], []

    def exec_(box) -> int:
        asked.append((box.text(), box.informativeText()))
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    monkeypatch.setattr(ModelManagerDialog, "start_downloads",
                        lambda manager, ids: started.append(ids))
    window = QMainWindow()
    qtbot.addWidget(window)
    bridge = make_bridge(settings=engine_settings)
    assert offer_remover(window, bridge) is True  # Not now: remove with what is installed
    assert "LaMa (big-lama) is not installed" in asked[0][0]
    assert "about a second even without a GPU" in asked[0][0]
    assert "goes on with what is installed" in asked[0][1]
    assert started == []
    assert offer_remover(window, bridge) is False  # Download: the manager fetches it
    assert started == [("lama",)]
