"""The history list: long step names are cut short with their whole text in a tooltip."""

from __future__ import annotations

from paintnoise_desktop.ui.history_panel import HistoryPanel

LONG = "Replace: a very long description of a blue van parked by the sea at dawn"


def test_long_names_are_elided_not_scrolled(qtbot):
    panel = HistoryPanel()
    qtbot.addWidget(panel)
    panel.resize(150, 200)
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_history(["Brush", LONG], 2)
    assert panel.horizontalScrollBar().maximum() == 0
    assert panel.item(2).toolTip() == LONG and panel.item(2).text() == LONG
