"""Find in the window: best or all matches, live grow/feather sliders, messages, device line."""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
from PySide6.QtCore import Qt

from paintnoise_desktop.core.jobs import FindJob, MaskSettings
from paintnoise_desktop.engine.find.ranking import select, softmax_with_floor
from paintnoise_desktop.engine.models.catalog import known_spec
from paintnoise_desktop.engine.runner import Engine
from paintnoise_desktop.ui import mask_steps

from .test_main_window import (
    WAIT_MS,
    KnownAnswerEngine,
    click_candidate,
    found_mask,
    open_synthetic,
    open_with_stroke,
    paint_stroke,
    settle,
    square,
    wait_for_step,
)


class RecordingKnownAnswerEngine(KnownAnswerEngine):
    def __init__(self, candidates) -> None:
        super().__init__(candidates)
        self.jobs = []

    def run(self, job, report, cancel):
        self.jobs.append(job)
        return super().run(job, report, cancel)


def scored(cosines, *candidates):
    """Candidates with the scores Find gives proposals of these cosines to the words."""
    scores = softmax_with_floor(np.array(cosines))
    return tuple(replace(c, score=float(s)) for c, s in zip(candidates, scores, strict=True))


def find(qtbot, window, text: str, steps: int = 1) -> None:
    window.prompt_bar.find_edit.setText(text)
    qtbot.keyClick(window.prompt_bar.find_edit, Qt.Key_Return)
    wait_for_step(qtbot, window, f"Find: {text}", steps)


def test_all_matches_finds_every_close_candidate_and_is_remembered(qtbot, make_window,
                                                                    app_settings, tmp_path):
    candidates = scored([0.30, 0.295, 0.12], square(2, 2, 10), square(40, 4, 10),
                        square(20, 30, 10))
    assert select([c.score for c in candidates], "all") == [0, 1]  # the close two, not the far
    engine = RecordingKnownAnswerEngine(candidates)
    window = make_window(engine_factory=lambda settings: engine)
    combo = window.prompt_bar.mode_combo
    assert combo.currentData() == "best"
    combo.setCurrentIndex(combo.findData("all"))
    assert app_settings.find_mode == "all"
    document = open_synthetic(qtbot, window, tmp_path)
    find(qtbot, window, "cars")
    [job] = engine.jobs
    assert isinstance(job, FindJob) and job.mode == "all"
    assert window.candidate_panel.selected() == [0, 1]
    settings = app_settings.mask_settings
    assert np.array_equal(document.mask, found_mask(candidates, settings, 0, 1))
    assert "2 matches" in window.statusBar().currentMessage()

    click_candidate(qtbot, window, 2, Qt.ControlModifier)
    wait_for_step(qtbot, window, "Candidates 1, 2, 3: cars", 2)
    assert np.array_equal(document.mask, found_mask(candidates, settings, 0, 1, 2))
    window.session.undo()
    assert np.array_equal(document.mask, found_mask(candidates, settings, 0, 1))
    window.close()
    assert make_window().prompt_bar.mode_combo.currentData() == "all"


def test_best_match_uses_one_candidate(qtbot, make_window, app_settings, tmp_path):
    candidates = scored([0.30, 0.295], square(2, 2, 10), square(40, 4, 10))
    window = make_window(engine_factory=lambda settings: KnownAnswerEngine(candidates))
    document = open_synthetic(qtbot, window, tmp_path)
    find(qtbot, window, "car")
    assert window.candidate_panel.selected() == [0]
    assert np.array_equal(document.mask, found_mask(candidates, app_settings.mask_settings, 0))


def test_a_weak_match_says_so_and_shows_the_closest(qtbot, make_window, tmp_path):
    candidates = scored([0.15, 0.12], square(2, 2, 10), square(40, 4, 10))
    window = make_window(engine_factory=lambda settings: KnownAnswerEngine(candidates))
    document = open_synthetic(qtbot, window, tmp_path)
    find(qtbot, window, "zebra")
    assert window.statusBar().currentMessage() == (
        "Nothing matched \u201czebra\u201d well; showing the closest match.")
    assert document.mask.any() and window.candidate_panel.selected() == [0]


