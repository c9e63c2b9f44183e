"""Render the README's screenshot: the real window, the sample photo, a mask brushed over the spoon.

    QT_QPA_PLATFORM=offscreen python -m paintnoise_desktop.ui.screenshot [OUT.png]

The mask is painted through the canvas with mouse events, as a user would, and
the window uses throw-away settings, so the user's own are neither read nor changed.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEventLoop, QPoint, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from ..resources import RESOURCES_DIR
from .app_settings import AppSettings
from .main_window import MainWindow

SIZE = (1280, 800)
# Brush strokes over the spoon in the sample photo: (brush diameter, image points)
SPOON_STROKES = (
    (20, [(414, 70), (411, 88), (407, 108)]),
    (20, [(394, 188), (387, 212), (380, 236)]),
    (60, [(352, 262), (372, 264), (383, 284), (366, 300), (347, 292), (360, 280)]),
)


def render(out: Path, photo: Path = RESOURCES_DIR / "sample.jpg") -> None:
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        settings = AppSettings(QSettings(str(Path(folder) / "settings.ini"), QSettings.IniFormat))
        window = MainWindow(settings)
        window.resize(*SIZE)
        window.show()
        QTest.qWaitForWindowExposed(window)
        if not _open(window, photo):
            window.close()
            raise SystemExit(f"could not open {photo}")
        window.canvas.flush()
        for diameter, points in SPOON_STROKES:
            window.canvas.set_brush_size(diameter)
            _stroke(window, points)
        window.canvas.set_brush_size(48)
        window.prompt_bar.find_edit.setText("spoon")
        window.show_message("Brush over what to remove, then press Replace.")
        app.processEvents()
        window.grab().save(str(out))
        window.document.history.mark_clean()
        window.close()


def _open(window: MainWindow, photo: Path) -> bool:
    """Open `photo` as the File menu does (on a worker thread) and wait until it is shown."""
    outcome: list[bool] = []
    waiting = QEventLoop()
    window.files.opened.connect(lambda shown: (outcome.append(shown), waiting.quit()))
    window.files.open_photo(photo)
    if not outcome:
        waiting.exec()
    return outcome[0]


def _stroke(window: MainWindow, points: list[tuple[int, int]]) -> None:
    canvas = window.canvas

    def at(x: int, y: int) -> QPoint:
        return canvas.widget_rect_of((x, y, x + 1, y + 1)).center()

    QTest.mousePress(canvas, Qt.LeftButton, Qt.NoModifier, at(*points[0]))
    for point in points[1:]:
        QTest.mouseMove(canvas, at(*point))
    QTest.mouseRelease(canvas, Qt.LeftButton, Qt.NoModifier, at(*points[-1]))


if __name__ == "__main__":
    render(Path(sys.argv[1]) if len(sys.argv) > 1 else RESOURCES_DIR / "screenshot.png")
