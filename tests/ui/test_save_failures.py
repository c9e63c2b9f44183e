"""Every failed save from the window is one sentence naming the chosen file, and nothing closes.

Save, Save As, the close prompt and Quit each meet real failures: a read-only mount (when the
tests run as root), a folder that vanished, a name that is a folder, a loop of symbolic links,
a full disk (a tiny tmpfs), and by injection a read-only disk and a permission error. SIGTERM
during a save in the window leaves no temporary file.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from paintnoise_desktop.core import safe_write
from paintnoise_desktop.ui.dialogs import ChangedOnDiskChoice, UnsavedChoice
from tests.core.test_save_faults import tmpfs

from .conftest import ACCEPT_SUGGESTION, ScriptedDialogs, photo
from .test_main_window import open_photo, saved

WAIT_MS = 30_000


class AsksAboutChanges(ScriptedDialogs):
    def __init__(self) -> None:
        super().__init__()
        self.changed_answers: list[ChangedOnDiskChoice] = []
        self.changed_asked: list[str] = []

    def changed_on_disk(self, parent, name: str) -> ChangedOnDiskChoice:
        self.changed_asked.append(name)
        return self.changed_answers.pop(0)


@pytest.fixture
def dialogs() -> AsksAboutChanges:
    return AsksAboutChanges()


def edited(qtbot, window, path: Path):
    """`path` opened and one pixel edit made (unsaved work)."""
    assert open_photo(qtbot, window, path)
    document = window.document
    window.session.apply("Paint", (0, 0, 8, 8), rgb=np.zeros((8, 8, 3), np.uint8))
    assert document.is_dirty
    return document


def said_one_sentence_about(qtbot, window, name: str) -> str:
    qtbot.waitUntil(window.error_box.isVisible, timeout=WAIT_MS)
    text = window.error_box.text()
    assert name in text and ".tmp" not in text and "\n" not in text, text
    assert text.startswith(f"Could not save {name}:"), text
    return text


@pytest.fixture
def read_only_mount(tmp_path: Path):
    """A read-only file system holding a photo, like a locked card (root only)."""
    with tmpfs(tmp_path / "card", "4m",
               lambda card: Image.fromarray(photo(64, 48)).save(card / "card.png"),
               read_only=True) as card:
        yield card


@pytest.mark.parametrize("how", ["close", "quit"])
def test_closing_with_save_on_a_read_only_mount_stays_open_and_says_so(
        qtbot, make_window, dialogs, read_only_mount, how):
    window = make_window()
    edited(qtbot, window, read_only_mount / "card.png")
    dialogs.save_answers = [ACCEPT_SUGGESTION]
    dialogs.unsaved_answers = [UnsavedChoice.SAVE]
    if how == "close":
        assert not window.close()
    else:
        window.commands.quit.trigger()
    assert window.isVisible() and window.document.is_dirty
    text = said_one_sentence_about(qtbot, window, "card-edited.png")
    assert "read-only" in text
    assert sorted(p.name for p in read_only_mount.iterdir()) == ["card.png"]
    window.error_box.close()
    dialogs.unsaved_answers = [UnsavedChoice.DISCARD]
    assert window.close()


def test_plain_save_and_save_as_on_a_read_only_mount_say_so(qtbot, make_window, dialogs,
                                                            read_only_mount):
    window = make_window()
    edited(qtbot, window, read_only_mount / "card.png")
    dialogs.save_answers = [ACCEPT_SUGGESTION, str(read_only_mount / "card.png")]
    assert not saved(qtbot, window, window.files.save)
    said_one_sentence_about(qtbot, window, "card-edited.png")
    window.error_box.close()
    assert not saved(qtbot, window, window.files.save_as)
    assert "unchanged" in said_one_sentence_about(qtbot, window, "card.png")


def failing_temporary_files(monkeypatch, code: int) -> None:
    """The disk refuses to make (and so to remove) the save's temporary file with `code`."""
    real_open, real_unlink = os.open, Path.unlink

    def refusing_open(path, *args, **kwargs):
        if str(path).endswith(".tmp"):
            raise OSError(code, os.strerror(code), str(path))
        return real_open(path, *args, **kwargs)

    def refusing_unlink(self, *args, **kwargs):
        if self.name.endswith(".tmp"):
            raise OSError(code, os.strerror(code), str(self))
        return real_unlink(self, *args, **kwargs)

    monkeypatch.setattr(safe_write.os, "open", refusing_open)
    monkeypatch.setattr(safe_write.Path, "unlink", refusing_unlink)


@pytest.mark.parametrize(("code", "reason"), [(errno.EROFS, "read-only"),
                                              (errno.EACCES, "permission denied"),
                                              (errno.ENOSPC, "disk is full")])
def test_the_close_prompt_survives_each_refusal_by_injection(qtbot, make_window, dialogs,
                                                             sample_photo, monkeypatch,
                                                             code, reason):
    window = make_window()
    edited(qtbot, window, sample_photo)
    failing_temporary_files(monkeypatch, code)
    dialogs.save_answers = [ACCEPT_SUGGESTION]
    dialogs.unsaved_answers = [UnsavedChoice.SAVE]
    assert not window.close()
    assert window.isVisible() and window.document.is_dirty
    assert reason in said_one_sentence_about(qtbot, window, "sample-edited.jpg")
    monkeypatch.undo()
    window.error_box.close()
    dialogs.unsaved_answers = [UnsavedChoice.SAVE]
    dialogs.save_answers = [ACCEPT_SUGGESTION]
    assert window.close()  # the disk is back: the save works and the window closes
    assert sample_photo.with_name("sample-edited.jpg").is_file()


