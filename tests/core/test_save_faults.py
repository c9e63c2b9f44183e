"""The atomic writer under faults: every failure a sentence about the chosen file, no temporary
file left on any path that runs code, stale ones cleaned, the folder synced, links kept."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from paintnoise_desktop.cli.paths import check_writable
from paintnoise_desktop.core import safe_write
from paintnoise_desktop.core.errors import ImageFileError
from paintnoise_desktop.core.imagefile import save_image
from paintnoise_desktop.core.safe_write import (
    STALE_AFTER_S,
    file_stamp,
    remove_stale_temporaries,
    write_atomically,
)


def pixels() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (24, 32, 3), np.uint8)


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_read_only_disk_refusing_the_cleanup_too_is_one_sentence(tmp_path, monkeypatch):
    """The reported case: EROFS on creating the temporary file and again on removing it."""
    real_open = os.open

    def read_only(path, *args, **kwargs):
        if str(path).endswith(".tmp"):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, *args, **kwargs)

    def unlink(self, missing_ok=False):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(safe_write.os, "open", read_only)
    monkeypatch.setattr(safe_write.Path, "unlink", unlink)
    with pytest.raises(ImageFileError) as caught:
        save_image(tmp_path / "brand-new.jpg", pixels())
    assert str(caught.value) == ("Could not save brand-new.jpg: the disk is read-only. "
                                 "Nothing was written.")


def test_an_exception_while_writing_removes_the_temporary_file(tmp_path):
    target = tmp_path / "photo.png"
    target.write_bytes(b"old")

    def fails(file):
        file.write(b"half")
        raise ValueError("the encoder gave up")

    with pytest.raises(ImageFileError, match="photo.png: the encoder gave up. The original"):
        write_atomically(target, fails)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(target, lambda file: (_ for _ in ()).throw(KeyboardInterrupt()))
    assert target.read_bytes() == b"old" and temporaries(tmp_path) == []


@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT"])
def test_a_signal_during_a_save_removes_the_temporary_file(tmp_path, name):
    """A process killed by SIGTERM (or interrupted) mid-save leaves no temporary file."""
    ready = tmp_path / "ready"
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from paintnoise_desktop.core.safe_write import (
            removing_temporaries_on_signals, write_atomically)

        def slow(file):
            file.write(b"x" * 1000)
            Path({str(ready)!r}).touch()
            time.sleep(30)

        with removing_temporaries_on_signals():
            write_atomically(Path({str(tmp_path / "out.png")!r}), slow)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while not ready.exists():
        assert time.monotonic() < deadline and child.poll() is None
        time.sleep(0.02)
    assert len(temporaries(tmp_path)) == 1
    child.send_signal(getattr(signal, name))
    child.communicate(timeout=20)
    assert child.returncode != 0
    if name == "SIGTERM":
        assert child.returncode == -signal.SIGTERM
    assert temporaries(tmp_path) == [] and not (tmp_path / "out.png").exists()


def test_stale_temporaries_from_earlier_kills_go_on_the_next_save(tmp_path):
    old = time.time() - STALE_AFTER_S - 60
    stale = tmp_path / ".holiday.jpg.0123abcd.tmp"
    fresh = tmp_path / ".holiday.jpg.89abcdef.tmp"  # perhaps a save under way elsewhere
    not_ours = [tmp_path / ".holiday.jpg.tmp", tmp_path / "holiday.jpg.0123abcd.tmp",
                tmp_path / ".x.0123ABCD.tmp"]
    for path in (stale, fresh, *not_ours):
        path.write_bytes(b"leftover")
        os.utime(path, (old, old) if path is not fresh else None)
    folder = tmp_path / ".y.jpg.01234567.tmp"
    folder.mkdir()
    os.utime(folder, (old, old))

    save_image(tmp_path / "other.png", pixels())
    assert not stale.exists() and fresh.exists() and folder.is_dir()
    assert all(path.exists() for path in not_ours)
    assert remove_stale_temporaries(tmp_path, now=time.time() + STALE_AFTER_S + 1) == [fresh]


def test_the_folder_is_synced_after_the_rename(tmp_path, monkeypatch):
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor):
        events.append("sync folder" if os.path.isdir(f"/proc/self/fd/{descriptor}")
                      else "sync file")
        real_fsync(descriptor)

    def replace(source, target):
        events.append("rename")
        real_replace(source, target)

    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to tell a folder's descriptor from a file's")
    monkeypatch.setattr(safe_write.os, "fsync", fsync)
    monkeypatch.setattr(safe_write.os, "replace", replace)
    save_image(tmp_path / "photo.png", pixels())
    assert events == ["sync file", "rename", "sync folder"]


def test_saving_through_a_link_keeps_the_link(tmp_path):
    real = tmp_path / "real.png"
    save_image(real, pixels())
    link = tmp_path / "link.png"
    link.symlink_to(real)
    save_image(link, 255 - pixels())
    assert link.is_symlink() and temporaries(tmp_path) == []


@pytest.mark.parametrize(("make", "said"), [
    (lambda d: (d / "a.jpg").symlink_to(d / "b.jpg") or (d / "b.jpg").symlink_to(d / "a.jpg"),
     "a.jpg: its symbolic links form a loop. Nothing was written."),
    (lambda d: (d / "a.jpg").mkdir(), "a.jpg: it is a folder. Choose a file name."),
    (lambda d: os.mkfifo(d / "a.jpg"), "a.jpg: it is not a plain file"),
])
def test_names_that_cannot_be_photos_are_refused_before_any_work(tmp_path, make, said):
    make(tmp_path)
    target = tmp_path / "a.jpg"
    with pytest.raises(ImageFileError) as caught:
        check_writable([target], tmp_path / "in.png", overwrite=False)
    assert str(caught.value).startswith(f"Could not save {said}")
    with pytest.raises(ImageFileError) as caught:
        save_image(target, pixels())
    assert str(caught.value).startswith(f"Could not save {said}")


def test_a_missing_output_folder_is_refused_before_any_work(tmp_path):
    with pytest.raises(ImageFileError, match="a.jpg: the file or its folder does not exist"):
        check_writable([tmp_path / "gone" / "a.jpg"], tmp_path / "in.png", overwrite=True)


def test_a_stamp_tells_a_replaced_file(tmp_path):
    path = tmp_path / "photo.png"
    save_image(path, pixels())
    stamp = file_stamp(path)
    assert file_stamp(path) == stamp
    replacement = tmp_path / "other.png"
    save_image(replacement, pixels())
    os.replace(replacement, path)  # same bytes, another file
    assert file_stamp(path) != stamp and file_stamp(tmp_path / "none") is None


@contextmanager
def tmpfs(folder: Path, size: str, fill=None, read_only: bool = False) -> Iterator[Path]:
    """A small file system of its own at `folder`, holding what `fill(folder)` writes, then
    remounted read-only if asked (like a locked card). Needs root: the test is skipped else."""
    if os.geteuid() != 0:
        pytest.skip("mounting a file system needs root")
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                      check=False, capture_output=True).returncode != 0:
        pytest.skip("mounting is not permitted here")
    try:
        if fill is not None:
            fill(folder)
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False, capture_output=True)


@pytest.fixture
def read_only_folder(tmp_path):
    with tmpfs(tmp_path / "ro", "1m", lambda folder: (folder / "old.jpg").write_bytes(b"old"),
               read_only=True) as folder:
        yield folder


def test_a_real_read_only_mount(read_only_folder):
    for name, outcome in (("brand-new.jpg", "Nothing was written."),
                          ("old.jpg", "The original file is unchanged.")):
        with pytest.raises(ImageFileError) as caught:
            save_image(read_only_folder / name, pixels())
        assert str(caught.value) == f"Could not save {name}: the disk is read-only. {outcome}"
        with pytest.raises(ImageFileError, match="read-only"):
            check_writable([read_only_folder / name], read_only_folder / "x.png", True)


def test_the_command_line_says_one_line_for_a_loop_and_a_read_only_mount(tmp_path,
                                                                          read_only_folder):
    from PIL import Image

    photo, mask = tmp_path / "in.png", tmp_path / "mask.png"
    Image.fromarray(pixels()).save(photo)
    Image.fromarray(np.full((24, 32), 255, np.uint8)).save(mask)
    (tmp_path / "a.jpg").symlink_to(tmp_path / "b.jpg")
    (tmp_path / "b.jpg").symlink_to(tmp_path / "a.jpg")
    for output, said in ((tmp_path / "a.jpg", "its symbolic links form a loop"),
                         (read_only_folder / "out.jpg", "the disk is read-only")):
        run = subprocess.run(
            [sys.executable, "-m", "paintnoise_desktop", "edit", str(photo), "--mask", str(mask),
             "--inpainter", "opencv-telea", "-o", str(output)],
            capture_output=True, text=True, timeout=120, check=False)
        assert run.returncode != 0
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and said in lines[0] and ".tmp" not in lines[0], run.stderr
