from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtWidgets import QApplication

from paintnoise_desktop.core.jobs import InpaintVariant
from paintnoise_desktop.ui.variants_panel import VariantsPanel, thumbnail


def _variant(seed: int, colour, note: str = "") -> InpaintVariant:
    image = np.full((300, 400, 3), 30, np.uint8)
    image[100:150, 200:260] = colour
    return InpaintVariant(image, (200, 100, 260, 150), seed, note)


@pytest.fixture
def panel(qtbot):
    widget = VariantsPanel()
    qtbot.addWidget(widget)
    widget.resize(700, widget.height())
    widget.show()
    widget.set_variants([_variant(41, (255, 0, 0)), _variant(42, (0, 0, 255), "Ran out of GPU memory")])
    return widget


def _click(qtbot, panel, row: int) -> None:
    rect = panel.list.visualItemRect(panel.list.item(row))
    qtbot.mouseClick(panel.list.viewport(), Qt.LeftButton, pos=rect.center())


def test_thumbnails_show_the_repainted_region_with_their_seeds(panel):
    assert panel.list.count() == 2
    assert [panel.list.item(i).text() for i in range(2)] == ["\u2713 41", "42"]
    assert "Ran out of GPU memory" in panel.list.item(1).toolTip()
    assert panel.seeds == [41, 42]
    assert panel.seed_label.text() == "Seeds: 41, 42"


def test_the_applied_variant_is_marked_first_then_the_chosen_one(qtbot, panel):
    assert panel.applied == 0 and panel.list.item(0).font().bold()
    _click(qtbot, panel, 1)
    assert panel.applied == 1
    assert [panel.list.item(i).text() for i in range(2)] == ["41", "\u2713 42"]
    assert panel.list.item(1).font().bold() and not panel.list.item(0).font().bold()
    panel.clear_variants()
    assert panel.applied == -1


def test_many_long_seeds_keep_the_strip_one_thumbnail_high(qtbot, panel):
    height = panel.height()
    assert panel.list.flow() == panel.list.Flow.LeftToRight
    seeds = [2057787880 + n for n in range(16)]
    panel.set_variants([_variant(seed, (0, 255, 0)) for seed in seeds])
    assert panel.height() == height and panel.sizeHint().height() == height
    assert panel.minimumSizeHint().width() <= 200, "it never makes the window wider"
    assert panel.seed_label.wordWrap()
    label_text = panel.seed_label.text()
    assert label_text.startswith("Seeds: 2057787880") and label_text.endswith("2057787895")
    assert all(str(seed) in panel.seed_label.toolTip() for seed in seeds)
    qtbot.waitUntil(lambda: panel.list.horizontalScrollBar().maximum() > 0)  # they scroll
    assert panel.list.verticalScrollBar().maximum() == 0
    last = panel.list.visualItemRect(panel.list.item(15))
    first = panel.list.visualItemRect(panel.list.item(0))
    assert last.top() == first.top() and last.left() > first.left(), "one row"


def test_thumbnail_is_centred_on_the_box_and_fits_the_size():
    small = thumbnail(_variant(1, (255, 0, 0)).image, (200, 100, 260, 150), size=64)
    assert max(small.shape[:2]) == 64
    centre = small[small.shape[0] // 2, small.shape[1] // 2]
    assert tuple(centre) == (255, 0, 0)


def test_clicking_a_variant_chooses_it(qtbot, panel):
    with qtbot.waitSignal(panel.variantChosen) as chosen:
        _click(qtbot, panel, 1)
    assert chosen.args == [1]


def test_pointing_at_a_variant_previews_it_and_leaving_shows_the_photo_again(qtbot, panel):
    with qtbot.waitSignal(panel.previewRequested) as preview:
        centre = panel.list.visualItemRect(panel.list.item(0)).center()
        qtbot.mouseMove(panel.list.viewport(), centre + QPoint(1, 0))
        qtbot.mouseMove(panel.list.viewport(), centre)
    assert preview.args == [0]
    assert panel.seed_label.text() == "Seed: 41"
    with qtbot.waitSignal(panel.previewRequested) as preview:
        QApplication.sendEvent(panel.list.viewport(), QEvent(QEvent.Leave))
    assert preview.args == [-1]
    assert panel.seed_label.text() == "Seeds: 41, 42"


def test_arrow_keys_preview_and_enter_chooses(qtbot, panel):
    panel.list.setFocus()
    with qtbot.waitSignal(panel.previewRequested) as preview:
        qtbot.keyClick(panel.list, Qt.Key_Right)
    assert preview.args == [1]
    with qtbot.waitSignal(panel.variantChosen) as chosen:
        qtbot.keyClick(panel.list, Qt.Key_Return)
    assert chosen.args == [1]


def test_setting_variants_announces_nothing(qtbot, panel):
    with qtbot.assertNotEmitted(panel.previewRequested), qtbot.assertNotEmitted(panel.variantChosen):
        panel.set_variants([_variant(7, (0, 255, 0))])
    assert panel.seeds == [7]
    panel.clear_variants()
    assert panel.list.count() == 0 and panel.seed_label.text() == "No variants yet"


def test_choosing_a_variant_stops_previewing_it(qtbot, panel):
    seen = []
    panel.previewRequested.connect(seen.append)
    _click(qtbot, panel, 1)
    assert seen[-1] == -1 and panel.applied == 1
    QApplication.sendEvent(panel.list.viewport(), QEvent(QEvent.Leave))
    assert seen[-1] == -1, "leaving does not preview the applied variant again"


def test_once_the_canvas_stops_previewing_pointing_at_the_same_variant_previews_it_again(
        qtbot, panel):
    centre = panel.list.visualItemRect(panel.list.item(1)).center()
    with qtbot.waitSignal(panel.previewRequested) as preview:
        qtbot.mouseMove(panel.list.viewport(), centre + QPoint(1, 0))
        qtbot.mouseMove(panel.list.viewport(), centre)
    assert preview.args == [1]
    with qtbot.assertNotEmitted(panel.previewRequested):
        panel.set_previewed(-1)
    assert panel.seed_label.text() == "Seeds: 41, 42"
    with qtbot.waitSignal(panel.previewRequested) as preview:
        panel.list.itemEntered.emit(panel.list.item(1))
    assert preview.args == [1]


def test_a_narrow_strip_keeps_its_thumbnails_and_drops_the_seed_column(qtbot, panel):
    assert not panel.text.isHidden()
    panel.resize(panel.minimumSizeHint().width(), panel.height())
    assert panel.text.isHidden() and panel.list.width() >= panel.list.minimumWidth()
    panel.resize(700, panel.height())
    assert not panel.text.isHidden()


def _point_at(panel, row: int) -> None:
    panel.list.itemEntered.emit(panel.list.item(row))


def test_the_strip_previews_what_the_session_shows_after_a_click_or_an_edit(qtbot, painted):
    window, _engine = painted
    panel, session = window.variants_panel, window.session
    _point_at(panel, 2)
    assert session.previewed_variant == 2
    window.mask_steps.operate("grow", 2)  # an edit: the canvas shows the document again
    qtbot.waitUntil(lambda: not window.mask_steps.busy, timeout=30_000)
    assert session.previewed_variant == -1
    _point_at(panel, 2)
    assert session.previewed_variant == 2, "pointing at the same row again previews it"
    _point_at(panel, 1)
    _click(qtbot, panel, 1)
    assert session.previewed_variant == -1 and panel.applied == 1
    _point_at(panel, 1)
    assert session.previewed_variant == 1
    _point_at(panel, 2)
    assert session.previewed_variant == 2
