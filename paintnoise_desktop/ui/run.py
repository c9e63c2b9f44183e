"""Start the window: `run_app(photo)` is what `paintnoise [PHOTO]` calls.

Sessions a crash left unsaved are offered first; each one recovered gets a window, and
the photo asked for opens in a window of its own when the first one holds a recovered
session.
"""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from ..resources import RESOURCES_DIR
from .dialogs import Dialogs
from .main_window import APP_NAME, MainWindow

#: Milliseconds after which the window closes itself: lets CI start the real app and end it.
QUIT_AFTER_ENV = "PAINTNOISE_QUIT_AFTER_MS"


def run_app(photo: str | None = None, dialogs: Dialogs | None = None) -> int:
    """Open the window (with `photo`, if given) and run until it is closed; the exit code.
    `dialogs` answers the windows' questions (the real dialogs unless given)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("PaintNoise Desktop")
    app.setOrganizationName(APP_NAME)
    icon = RESOURCES_DIR / "icon.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    window = MainWindow(dialogs=dialogs)
    window.show()
    ended = []  # a smoke run's timer fired (it may fire while the recovery question is open)
    quit_after = os.environ.get(QUIT_AFTER_ENV, "")
    if quit_after.isdigit():
        QTimer.singleShot(int(quit_after), app, lambda: ended.append(_close_all(app)))
    recovering = window.projects.offer_recovery()
    if ended:
        return 0
    windows = [window] + [MainWindow(dialogs=dialogs) for _ in recovering[1:]]
    for shown, orphan in zip(windows, recovering):
        shown.show()
        shown.projects.recover(orphan)
    if photo:
        if recovering:
            windows.append(MainWindow(dialogs=dialogs))
            windows[-1].show()
        windows[-1].files.open_photo(photo)
    return app.exec()


def _close_all(app: QApplication) -> None:
    """Close every window and quit, naming the windows on stderr so a smoke test can see
    which photo was showing. A question still open (recovering a crashed session) is answered
    "later", so its sessions stay for the next start."""
    while (question := app.activeModalWidget()) is not None:
        question.reject()
    titles = [w.windowTitle() for w in app.topLevelWidgets() if w.isVisible()]
    print(f"{QUIT_AFTER_ENV}: closing {titles}", file=sys.stderr)
    app.closeAllWindows()
    app.quit()
