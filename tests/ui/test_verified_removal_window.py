"""The window's "Check that removals worked": the setting, the job it sends, what it shows."""

from __future__ import annotations

import numpy as np
from PIL import Image

from paintnoise_desktop.core.jobs import Verification
from paintnoise_desktop.ui.edit_jobs import checked_outcome
from tests.ui.conftest import BOX, photo

WAIT_MS = 30_000


def test_a_checked_removal_names_its_outcome_in_the_history_and_status_bar(
        qtbot, make_window, app_settings, tmp_path, models_env):
    app_settings.inpainter = "opencv-telea"
    app_settings.verify_retries = 0  # one look before and one after: enough to show it
    window = make_window()
    window.generation_panel.verify_check.setChecked(True)  # the panel's box is the setting
    assert app_settings.verify_removal
    path = tmp_path / "photo.png"
    Image.fromarray(photo(160, 120)).save(path)
    opened = qtbot.waitSignal(window.files.opened, timeout=WAIT_MS)
    assert window.files.open_photo(path)
    opened.wait()
    window.session.apply("Square", BOX, mask=np.full((40, 40), 255, np.uint8))
    with qtbot.waitSignal(window.bridge.finished, timeout=WAIT_MS) as finished:
        window.jobs.replace("yellow square", "")
    verification = finished.args[0].verification
    assert verification is not None and verification.phrase == "yellow square"
    outcome = checked_outcome(verification)
    qtbot.waitUntil(lambda: window.document.history.names[-1] ==
                    f"Remove: yellow square ({outcome})", timeout=WAIT_MS)
    assert verification.sentence in window.statusBar().currentMessage()


def test_the_outcome_words_for_the_history_step():
    def outcome(gone: bool, found_before: bool) -> str:
        return checked_outcome(Verification("cup", 0.5, (0.1,), 1, gone, "", found_before))

    assert outcome(gone=True, found_before=True) == "gone"
    assert outcome(gone=False, found_before=True) == "still there"
    assert outcome(gone=True, found_before=False) == "not found before"
