"""The candidate strip: thumbnails with scores, click to pick, Ctrl-click to add or remove."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget

from paintnoise_desktop.core.jobs import MaskCandidate
from paintnoise_desktop.ui.candidate_panel import THUMBNAIL, TINT, CandidatePanel, thumbnail


def candidates() -> tuple[np.ndarray, list[MaskCandidate]]:
    """A 400 x 300 grey photo; masks at half size, as Find returns them."""
    photo = np.full((300, 400, 3), 100, np.uint8)
    result = []
    for number, (box, score) in enumerate(
        [((40, 40, 120, 100), 0.92), ((200, 150, 360, 280), 0.05), ((10, 200, 60, 290), 0.01)]
    ):
        mask = np.zeros((150, 200), np.uint8)
        x0, y0, x1, y1 = box
        mask[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = 255
        result.append(MaskCandidate(mask, score, box, "segclip", f"thing {number}"))
    return photo, result


@pytest.fixture
def panel(qtbot):
    widget = CandidatePanel()
    qtbot.addWidget(widget)
    widget.resize(140, 480)
    widget.show()
    qtbot.waitExposed(widget)
    photo, found = candidates()
    widget.set_candidates(found, photo, [0])
    return widget


def click(qtbot, panel: CandidatePanel, row: int, modifier=Qt.NoModifier) -> None:
    view = panel.findChild(QListWidget, "candidateList")
    rect = view.visualItemRect(view.item(row))
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, modifier, rect.center())


def test_thumbnail_tints_the_mask_around_the_box():
    photo, found = candidates()
    image = thumbnail(photo, found[0])
    assert max(image.shape[:2]) == THUMBNAIL
    centre = image[image.shape[0] // 2, image.shape[1] // 2]
    corner = image[0, 0]
    assert tuple(corner) == (100, 100, 100)  # the margin around the object is untinted
    assert centre[0] > 150 and np.allclose(centre, 0.55 * 100 + 0.45 * TINT, atol=1)


def test_items_show_scores_and_the_given_selection(panel):
    view = panel.findChild(QListWidget, "candidateList")
    assert [view.item(i).text() for i in range(view.count())] == ["92%", "5%", "1%"]
    assert not view.item(0).icon().isNull()
    assert panel.selected() == [0]


def test_a_tiny_score_reads_less_than_one_percent_not_zero(qtbot, panel):
    photo, found = candidates()
    tiny = MaskCandidate(found[0].mask, 0.004, found[0].box, "segclip", "speck")
    nothing = MaskCandidate(found[0].mask, 0.0, found[0].box, "segclip", "nothing")
    panel.set_candidates([tiny, nothing], photo)
    view = panel.findChild(QListWidget, "candidateList")
    assert [view.item(i).text() for i in range(2)] == ["<1%", "0%"]
    assert "score <1%" in view.item(0).toolTip()


def test_setting_candidates_announces_nothing(qtbot, panel):
    photo, found = candidates()
    with qtbot.assertNotEmitted(panel.selectionChanged):
        panel.set_candidates(found, photo, [1, 2])
    assert panel.selected() == [1, 2]


def test_click_picks_one(qtbot, panel):
    with qtbot.waitSignal(panel.selectionChanged) as signal:
        click(qtbot, panel, 2)
    assert signal.args == [[2]]


def test_ctrl_click_adds_and_removes(qtbot, panel):
    with qtbot.waitSignal(panel.selectionChanged) as signal:
        click(qtbot, panel, 1, Qt.ControlModifier)
    assert signal.args == [[0, 1]]
    with qtbot.waitSignal(panel.selectionChanged) as signal:
        click(qtbot, panel, 0, Qt.ControlModifier)
    assert signal.args == [[1]]
    with qtbot.waitSignal(panel.selectionChanged) as signal:
        click(qtbot, panel, 2)
    assert signal.args == [[2]]


def test_clear_empties_the_strip(qtbot, panel):
    with qtbot.assertNotEmitted(panel.selectionChanged):
        panel.clear()
    assert panel.findChild(QListWidget, "candidateList").count() == 0
