"""Keys: the shortcuts sheet is read from the real bindings, and Enter gives the keyboard back."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow, QVBoxLayout, QWidget

from paintnoise_desktop.engine.inpaint.replace import MAX_VARIANTS
from paintnoise_desktop.ui.canvas import CANVAS_KEYS, Canvas
from paintnoise_desktop.ui.prompt_bar import PROMPT_KEYS, PromptBar
from paintnoise_desktop.ui.shortcuts_dialog import ShortcutsDialog, keyboard_shortcuts
from paintnoise_desktop.ui.window_actions import WindowActions


@pytest.fixture
def actions(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    yield WindowActions(window)
    window.close()


def native(keys: str) -> str:
    return QKeySequence(keys).toString(QKeySequence.NativeText)


def test_the_sheet_lists_each_actions_real_shortcut(qtbot, actions):
    dialog = ShortcutsDialog(actions.undo.parent().actions(), CANVAS_KEYS + PROMPT_KEYS)
    qtbot.addWidget(dialog)
    rows = {does: keys for keys, does in dialog.rows}
    assert rows["Undo"] == QKeySequence(QKeySequence.Undo).toString(QKeySequence.NativeText)
    assert rows["Redo"] == f"{native('Ctrl+Shift+Z')} or {native('Ctrl+Y')}"
    assert rows["Brush: Add to mask"] == "B" and rows["Show Mask"] == "M"
    assert rows["Settings"] == native("Ctrl+,")
    assert "Model Manager" not in rows, "actions without a key are left out"
    assert rows["Pan the photo"].startswith("Space")
    assert rows["Cancel the running job"] == "Esc"
    assert dialog.table.rowCount() == len(dialog.rows)
    assert dialog.table.item(0, 0).text() == dialog.rows[0][0]


def test_a_changed_binding_shows_as_it_is(actions):
    actions.zoom_fit.setShortcut(QKeySequence("Ctrl+9"))
    rows = {does: keys for keys, does in keyboard_shortcuts([actions.zoom_fit])}
    assert rows == {"Fit to Window": native("Ctrl+9")}
    actions.zoom_fit.setShortcuts([])
    assert keyboard_shortcuts([actions.zoom_fit]) == []


def test_the_filter_keeps_matching_rows(qtbot, actions):
    dialog = ShortcutsDialog(actions.undo.parent().actions(), CANVAS_KEYS)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.filter_edit, "zoom")
    assert dialog.visible_rows()
    assert all("zoom" in f"{keys} {does}".lower() for keys, does in dialog.visible_rows())
    dialog.filter_edit.clear()
    assert len(dialog.visible_rows()) == len(dialog.rows)


def test_mnemonics_and_ellipses_are_not_shown(qtbot):
    action = QAction("Save &As && Export…")
    action.setShortcut(QKeySequence("Ctrl+Shift+S"))
    assert keyboard_shortcuts([action]) == [(native("Ctrl+Shift+S"), "Save As & Export")]


# -- focus after a request --------------------------------------------------------------------


@pytest.fixture
def bar_and_canvas(qtbot):
    host = QWidget()
    qtbot.addWidget(host)
    bar, canvas = PromptBar(), Canvas()
    layout = QVBoxLayout(host)
    layout.addWidget(bar)
    layout.addWidget(canvas, 1)
    host.resize(1000, 500)
    host.show()
    qtbot.waitExposed(host)
    bar.hand_focus_to(canvas)
    yield bar, canvas
    host.close()


@pytest.mark.parametrize("field", ["find", "replace"])
def test_enter_sends_the_request_and_gives_the_keyboard_to_the_canvas(qtbot, bar_and_canvas,
                                                                     field):
    bar, canvas = bar_and_canvas
    edit = bar.find_edit if field == "find" else bar.replace_edit
    signal = bar.findRequested if field == "find" else bar.replaceRequested
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    qtbot.keyClicks(edit, "red car")
    # the window reacts as it will: busy, buttons off (a queued job), which must not pull
    # the focus to another field
    signal.connect(lambda *_: (bar.set_busy(True), bar.find_button.setEnabled(False),
                               bar.replace_button.setEnabled(False)))
    with qtbot.waitSignal(signal):
        qtbot.keyClick(edit, Qt.Key_Return)
    qtbot.waitUntil(canvas.hasFocus)
    QApplication.processEvents()
    assert QApplication.focusWidget() is canvas
    assert "red car" in edit.text(), "the text stays for the next request"
    with qtbot.waitSignal(canvas.brushSizeChanged):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key_BracketRight)  # a canvas key works


def test_clicking_find_also_gives_the_keyboard_back(qtbot, bar_and_canvas):
    bar, canvas = bar_and_canvas
    bar.find_edit.setText("bin")
    with qtbot.waitSignal(bar.findRequested) as asked:
        qtbot.mouseClick(bar.find_button, Qt.LeftButton)
    assert asked.args == ["bin"]
    qtbot.waitUntil(canvas.hasFocus)


def test_without_a_target_the_field_keeps_the_keyboard(qtbot, bar_and_canvas):
    bar, _canvas = bar_and_canvas
    bar.hand_focus_to(None)
    bar.find_edit.setFocus()
    qtbot.waitUntil(bar.find_edit.hasFocus)
    with qtbot.waitSignal(bar.findRequested):
        qtbot.keyClick(bar.find_edit, Qt.Key_Return)
    assert bar.find_edit.hasFocus()


def test_the_bar_shows_the_find_mode_and_variants_settings(qtbot, app_settings):
    bar = PromptBar()
    qtbot.addWidget(bar)
    bar.bind_settings(app_settings)
    assert bar.variants_spin.maximum() == MAX_VARIANTS
    app_settings.find_mode = "all"
    assert bar.find_mode == "all"
    bar.variants_spin.setValue(4)
    assert app_settings.variants == 4
    bar.set_find_mode("best")
    assert app_settings.find_mode == "best"
