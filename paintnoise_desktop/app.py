"""Entry point of the `paintnoise` command, and the start of the window.

`paintnoise [PHOTO]` opens the window; `paintnoise edit|mask|models ...` work without
one. Qt is imported only when the window is really opened, so the headless commands
start fast and run where no Qt platform is available.

On Linux the window first checks that the system libraries Qt loads are there: without
them Qt aborts the process with a hint that names the wrong library ("xcb-cursor0 is
needed") and suggests reinstalling, so the user is told instead which ones are missing.
"""

from __future__ import annotations

import ctypes
import os
import sys

from .cli.main import main as cli_main
from .core.errors import PaintNoiseError

#: The system libraries Qt's GUI needs on Linux, by the Debian/Ubuntu package holding each.
QT_LIBRARIES = {
    "libegl1": "libEGL.so.1",
    "libgl1": "libGL.so.1",
    "libxkbcommon0": "libxkbcommon.so.0",
    "libfontconfig1": "libfontconfig.so.1",
    "libdbus-1-3": "libdbus-1.so.3",
    "libglib2.0-0": "libglib-2.0.so.0",
}
#: What Qt's xcb platform plugin (a window on X11, or on XWayland) loads on top of those.
XCB_LIBRARIES = {
    "libxcb-cursor0": "libxcb-cursor.so.0",
    "libxcb-icccm4": "libxcb-icccm.so.4",
    "libxcb-keysyms1": "libxcb-keysyms.so.1",
    "libxcb-image0": "libxcb-image.so.0",
    "libxcb-randr0": "libxcb-randr.so.0",
    "libxcb-render-util0": "libxcb-render-util.so.0",
    "libxcb-shape0": "libxcb-shape.so.0",
    "libxcb-xkb1": "libxcb-xkb.so.1",
    "libxkbcommon-x11-0": "libxkbcommon-x11.so.0",
    "libx11-xcb1": "libX11-xcb.so.1",
}


def main() -> None:
    sys.exit(cli_main())


def open_window(photo: str | None) -> int:
    """Run the window until it is closed; the exit code."""
    if sys.platform.startswith("linux"):
        check_qt_libraries(qt_platform())
    from .ui.run import run_app

    return run_app(photo)


def qt_platform() -> str:
    """The platform plugin Qt tries first: QT_QPA_PLATFORM's first choice, else Wayland in a
    Wayland session, else xcb."""
    requested = os.environ.get("QT_QPA_PLATFORM", "").strip()
    if requested:
        return requested.split(";")[0].split(":")[0]
    if os.environ.get("WAYLAND_DISPLAY") or os.environ.get("XDG_SESSION_TYPE") == "wayland":
        return "wayland"
    return "xcb"


def load_library(name: str) -> None:
    """Load a shared library as Qt will (raises OSError when the dynamic loader cannot)."""
    ctypes.CDLL(name)


def missing_qt_libraries(platform: str) -> dict[str, str]:
    """Package -> library, for each library Qt needs for `platform` that cannot be loaded."""
    needed = QT_LIBRARIES | (XCB_LIBRARIES if platform == "xcb" else {})
    missing = {}
    for package, library in needed.items():
        try:
            load_library(library)
        except OSError:
            missing[package] = library
    return missing


def check_qt_libraries(platform: str) -> None:
    """Fail with one sentence naming the missing libraries and the line that installs them."""
    missing = missing_qt_libraries(platform)
    if not missing:
        return
    libraries = list(missing.values())
    named = libraries[0] if len(libraries) == 1 else (
        f"{', '.join(libraries[:-1])} and {libraries[-1]}")
    verb = "is" if len(libraries) == 1 else "are"
    raise PaintNoiseError(
        f"The window cannot open: Qt's {platform} platform needs {named}, which {verb} not "
        f"installed; on Debian or Ubuntu install {'it' if len(libraries) == 1 else 'them'} with "
        f"`sudo apt-get install {' '.join(missing)}` (the commands without a window, such as "
        "`paintnoise edit`, work as they are).")
