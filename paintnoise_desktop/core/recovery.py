"""Recovery snapshots: where autosave writes each running session, and what a crash left behind.

Each window claims a `RecoverySlot` in the recovery folder (`PAINTNOISE_RECOVERY_DIR`, else the
platform's user data folder + `recovery`): `ID.lock`, held locked (flock, or msvcrt's lock on
Windows) for as long as the process lives, and `ID.paintnoise`, the session in the project
format, written atomically by autosave. The kernel drops the lock when the process dies, however
it dies, so a snapshot whose lock nobody holds is a session that did not close cleanly: the next
start offers it (`orphans`), and a second window never offers a live one. A clean close removes
both files.

`AutosaveSchedule` decides when to write, with the clock passed in so tests can drive it.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from .project import SUFFIX

RECOVERY_DIR_ENV = "PAINTNOISE_RECOVERY_DIR"
DEBOUNCE_S = 3.0  # write this long after the changes stop ...
MAX_INTERVAL_S = 60.0  # ... and at least this often while they do not


def recovery_dir() -> Path:
    override = os.environ.get(RECOVERY_DIR_ENV, "").strip()
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir("paintnoise", "PaintNoise")) / "recovery"


class AutosaveSchedule:
    """Unsaved changes are written `debounce_s` after the last one, or `interval_s` after the
    first one not yet written, whichever comes first; but the first unsaved change of a
    session (since it opened, was saved or thrown away) is written at once, so that a crash in
    the middle of a first burst of edits still finds a snapshot to offer."""

    def __init__(self, debounce_s: float = DEBOUNCE_S, interval_s: float = MAX_INTERVAL_S) -> None:
        self.debounce_s = debounce_s
        self.interval_s = interval_s
        self._first: float | None = None  # the first change not written yet
        self._last: float | None = None
        self._snapshot = False  # whether a snapshot of the unsaved work has been taken

    def changed(self, now: float) -> None:
        if self._first is None:
            self._first = now
        self._last = now

    @property
    def pending(self) -> bool:
        return self._first is not None

    def due_at(self) -> float | None:
        """When the next write is due (None: nothing to write)."""
        if self._first is None or self._last is None:
            return None
        if not self._snapshot:
            return self._first
        return min(self._last + self.debounce_s, self._first + self.interval_s)

    def is_due(self, now: float) -> bool:
        due = self.due_at()
        return due is not None and now >= due

    def taken(self) -> None:
        """The state was taken for writing: later changes start a new wait."""
        self._first = self._last = None
        self._snapshot = True

    def cleared(self) -> None:
        """The snapshot was removed (the work was saved or thrown away): nothing is pending, and
        the next change is written at once."""
        self._first = self._last = None
        self._snapshot = False


@dataclass(frozen=True)
class Orphan:
    """A snapshot no running session holds: left by a crash or a kill."""

    snapshot: Path
    lock: Path

    def discard(self) -> None:
        self.snapshot.unlink(missing_ok=True)
        self.lock.unlink(missing_ok=True)


class RecoverySlot:
    """One running session's place in the recovery folder, locked while the process lives."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder if folder is not None else recovery_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.id = secrets.token_hex(8)
        self.snapshot = self.folder / f"{self.id}{SUFFIX}"
        self.lock = self.folder / f"{self.id}.lock"
        self._lock_file = open(self.lock, "a+")  # noqa: SIM115 -- open while the session lives
        if not _try_lock(self._lock_file.fileno()):
            raise OSError(f"{self.lock} is locked by another process")
        self._lock_file.write(f"{os.getpid()}\n")
        self._lock_file.flush()

    def adopt(self, orphan: Orphan) -> None:
        """Make `orphan`'s snapshot this session's (it was recovered here); in one rename,
        so a crash right after still leaves it to recover."""
        os.replace(orphan.snapshot, self.snapshot)
        orphan.lock.unlink(missing_ok=True)

    def remove_snapshot(self) -> None:
        """The session is saved (or thrown away): nothing to recover."""
        self.snapshot.unlink(missing_ok=True)

    def close(self) -> None:
        """A clean end: the snapshot and the lock go."""
        self.remove_snapshot()
        self._lock_file.close()
        self.lock.unlink(missing_ok=True)


def orphans(folder: Path | None = None) -> list[Orphan]:
    """Snapshots whose session is not running, newest first; stale locks and temporary files
    of dead sessions are removed on the way."""
    folder = folder if folder is not None else recovery_dir()
    if not folder.is_dir():
        return []
    found = []
    for lock in folder.glob("*.lock"):
        if _held(lock):
            continue
        snapshot = lock.with_suffix(SUFFIX)
        for temporary in folder.glob(f".{snapshot.name}.*.tmp"):
            temporary.unlink(missing_ok=True)
        if snapshot.is_file():
            found.append(Orphan(snapshot, lock))
        else:
            lock.unlink(missing_ok=True)
    for snapshot in folder.glob(f"*{SUFFIX}"):  # a snapshot whose lock went missing
        if not snapshot.with_suffix(".lock").exists():
            found.append(Orphan(snapshot, snapshot.with_suffix(".lock")))
    return sorted(found, key=lambda orphan: orphan.snapshot.stat().st_mtime, reverse=True)


def _held(lock: Path) -> bool:
    """Whether a running process holds `lock`."""
    try:
        descriptor = os.open(lock, os.O_RDWR)
    except OSError:
        return False
    try:
        return not _try_lock(descriptor)  # a lock taken here goes with the descriptor
    finally:
        os.close(descriptor)


def _try_lock(descriptor: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True
