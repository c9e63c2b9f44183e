"""Before Qt starts on Linux, a missing system library is named in one sentence, not Qt's abort."""

from __future__ import annotations

import pytest

from paintnoise_desktop import app
from paintnoise_desktop.cli import main as cli


@pytest.fixture
def loader(monkeypatch):
    """The dynamic loader as the test says: the libraries in `loader.absent` cannot load."""

    class Loader:
        def __init__(self) -> None:
            self.absent: set[str] = set()
            self.asked: list[str] = []

        def __call__(self, name: str) -> None:
            self.asked.append(name)
            if name in self.absent:
                raise OSError(f"{name}: cannot open shared object file")

    fake = Loader()
    monkeypatch.setattr(app, "load_library", fake)
    return fake


@pytest.mark.skipif(not app.sys.platform.startswith("linux"), reason="the check is Linux's")
def test_two_missing_xcb_libraries_are_named_with_the_line_that_installs_them(
        loader, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    loader.absent = {"libxcb-icccm.so.4", "libxcb-keysyms.so.1"}
    opened = []
    monkeypatch.setattr("paintnoise_desktop.ui.run.run_app", lambda photo: opened.append(photo))

    assert cli.main([str(tmp_path / "photo.jpg")]) == 1

    assert opened == []
    assert capsys.readouterr().err.strip() == (
        "paintnoise: error: The window cannot open: Qt's xcb platform needs libxcb-icccm.so.4 "
        "and libxcb-keysyms.so.1, which are not installed; on Debian or Ubuntu install them "
        "with `sudo apt-get install libxcb-icccm4 libxcb-keysyms1` (the commands without a "
        "window, such as `paintnoise edit`, work as they are).")


def test_every_library_qt_needs_for_a_window_is_checked(loader):
    assert app.missing_qt_libraries("xcb") == {}
    assert set(loader.asked) == set(app.QT_LIBRARIES.values()) | set(app.XCB_LIBRARIES.values())


def test_other_platforms_need_only_the_gui_libraries(loader):
    loader.absent = {"libEGL.so.1", "libxcb-cursor.so.0"}
    assert app.missing_qt_libraries("offscreen") == {"libegl1": "libEGL.so.1"}
    assert "libxcb-cursor.so.0" not in loader.asked
    with pytest.raises(app.PaintNoiseError) as raised:
        app.check_qt_libraries("wayland")
    assert "Qt's wayland platform needs libEGL.so.1, which is not installed" in str(raised.value)
    assert "`sudo apt-get install libegl1`" in str(raised.value)


@pytest.mark.parametrize("environment, platform", [
    ({}, "xcb"),
    ({"QT_QPA_PLATFORM": "offscreen"}, "offscreen"),
    ({"QT_QPA_PLATFORM": "xcb:display=:1"}, "xcb"),
    ({"QT_QPA_PLATFORM": "wayland;xcb"}, "wayland"),
    ({"WAYLAND_DISPLAY": "wayland-0"}, "wayland"),
    ({"XDG_SESSION_TYPE": "wayland"}, "wayland"),
    ({"XDG_SESSION_TYPE": "x11", "DISPLAY": ":0"}, "xcb"),
])
def test_the_platform_is_the_one_qt_tries_first(monkeypatch, environment, platform):
    for name in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert app.qt_platform() == platform


def test_the_real_loader_finds_a_library_every_linux_has_and_refuses_a_made_up_one():
    if not app.sys.platform.startswith("linux"):
        pytest.skip("the check is Linux's")
    app.load_library("libc.so.6")
    with pytest.raises(OSError):
        app.load_library("libpaintnoise-no-such-library.so.0")
