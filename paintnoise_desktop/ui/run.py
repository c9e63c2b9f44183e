"""Start the window: `run_app(photo)` is what `paintnoise [PHOTO]` calls."""

from __future__ import annotations

import sys

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from ..resources import RESOURCES_DIR
from .main_window import APP_NAME, MainWindow


def run_app(photo: str | None = None) -> int:
    """Open the window (with `photo`, if given) and run until it is closed; the exit code."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("PaintNoise Desktop")
    app.setOrganizationName(APP_NAME)
    icon = RESOURCES_DIR / "icon.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    window = MainWindow()
    window.show()
    if photo:
        window.files.open_photo(photo)
    return app.exec()
