"""Entry point of the `paintnoise` command, and the start of the window.

`paintnoise [PHOTO]` opens the window; `paintnoise edit|mask|models ...` work without
one. Qt is imported only when the window is really opened, so the headless commands
start fast and run where no Qt platform is available.
"""

from __future__ import annotations

import os
import sys

from .cli import main as cli_main

#: Milliseconds after which the window closes itself: lets CI start the real app and end it.
QUIT_AFTER_ENV = "PAINTNOISE_QUIT_AFTER_MS"


def main() -> None:
    sys.exit(cli_main())


def open_window(photo: str | None) -> int:
    """Run the window until it is closed; the exit code."""
    quit_after = os.environ.get(QUIT_AFTER_ENV)
    if quit_after:
        _close_after(int(quit_after))
    from .ui.run import run_app

    return run_app(photo)


def _close_after(milliseconds: int) -> None:
    """Close every window once the event loop has run that long, then quit.

    The titles of the windows are printed on stderr, so a smoke test can see which
    photo was showing.
    """
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])

    def close() -> None:
        titles = [w.windowTitle() for w in app.topLevelWidgets() if w.isVisible()]
        print(f"{QUIT_AFTER_ENV}: closing {titles}", file=sys.stderr)
        app.closeAllWindows()
        app.quit()

    QTimer.singleShot(milliseconds, app, close)