def test_save_as_to_impossible_names(qtbot, make_window, dialogs, sample_photo, tmp_path):
    window = make_window()
    edited(qtbot, window, sample_photo)
    folder_named = tmp_path / "folder.jpg"
    folder_named.mkdir()
    loop = tmp_path / "loop.jpg"
    loop.symlink_to(tmp_path / "loop2.jpg")
    (tmp_path / "loop2.jpg").symlink_to(loop)
    vanished = tmp_path / "gone"
    vanished.mkdir()
    cases = {folder_named: "it is a folder", loop: "loop", vanished / "out.jpg": "not exist"}
    for target, reason in cases.items():
        if target.parent == vanished:
            vanished.rmdir()  # the folder went between choosing and saving
        dialogs.save_answers = [str(target)]
        assert not saved(qtbot, window, window.files.save_as)
        assert reason in said_one_sentence_about(qtbot, window, target.name)
        window.error_box.close()
        assert window.document.is_dirty
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_full_disk_says_so_and_leaves_nothing(qtbot, make_window, dialogs, tmp_path):
    with tmpfs(tmp_path / "small", "64k") as small:
        window = make_window()
        noisy = tmp_path / "noisy.png"
        Image.fromarray(np.random.default_rng(0).integers(0, 256, (200, 300, 3), np.uint8)).save(
            noisy)
        edited(qtbot, window, noisy)
        dialogs.save_answers = [str(small / "out.png")]
        assert not saved(qtbot, window, window.files.save_as)
        assert "disk is full" in said_one_sentence_about(qtbot, window, "out.png")
        assert list(small.iterdir()) == []


def test_save_asks_before_writing_over_a_file_changed_by_another_program(
        qtbot, make_window, dialogs, sample_photo):
    window = make_window()
    edited(qtbot, window, sample_photo)
    dialogs.save_answers = [ACCEPT_SUGGESTION]
    assert saved(qtbot, window, window.files.save)
    target = sample_photo.with_name("sample-edited.jpg")
    window.session.apply("Paint", (8, 8, 16, 16), rgb=np.zeros((8, 8, 3), np.uint8))
    assert saved(qtbot, window, window.files.save)  # unchanged on disk: no question
    assert dialogs.changed_asked == []

    Image.fromarray(photo(40, 30)).save(target, format="JPEG")  # another program's file
    theirs = target.read_bytes()
    window.session.apply("Paint", (16, 16, 24, 24), rgb=np.zeros((8, 8, 3), np.uint8))
    dialogs.changed_answers = [ChangedOnDiskChoice.CANCEL]
    assert not window.files.save()
    assert target.read_bytes() == theirs and dialogs.changed_asked == ["sample-edited.jpg"]

    dialogs.changed_answers = [ChangedOnDiskChoice.SAVE_AS]
    other = sample_photo.with_name("mine.jpg")
    dialogs.save_answers = [str(other)]
    assert saved(qtbot, window, window.files.save)
    assert target.read_bytes() == theirs and other.is_file()

    os.replace(sample_photo, other)  # mine.jpg is replaced by a different file (new inode)
    window.session.apply("Paint", (24, 24, 32, 32), rgb=np.zeros((8, 8, 3), np.uint8))
    dialogs.changed_answers = [ChangedOnDiskChoice.OVERWRITE]
    assert saved(qtbot, window, window.files.save)
    assert Image.open(other).size == (window.document.width, window.document.height)
    assert dialogs.changed_asked == ["sample-edited.jpg", "sample-edited.jpg", "mine.jpg"]


WINDOW_SAVING_SLOWLY = '''
import sys, time
from pathlib import Path
import numpy as np
from PIL import Image
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
from paintnoise_desktop.core import imagefile
from paintnoise_desktop.ui.app_settings import AppSettings
from paintnoise_desktop.ui.main_window import MainWindow

folder = Path(sys.argv[1])
writer = imagefile.write_atomically


def slowly(path, write):  # a save that stalls once the photo is in its temporary file
    def write_then_wait(file):
        write(file)
        (folder / "writing").touch()
        time.sleep(60)
    writer(path, write_then_wait)


imagefile.write_atomically = slowly
app = QApplication([])
window = MainWindow(AppSettings(QSettings(str(folder / "settings.ini"), QSettings.IniFormat)))
window.show()
Image.fromarray(np.zeros((40, 60, 3), np.uint8)).save(folder / "in.png")
window.files.opened.connect(
    lambda ok: QTimer.singleShot(10, lambda: window.files.save_to(folder / "out.png")))
window.files.open_photo(folder / "in.png")
app.exec()
'''


def test_sigterm_while_the_window_saves_leaves_no_temporary_file(tmp_path):
    script = tmp_path / "window.py"
    script.write_text(WINDOW_SAVING_SLOWLY)
    child = subprocess.Popen([sys.executable, str(script), str(tmp_path)],
                             env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
                             stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "writing").exists():
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        assert [p.name for p in tmp_path.glob(".out.png.*.tmp")]
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=20) == -signal.SIGTERM
    finally:
        child.kill()
    assert not list(tmp_path.glob("*.tmp")) + list(tmp_path.glob(".*.tmp"))
    assert not (tmp_path / "out.png").exists()
