"""Remove with CLIPAway from the window: the real engine on tiny models, or the one model offer."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from paintnoise_desktop.engine.models.needs import CLIPAWAY_MODELS
from paintnoise_desktop.engine.settings import EngineSettings
from tests.tinymodels.clipaway import build_clipaway
from tests.ui.conftest import BOX, photo

WAIT_MS = 60_000


@pytest.fixture(scope="module")
def clipaway_models(tmp_path_factory):
    return build_clipaway(tmp_path_factory.mktemp("clipaway-window-models"))


def _masked_window(qtbot, make_window, settings: EngineSettings, folder):
    window = make_window(settings=settings)
    path = folder / "photo.png"
    Image.fromarray(photo(160, 120)).save(path)
    opened = qtbot.waitSignal(window.files.opened, timeout=WAIT_MS)
    assert window.files.open_photo(path)
    opened.wait()
    window.session.apply("Square", BOX, mask=np.full((40, 40), 255, np.uint8))
    return window


def test_removing_with_clipaway_repaints_the_square_and_nothing_else(qtbot, make_window,
                                                                     app_settings, dialogs,
                                                                     clipaway_models, tmp_path):
    window = _masked_window(qtbot, make_window, EngineSettings(models_dir=clipaway_models), tmp_path)
    app_settings.remover, app_settings.steps = "clipaway", 2
    before = window.session.document.rgb.copy()
    with qtbot.waitSignal(window.bridge.finished, timeout=WAIT_MS):
        window.jobs.replace("", "")
    after = window.session.document.rgb
    x0, y0, x1, y1 = BOX
    outside = np.ones(before.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(after[outside], before[outside])
    assert not np.array_equal(after[~outside], before[~outside])
    assert "Remove done" in window.statusBar().currentMessage()
    assert dialogs.download_offers == []


def test_removing_with_clipaway_without_its_models_offers_all_four_at_once(qtbot, make_window,
                                                                          app_settings, dialogs,
                                                                          tmp_path):
    window = _masked_window(qtbot, make_window, EngineSettings(models_dir=tmp_path / "models"),
                            tmp_path)
    app_settings.remover = "clipaway"
    with qtbot.waitSignal(window.bridge.finished, timeout=WAIT_MS):
        window.jobs.replace("", "")
    qtbot.waitUntil(lambda: dialogs.download_offers == [CLIPAWAY_MODELS], timeout=WAIT_MS)
