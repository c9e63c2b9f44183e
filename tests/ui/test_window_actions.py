"""The window's actions: shortcuts shown in the menus, undo/redo icons, photo-only actions."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QFontMetrics, QKeySequence
from PySide6.QtWidgets import QMainWindow, QStyle

from paintnoise_desktop.ui.window_actions import WindowActions


@pytest.fixture
def window(qtbot) -> QMainWindow:
    widget = QMainWindow()
    qtbot.addWidget(widget)
    return widget


def test_settings_shows_its_shortcut_on_every_platform(window):
    actions = WindowActions(window)
    assert actions.settings.shortcut() == QKeySequence("Ctrl+,")
    for action in window.actions():
        assert all(not key.isEmpty() for key in action.shortcuts()), action.text()


def test_undo_and_redo_are_not_navigation_arrows(window):
    actions = WindowActions(window)
    style = window.style()
    for action, arrow in ((actions.undo, QStyle.SP_ArrowBack),
                          (actions.redo, QStyle.SP_ArrowForward)):
        assert not action.icon().isNull()
        drawn = action.icon().pixmap(32, 32).toImage()
        assert drawn != style.standardIcon(arrow).pixmap(32, 32).toImage()
    undo, redo = (a.icon().pixmap(32, 32).toImage() for a in (actions.undo, actions.redo))
    assert undo != redo


def test_actions_that_need_a_photo_can_be_turned_off(window):
    actions = WindowActions(window)
    actions.set_photo_open(False)
    for action in (actions.zoom_fit, actions.zoom_actual, actions.toggle_overlay, actions.save):
        assert not action.isEnabled()
    assert actions.open.isEnabled() and actions.settings.isEnabled()
    actions.set_photo_open(True)
    assert actions.zoom_fit.isEnabled() and actions.toggle_overlay.isEnabled()


def test_help_lists_every_shortcut_cancel_all_included(qtbot, make_window):
    window = make_window()
    sheet = window.open_shortcuts()
    qtbot.addWidget(sheet)
    rows = {does: keys for keys, does in sheet.rows}
    assert rows["Cancel All Jobs"] == QKeySequence("Shift+Esc").toString(QKeySequence.NativeText)
    assert rows["Keyboard Shortcuts"] and rows["Undo"] and "Pan the photo" in rows
    assert "Cancel the running job" in rows  # a key the prompt bar handles itself


def test_the_sheet_names_the_compare_key_and_shows_every_row_whole(qtbot, make_window):
    window = make_window()
    sheet = window.open_shortcuts()
    qtbot.addWidget(sheet)
    qtbot.waitExposed(sheet)
    rows = {does: keys for keys, does in sheet.rows}
    assert rows["See the photo as it was opened"] == "Hold \\"
    table = sheet.table
    screen = window.screen().availableGeometry()
    # every row in sight, unless the sheet already takes most of the screen's height
    assert table.verticalScrollBar().maximum() == 0 or sheet.height() >= int(screen.height() * 0.85)
    for row in range(table.rowCount()):
        for column in (0, 1):
            item = table.item(row, column)
            text = QFontMetrics(item.font()).horizontalAdvance(item.text())
            assert table.columnWidth(column) >= text, item.text()
    assert sheet.width() <= window.screen().availableGeometry().width()
