"""CLIP-guided replacement in the window: the mode and its weights in the generation panel, and
what a Replace (or a removal) then asks of the engine."""

from __future__ import annotations

import pytest

from paintnoise_desktop.core.jobs import InpaintJob
from paintnoise_desktop.ui.generation_panel import GenerationPanel
from tests.ui.conftest import PaintsVariants, open_square_masked


class RecordsJobs(PaintsVariants):
    def __init__(self) -> None:
        super().__init__()
        self.inpaint_jobs: list[InpaintJob] = []

    def _dispatch(self, job, step, cancel):
        if isinstance(job, InpaintJob):
            self.inpaint_jobs.append(job)
        return super()._dispatch(job, step, cancel)


@pytest.fixture
def panel(qtbot, app_settings) -> GenerationPanel:
    widget = GenerationPanel(app_settings)
    qtbot.addWidget(widget)
    widget.set_expanded(True)
    widget.show()
    return widget


def test_the_weights_show_only_in_clip_guided_mode_with_the_studys_defaults(panel, app_settings):
    weights = [*panel.weight_spins.values(), panel.guide_every_spin]
    assert app_settings.guidance_mode == "plain"
    assert not any(spin.isVisible() for spin in weights)
    panel.mode_combo.setCurrentIndex(panel.mode_combo.findData("clip"))
    assert app_settings.guidance_mode == "clip"
    assert all(spin.isVisible() for spin in weights)
    assert panel.toggle.text() == "Automatic \u00b7 CLIP-guided \u00b7 \u00d71"
    assert [spin.value() for spin in panel.weight_spins.values()] == [1000.0, 1000.0, 1000.0]
    panel.weight_spins["lpips_weight"].setValue(250.0)
    assert app_settings.lpips_weight == 250.0
    app_settings.reset_generation()
    assert app_settings.guidance_mode == "plain" and app_settings.lpips_weight == 1000.0


@pytest.fixture
def recording_window(qtbot, make_window, tmp_path):
    engine = RecordsJobs()
    window = make_window(engine_factory=lambda settings: engine)
    open_square_masked(qtbot, window, tmp_path)
    return window, engine


def test_a_replace_in_clip_guided_mode_sends_the_mode_and_the_weights(
        qtbot, recording_window, app_settings):
    window, engine = recording_window
    app_settings.guidance_mode = "clip"
    app_settings.clip_weight, app_settings.l2_weight = 5000.0, 20.0
    app_settings.guide_every = 3
    with qtbot.waitSignal(window.bridge.finished, timeout=30_000):
        window.jobs.replace("", "an orange")
    job = engine.inpaint_jobs[-1]
    assert (job.guidance_mode, job.clip_weight, job.l2_weight, job.lpips_weight,
            job.guide_every) == ("clip", 5000.0, 20.0, 1000.0, 3)


def test_a_removal_in_clip_guided_mode_removes_as_it_always_does(
        qtbot, recording_window, app_settings):
    window, engine = recording_window
    app_settings.guidance_mode = "clip"
    with qtbot.waitSignal(window.bridge.finished, timeout=30_000):
        window.jobs.replace("square", "")
    assert engine.inpaint_jobs[-1].guidance_mode == "plain"


def test_without_its_models_a_guided_replace_offers_lpips_with_the_rest_in_one_question(
        qtbot, make_window, dialogs, app_settings, tmp_path):
    window = make_window()  # the real engine, on an empty models folder
    open_square_masked(qtbot, window, tmp_path)
    app_settings.guidance_mode = "clip"
    with qtbot.waitSignal(window.bridge.finished, timeout=30_000):
        window.jobs.replace("", "an orange")
    qtbot.waitUntil(lambda: len(dialogs.download_offers) == 1)
    offered = dialogs.download_offers[0]
    assert "lpips-alexnet" in offered and "sd2-inpainting" in offered
    assert any(model.startswith("clip-") for model in offered)