def drag(qtbot, slider, values) -> None:
    slider.setSliderDown(True)
    for value in values:
        slider.setValue(value)
        qtbot.wait(5)
    slider.setSliderDown(False)


def test_a_slider_drag_remakes_the_found_mask_as_one_undo_step(qtbot, make_window, app_settings,
                                                              tmp_path):
    app_settings.mask_settings = MaskSettings(grow_fraction=0.04, grow_min_px=1, feather_px=0)
    candidates = scored([0.30], square(4, 4, 30))
    window = make_window(engine_factory=lambda settings: KnownAnswerEngine(candidates))
    document = open_synthetic(qtbot, window, tmp_path)
    find(qtbot, window, "box")
    found = document.mask.copy()
    panel = window.mask_panel
    assert panel.grow_slider.value() == 40 and panel.grow_label.text() == "4.0%"

    drag(qtbot, panel.grow_slider, range(50, 160, 10))
    qtbot.waitUntil(lambda: "grow 15.0%" in document.history.names[-1]
                    and not window.mask_steps.busy, timeout=WAIT_MS)
    assert document.history.index == 2
    drag(qtbot, panel.grow_slider, [180, 200])  # the same slider again, nothing in between
    qtbot.waitUntil(lambda: "grow 20.0%" in document.history.names[-1]
                    and not window.mask_steps.busy, timeout=WAIT_MS)
    assert document.history.index == 2
    grown = replace(app_settings.mask_settings, grow_fraction=0.2)
    assert app_settings.mask_settings == grown
    assert np.array_equal(document.mask, found_mask(candidates, grown, 0))
    assert (document.mask >= found).all() and document.mask.sum() > found.sum()
    window.session.undo()
    assert np.array_equal(document.mask, found)
    window.session.redo()

    panel.feather_slider.setValue(8)  # another slider: a step of its own
    qtbot.waitUntil(lambda: document.history.index == 3 and not window.mask_steps.busy,
                    timeout=WAIT_MS)
    feathered = replace(grown, feather_px=8)
    assert np.array_equal(document.mask, found_mask(candidates, feathered, 0))
    assert len(np.unique(document.mask)) > 2

    panel.tight_check.setChecked(True)
    qtbot.waitUntil(lambda: document.history.index == 4 and not window.mask_steps.busy,
                    timeout=WAIT_MS)
    assert set(np.unique(document.mask)) == {0, 255}
    tight = replace(feathered, tight=True)
    assert np.array_equal(document.mask, found_mask(candidates, tight, 0))
    assert app_settings.mask_settings.tight and not panel.feather_slider.isEnabled()
    window.session.undo()
    assert np.array_equal(document.mask, found_mask(candidates, feathered, 0))


def test_after_brushing_the_sliders_only_change_the_next_find(qtbot, make_window, app_settings,
                                                              tmp_path):
    candidates = scored([0.30], square(4, 4, 20))
    window = make_window(engine_factory=lambda settings: KnownAnswerEngine(candidates))
    document = open_synthetic(qtbot, window, tmp_path)
    find(qtbot, window, "box")
    window.mask_panel.size_slider.setValue(4)
    paint_stroke(qtbot, window, [(100, 80), (110, 80)])
    painted = document.mask.copy()
    window.mask_panel.feather_slider.setValue(20)
    qtbot.waitUntil(lambda: "next Find" in window.statusBar().currentMessage(), timeout=WAIT_MS)
    assert np.array_equal(document.mask, painted) and document.history.names[-1] == "Brush"
    assert app_settings.mask_settings.feather_px == 20

    window.session.undo()  # back to the found mask: the sliders apply to it again
    window.mask_panel.feather_slider.setValue(10)
    qtbot.waitUntil(lambda: document.history.names[-1].startswith("Found mask")
                    and not window.mask_steps.busy, timeout=WAIT_MS)
    assert np.array_equal(document.mask,
                          found_mask(candidates, app_settings.mask_settings, 0))


def test_the_settings_dialog_and_the_sliders_share_one_setting(qtbot, make_window, app_settings):
    window = make_window()
    dialog = window.open_settings()
    dialog.grow_spin.setValue(12.5)
    dialog.feather_spin.setValue(30)
    dialog.accept()
    assert window.mask_panel.grow_slider.value() == 125
    assert window.mask_panel.feather_slider.value() == 30
    window.mask_panel.grow_min_spin.setValue(9)
    assert app_settings.mask_settings == replace(MaskSettings(), grow_fraction=0.125,
                                                 grow_min_px=9, feather_px=30)


