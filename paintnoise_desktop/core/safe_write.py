"""Writing a file so that a failure or a kill never leaves half of it: the atomic writer.

The new content goes to a hidden temporary file beside the target (`.NAME.xxxxxxxx.tmp`),
is synced, moved over the target in one step, and the folder is synced so the move itself
survives a power cut. Every way out that can run code removes the temporary file: an
exception, Ctrl+C, and SIGTERM while `removing_temporaries_on_signals` is in force. A kill
that runs no code (kill -9, a crash) can still leave one; the next save to that folder
removes such leftovers once they are older than `STALE_AFTER_S`.

Every failure is an `ImageFileError` whose sentence names the file the user chose, never the
temporary one, and says whether the old file is unchanged.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import signal
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import ImageFileError

#: A temporary file this old is no save in progress: a kill left it.
STALE_AFTER_S = 15 * 60
TEMPORARY_NAME = re.compile(r"\..+\.[0-9a-f]{8}\.tmp")
_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows needs it; elsewhere it does not exist
_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP")
                 if hasattr(signal, name))
_OS_REASONS = {
    errno.ENOENT: "the file or its folder does not exist",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the disk is read-only",
    errno.EISDIR: "it is a folder",
    errno.ENOTDIR: "part of its folder path is a file, not a folder",
    errno.ELOOP: "its symbolic links form a loop",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EIO: "the disk reported an input/output error",
}

_in_flight: set[Path] = set()
_in_flight_lock = threading.Lock()


def os_reason(error: OSError) -> str:
    """What an operating-system error means, in words for the user."""
    return _OS_REASONS.get(error.errno or 0, error.strerror or str(error))


@dataclass(frozen=True)
class FileStamp:
    """What a file on disk was when it was read or written, to tell whether another program
    has replaced or changed it since."""

    device: int
    inode: int
    size: int
    modified_ns: int


def file_stamp(path: str | Path) -> FileStamp | None:
    """The stamp of the file at `path` (following links), or None when there is none."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return FileStamp(status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


def write_atomically(path: str | Path, write: Callable[[BinaryIO], None]) -> None:
    """Write `write(file)`'s bytes to `path` in one step; raises ImageFileError.

    A symbolic link stays a link: the file it points to is replaced.
    """
    path = Path(path)
    target = _target(path)
    existed = target.exists()
    if existed and not os.access(target, os.W_OK):  # replacing it would go around that
        what = "the disk is read-only" if _on_read_only_disk(target) else "the file is read-only"
        raise ImageFileError(
            f"Could not save {path.name}: {what}. The original file is unchanged.", str(path))
    remove_stale_temporaries(target.parent)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    with _in_flight_lock:
        _in_flight.add(temporary)
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666)
        with os.fdopen(descriptor, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        if existed:
            shutil.copymode(target, temporary)
        os.replace(temporary, target)
    except BaseException as error:
        _remove(temporary)
        if not isinstance(error, Exception):
            raise
        raise _save_failed(path, existed, error) from error
    finally:
        with _in_flight_lock:
            _in_flight.discard(temporary)
    _sync_folder(target.parent)


def check_can_write(path: str | Path) -> None:
    """Fail early, with the sentence a save would give, when `path` cannot be written at all
    (a loop of links, a folder, a missing or read-only folder); a save may still fail later
    (a full disk)."""
    path = Path(path)
    target = _target(path)
    folder = target.parent
    if not folder.is_dir():
        raise _save_failed(path, False, FileNotFoundError(errno.ENOENT, "", str(folder)))
    if not os.access(folder, os.W_OK | os.X_OK):
        code = errno.EROFS if _on_read_only_disk(folder) else errno.EACCES
        raise _save_failed(path, target.exists(), OSError(code, "", str(folder)))


def remove_stale_temporaries(folder: Path, now: float | None = None) -> list[Path]:
    """Remove this writer's temporary files in `folder` older than STALE_AFTER_S; the removed.

    Only plain files named exactly as `write_atomically` names them are touched.
    """
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed  # the save itself will say what is wrong with the folder
    for entry in entries:
        if not TEMPORARY_NAME.fullmatch(entry.name):
            continue
        try:
            status = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(status.st_mode) and now - status.st_mtime > STALE_AFTER_S:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue  # another save removed it, or the folder is read-only: leave it
    return removed


@contextmanager
def removing_temporaries_on_signals() -> Iterator[None]:
    """While in force, SIGTERM, SIGINT and SIGHUP first remove the temporary files being
    written, then act as they did before. Only the main thread can set signal handlers;
    elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in _SIGNALS}

    def remove_then_go_on(number: int, frame: object) -> None:
        with _in_flight_lock:
            temporaries = list(_in_flight)
        for temporary in temporaries:
            _remove(temporary)
        before = previous[number]
        if callable(before):
            before(number, frame)
            return
        signal.signal(number, signal.SIG_DFL if before is None else before)
        os.kill(os.getpid(), number)  # the signal's own effect, usually the end of the process

    for number in _SIGNALS:
        signal.signal(number, remove_then_go_on)
    try:
        yield
    finally:
        for number, before in previous.items():
            if signal.getsignal(number) is remove_then_go_on:
                signal.signal(number, signal.SIG_DFL if before is None else before)


def _target(path: Path) -> Path:
    """The file a save to `path` replaces, refusing what cannot be a photo file."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return Path(os.path.realpath(path)) if path.is_symlink() else path
    except OSError as error:  # a loop of links, a file used as a folder ...
        raise _save_failed(path, False, error) from error
    if stat.S_ISDIR(status.st_mode):
        raise ImageFileError(
            f"Could not save {path.name}: it is a folder. Choose a file name.", str(path))
    if not stat.S_ISREG(status.st_mode):
        raise ImageFileError(
            f"Could not save {path.name}: it is not a plain file (a device, pipe or socket). "
            "Choose another name.", str(path))
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _on_read_only_disk(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (AttributeError, OSError):  # no statvfs on Windows
        return False


def _save_failed(path: Path, existed: bool, error: Exception) -> ImageFileError:
    reason = os_reason(error) if isinstance(error, OSError) else str(error)
    if isinstance(error, MemoryError):
        reason = "there is not enough memory"
    outcome = "The original file is unchanged." if existed else "Nothing was written."
    return ImageFileError(f"Could not save {path.name}: {reason}. {outcome}",
                          f"{path}: {error!r}")


def _remove(temporary: Path) -> None:
    try:
        temporary.unlink(missing_ok=True)
    except OSError:
        pass  # e.g. a read-only disk: then it could not have been made either


def _sync_folder(folder: Path) -> None:
    """Make the rename durable; folders cannot be opened for syncing on Windows."""
    if os.name == "nt":
        return
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems do not sync folders; the file itself is synced
    finally:
        os.close(descriptor)
