"""The find method selector beside Find: marks, persistence, what a Find sends, CLIPSeg's live
threshold (the real tiny CLIPSeg, its heatmap cached), and the offer of a missing model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt

from paintnoise_desktop.core.jobs import FindJob
from paintnoise_desktop.engine.find import clipseg
from paintnoise_desktop.engine.runner import Engine
from paintnoise_desktop.engine.settings import EngineSettings
from paintnoise_desktop.ui.edit_jobs import SLIDER_SETTLE_MS
from tests.tinymodels.clipseg import build_clipseg

from .test_find_experience import RecordingKnownAnswerEngine as RecordingEngine
from .test_main_window import WAIT_MS, open_synthetic, square, wait_for_step


@pytest.fixture(scope="module")
def clipseg_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    build_clipseg(root / "clipseg-rd64-refined")
    return root


def choose(combo, method: str) -> None:
    combo.setCurrentIndex(combo.findData(method))


def find(qtbot, window, text: str, steps: int) -> None:
    window.prompt_bar.find_edit.setText(text)
    qtbot.keyClick(window.prompt_bar.find_edit, Qt.Key_Return)
    wait_for_step(qtbot, window, f"Find: {text}", steps)


def test_each_method_is_marked_installed_or_not(qtbot, make_window, clipseg_models):
    window = make_window()
    combo = window.prompt_bar.method_combo
    assert [combo.itemData(i) for i in range(combo.count())] == [
        "auto", "segclip", "sam3", "clipseg", "segformer", "diffedit"]
    assert combo.currentData() == "auto" and combo.itemText(0) == "Automatic"
    window.prompt_bar.set_engine_settings(EngineSettings(models_dir=clipseg_models))
    labels = {combo.itemData(i): combo.itemText(i) for i in range(combo.count())}
    assert labels["clipseg"] == "CLIPSeg (installed)"
    assert labels["segformer"] == "SegFormer + CLIP (not installed)"
    assert labels["sam3"] == "SAM 3 (not installed)"


def test_the_method_is_remembered_and_sent_and_the_threshold_shows_for_clipseg(
        qtbot, make_window, app_settings, tmp_path):
    candidates = (replace(square(4, 4, 10), score=1.0, source="clipseg"),)
    engine = RecordingEngine(candidates)
    window = make_window(engine_factory=lambda settings: engine)
    bar = window.prompt_bar
    assert not bar.threshold_box.isVisible()
    choose(bar.method_combo, "clipseg")
    assert app_settings.find_method == "clipseg" and bar.threshold_box.isVisible()
    bar.threshold_slider.setValue(55)
    assert app_settings.clipseg_threshold == pytest.approx(0.55)
    assert bar.threshold_label.text() == "0.55"
    open_synthetic(qtbot, window, tmp_path)
    find(qtbot, window, "sky", 1)
    [job] = engine.jobs
    assert isinstance(job, FindJob) and job.method == "clipseg"
    assert job.threshold == pytest.approx(0.55)
    choose(bar.method_combo, "segformer")
    assert not bar.threshold_box.isVisible()
    window.close()
    assert make_window().prompt_bar.method_combo.currentData() == "segformer"


def test_the_threshold_slider_recuts_the_cached_heatmap_as_one_undo_step(
        qtbot, make_window, app_settings, tmp_path, clipseg_models, monkeypatch):
    runs = []
    original = clipseg.ClipSeg.heatmaps
    monkeypatch.setattr(clipseg.ClipSeg, "heatmaps",
                        lambda self, image, phrases: runs.append(phrases) or
                        original(self, image, phrases))
    app_settings.find_method, app_settings.tight = "clipseg", True
    app_settings.clipseg_threshold = 0.15  # the lowest: the tiny model's heat is all above it
    window = make_window(engine_factory=lambda settings: Engine(
        EngineSettings(models_dir=clipseg_models, device="cpu")))
    document = open_synthetic(qtbot, window, tmp_path)
    find(qtbot, window, "sky", 1)
    low = document.mask.copy()
    slider = window.prompt_bar.threshold_slider
    heat = np.sort(original(clipseg.get_clipseg(Engine(EngineSettings(
        models_dir=clipseg_models, device="cpu")).models), document.rgb, ["sky"])[0].ravel())
    for value in (40, round(100 * heat[int(0.7 * heat.size)])):  # a drag: one step at the end
        slider.setValue(value)
        qtbot.wait(20)
    name = f"CLIPSeg threshold {app_settings.clipseg_threshold:.2f}: sky"
    qtbot.waitUntil(lambda: not window.jobs._threshold_timer.isActive(), timeout=5000)
    qtbot.wait(SLIDER_SETTLE_MS)  # the re-cut the settled slider asked for is under way
    wait_for_step(qtbot, window, name, 2)
    assert runs == [["sky"]]  # the slider re-cut the cached heatmap: no model ran again
    high = document.mask
    assert 0 < np.count_nonzero(high) < np.count_nonzero(low)
    assert np.all(low[high > 0] > 0)
    window.session.undo()
    assert np.array_equal(document.mask, low)


def test_a_threshold_that_cuts_the_same_mask_leaves_the_slider_working(
        qtbot, make_window, app_settings, tmp_path):
    engine = RecordingEngine((replace(square(4, 4, 10), score=1.0, source="clipseg"),))
    app_settings.find_method = "clipseg"
    window = make_window(engine_factory=lambda settings: engine)
    document = open_synthetic(qtbot, window, tmp_path)
    find(qtbot, window, "sky", 1)
    window.prompt_bar.threshold_slider.setValue(50)  # the same square: no step
    qtbot.waitUntil(lambda: len(engine.jobs) == 2 and not window.jobs.queue.busy
                    and not window.mask_steps.busy, timeout=WAIT_MS)
    assert document.history.index == 1 and window.session.found_mask_is_current
    found = document.mask.copy()
    engine.candidates = (replace(square(4, 4, 6), score=1.0, source="clipseg"),)
    window.prompt_bar.threshold_slider.setValue(60)
    wait_for_step(qtbot, window, "CLIPSeg threshold 0.60: sky", 2)
    assert 0 < np.count_nonzero(document.mask) < np.count_nonzero(found)


def test_a_threshold_nothing_clears_keeps_the_found_mask(qtbot, make_window, app_settings,
                                                         tmp_path):
    engine = RecordingEngine((replace(square(4, 4, 10), score=1.0, source="clipseg"),))
    app_settings.find_method = "clipseg"
    window = make_window(engine_factory=lambda settings: engine)
    document = open_synthetic(qtbot, window, tmp_path)
    find(qtbot, window, "sky", 1)
    found = document.mask.copy()
    engine.candidates = ()  # nothing clears the next threshold
    window.prompt_bar.threshold_slider.setValue(90)
    qtbot.waitUntil(lambda: "lower the threshold" in window.statusBar().currentMessage(),
                    timeout=WAIT_MS)
    assert engine.jobs[-1].threshold == pytest.approx(0.9) and len(engine.jobs) == 2
    assert np.array_equal(document.mask, found) and window.session.found_mask_is_current
    engine.candidates = (replace(square(20, 20, 8), score=1.0, source="clipseg"),)
    window.prompt_bar.threshold_slider.setValue(50)  # the slider still works
    wait_for_step(qtbot, window, "CLIPSeg threshold 0.50: sky", 2)


def test_a_method_without_its_model_offers_the_download(qtbot, make_window, app_settings,
                                                        dialogs, tmp_path):
    app_settings.find_method = "clipseg"
    window = make_window(engine_factory=lambda settings: Engine(
        EngineSettings(models_dir=tmp_path / "empty", device="cpu")))
    open_synthetic(qtbot, window, tmp_path)
    window.prompt_bar.find_edit.setText("sky")
    qtbot.keyClick(window.prompt_bar.find_edit, Qt.Key_Return)
    qtbot.waitUntil(lambda: bool(dialogs.download_offers), timeout=WAIT_MS)
    assert dialogs.download_offers == [("clipseg-rd64-refined",)]
