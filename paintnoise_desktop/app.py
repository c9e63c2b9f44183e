"""Entry point of the `paintnoise` command, and the start of the window.

`paintnoise [PHOTO]` opens the window; `paintnoise edit|mask|models ...` work without
one. Qt is imported only when the window is really opened, so the headless commands
start fast and run where no Qt platform is available.
"""

from __future__ import annotations

import sys

from .cli.main import main as cli_main


def main() -> None:
    sys.exit(cli_main())


def open_window(photo: str | None) -> int:
    """Run the window until it is closed; the exit code."""
    from .ui.run import run_app

    return run_app(photo)