def test_mask_operations_run_off_the_gui_thread_as_one_step(qtbot, make_window, sample_photo,
                                                            monkeypatch):
    ran_in, release = [], threading.Event()
    name, grow = mask_steps.MASK_OPERATIONS["grow"]

    def held_grow(mask, px):
        ran_in.append(threading.current_thread())
        release.wait(10)
        return grow(mask, px)

    monkeypatch.setitem(mask_steps.MASK_OPERATIONS, "grow", (name, held_grow))
    window = make_window()
    document = open_with_stroke(qtbot, window, sample_photo)
    painted, steps = document.mask.copy(), document.history.index
    window.mask_steps.operate("grow", 5)
    qtbot.waitUntil(lambda: bool(ran_in), timeout=WAIT_MS)
    assert ran_in[0] is not threading.main_thread()
    assert window.mask_steps.busy and not window.commands.mask_operations["invert"].isEnabled()
    assert np.array_equal(document.mask, painted)  # nothing yet; the window goes on meanwhile
    release.set()
    settle(qtbot, window)
    assert document.history.index == steps + 1 and document.history.names[-1] == "Grow mask 5 px"
    assert np.array_equal(document.mask, grow(painted, 5))
    assert window.commands.mask_operations["invert"].isEnabled()
    window.session.undo()
    assert np.array_equal(document.mask, painted)


def test_a_brush_stroke_during_a_mask_operation_wins(qtbot, make_window, sample_photo,
                                                     monkeypatch):
    release = threading.Event()
    name, grow = mask_steps.MASK_OPERATIONS["grow"]
    monkeypatch.setitem(mask_steps.MASK_OPERATIONS, "grow",
                        (name, lambda mask, px: (release.wait(10), grow(mask, px))[1]))
    window = make_window()
    document = open_with_stroke(qtbot, window, sample_photo)
    window.mask_steps.operate("grow", 5)
    w, h = document.width, document.height
    paint_stroke(qtbot, window, [(w // 5, h // 5), (w // 4, h // 5)])
    painted = document.mask.copy()
    release.set()
    qtbot.wait(200)
    assert not window.mask_steps.busy
    assert document.history.names[-2:] == ["Brush", "Brush"]
    assert np.array_equal(document.mask, painted)


def test_the_status_bar_shows_the_device_and_unload_frees_the_models(qtbot, make_window,
                                                                      sample_photo):
    engine = Engine()
    window = make_window(engine_factory=lambda settings: engine)
    assert window.device_label.text() == ""
    open_with_stroke(qtbot, window, sample_photo)
    with qtbot.waitSignal(window.bridge.finished, timeout=WAIT_MS) as finished:
        window.jobs.replace("", "")
    assert finished.args[0].ok and finished.args[0].device_status == "CPU"
    assert window.device_label.text() == "CPU"

    engine.models.get("stand-in model", object)
    with qtbot.waitSignal(window.bridge.modelsUnloaded, timeout=WAIT_MS) as unloaded:
        window.commands.unload_models.trigger()
    assert unloaded.args == ["CPU"] and engine.models.loaded() == []
    assert window.statusBar().currentMessage().startswith("Unloaded the models")


def test_find_without_its_models_offers_the_download(qtbot, make_window, dialogs, tmp_path):
    window = make_window()
    document = open_synthetic(qtbot, window, tmp_path)
    with qtbot.waitSignal(window.modelMissing, timeout=120_000) as missing:
        window.jobs.find("red car")
    [model_ids] = missing.args
    assert model_ids and all(model_id.startswith(("sam-", "clip-")) for model_id in model_ids)
    assert dialogs.download_offers == [model_ids]
    names = " and ".join(known_spec(model_id).name for model_id in model_ids)
    verb = "is" if len(model_ids) == 1 else "are"
    assert window.statusBar().currentMessage() == (  # one sentence; the offer says the rest
        f"{names} {verb} not installed; the photo is unchanged.")
    assert not document.mask.any() and document.history.index == 0
