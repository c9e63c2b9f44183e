"""Autosave: the session's unsaved work written to the recovery folder, off the GUI thread.

At once after the first unsaved change, then a few seconds after the changes stop and at
least every minute while they go on (see core.recovery.AutosaveSchedule), the session's state is taken on the GUI thread (shared
references to the history's immutable patches and the original pixels; no copy of the
photo) and written in the project format by a worker thread, atomically. Work that is
saved (a photo save with no mask left unsaved, a project save) or thrown away removes the
snapshot, and a clean close removes the session's slot.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

from ..core.project import ProjectWriter, state_of
from ..core.recovery import AutosaveSchedule, Orphan, RecoverySlot, recovery_dir
from .session import EditingSession

log = logging.getLogger(__name__)

BUSY_RETRY_MS = 200  # a write is due while the last one is still being written


class Autosave(QObject):
    def __init__(self, session: EditingSession, parent: QObject | None = None,
                 folder: Path | None = None, schedule: AutosaveSchedule | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self._session = session
        self._schedule = schedule or AutosaveSchedule()
        self._clock = clock
        self._writer = ProjectWriter()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autosave")
        self._writing: Future | None = None
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self._write_if_due)
        self.folder = folder if folder is not None else recovery_dir()
        self.slot: RecoverySlot | None = None
        try:
            self.slot = RecoverySlot(self.folder)
        except OSError as error:
            log.warning("autosave is off: the recovery folder cannot be used (%s)", error)
        self.writes = 0  # snapshots written, for the status and for tests
        session.historyChanged.connect(lambda _box: self._changed())
        session.documentChanged.connect(lambda _document: self._changed())

    def adopt(self, orphan: Orphan) -> None:
        """`orphan` was recovered into this session: its snapshot becomes this one's."""
        if self.slot is not None:
            self._pool.submit(self.slot.adopt, orphan).result()

    def write_now(self) -> Future | None:
        """Take the state and write it now (Future of the write; None: nothing to write)."""
        document = self._session.document
        if self.slot is None or document is None or self._session.original is None:
            return None
        self._timer.stop()
        state = state_of(document, self._session.original, self._session.copy_for_worker)
        self._schedule.taken()
        snapshot = self.slot.snapshot
        self._writing = self._pool.submit(self._writer.write, snapshot, state)
        self._writing.add_done_callback(lambda done: self._written(done, snapshot))
        return self._writing

    def close(self) -> None:
        """A clean end: wait for a write under way, then remove the session's files."""
        self._timer.stop()
        self._pool.shutdown(wait=True)
        if self.slot is not None:
            self.slot.close()
            self.slot = None  # what arrives after (a save's answer) has nothing to write

    def _changed(self) -> None:
        document = self._session.document
        if self.slot is None:
            return
        if document is None or not document.has_unsaved_work:
            self._schedule.cleared()
            self._timer.stop()
            self._pool.submit(self.slot.remove_snapshot)  # after any write under way
            return
        self._schedule.changed(self._clock())
        self._arm()

    def _arm(self) -> None:
        due = self._schedule.due_at()
        if due is not None:
            self._timer.start(max(0, round((due - self._clock()) * 1000)))

    def _write_if_due(self) -> None:
        if not self._schedule.is_due(self._clock()):
            self._arm()
        elif self._writing is not None and not self._writing.done():
            self._timer.start(BUSY_RETRY_MS)
        else:
            self.write_now()

    def _written(self, future: Future, snapshot: Path) -> None:  # on the worker
        error = future.exception()
        if error is not None:
            log.warning("autosave could not write %s: %s", snapshot, error)
        else:
            self.writes += 1
