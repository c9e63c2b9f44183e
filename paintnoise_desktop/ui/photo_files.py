"""Opening and saving photos for the window: recent files, unsaved changes, safe saving.

Reading and writing a big photo takes seconds, so both run on a worker thread: the
window shows that it is busy and keeps answering. A save writes a copy of the pixels
taken when it was asked for; the photo counts as saved only if it was not edited since.

Saving never writes over the photo that was opened unless the user picks it in
Save As: until the edit has been saved somewhere, Save asks where, suggesting a
new name next to the original. Save does not write over a file that another program
changed since it was opened or saved without asking first. A failed save is one sentence
naming the file the user chose, and leaves the photo unsaved (so closing stops).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from ..core.document import Document
from ..core.errors import PaintNoiseError
from ..core.imagefile import default_export_path, save_image
from ..core.project import SUFFIX as PROJECT_SUFFIX
from ..core.project import read_project
from ..core.safe_write import FileStamp, file_stamp, removing_temporaries_on_signals
from .app_settings import AppSettings
from .dialogs import ChangedOnDiskChoice, Dialogs, UnsavedChoice
from .session import EditingSession

log = logging.getLogger(__name__)

UNTITLED = "untitled.png"


def _open(path: Path) -> tuple[Document, np.ndarray, FileStamp | None]:
    """On the worker: the photo, a copy of its pixels as opened (for Compare), its stamp.
    A project file gives back its whole session, saved in it as it is."""
    if path.suffix.lower() == PROJECT_SUFFIX:
        document, original = read_project(path)
        document.mark_project_saved(path, document.history.revision)
        return document, original, None
    stamp = file_stamp(path)
    document = Document.open(path)
    return document, document.rgb.copy(), stamp


def _save(path: Path, write: Callable[[], None]) -> FileStamp | None:
    """On the worker: write, then the stamp of what was written."""
    write()
    return file_stamp(path)


def _key(path: str | Path) -> str:
    return os.path.realpath(path)


class PhotoFiles(QObject):
    busyChanged = Signal(bool)  # a photo is being read or written
    opened = Signal(bool)  # an open finished: True when the photo is now shown
    saved = Signal(bool)  # a save finished: True when it was written
    _done = Signal(object, object)  # from the worker: what to call, the future

    def __init__(self, session: EditingSession, settings: AppSettings, dialogs: Dialogs,
                 parent: QWidget, recent_menu: QMenu) -> None:
        super().__init__(parent)
        self._session = session
        self._settings = settings
        self._dialogs = dialogs
        self._parent = parent
        self._recent_menu = recent_menu
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="photo-files")
        self._tasks = 0
        self._opening = 0  # the newest open asked for; older ones are not shown
        # Saves the session in its project and says whether it was written (set by the window).
        self.save_project: Callable[[], bool] | None = None
        self._waiting: dict[Future, Callable[[Future], None]] = {}  # answers not yet applied
        self._stamps: dict[str, FileStamp] = {}  # files as last read or written here
        self._saving = 0
        self._signals = ExitStack()  # while saving: a signal removes the temporary file first
        # Python runs signal handlers only between its own steps on this thread: keep it stepping.
        self._signal_tick = QTimer(self, interval=100)
        self._signal_tick.timeout.connect(lambda: None)
        self._done.connect(lambda answer, future: answer(future), Qt.QueuedConnection)
        recent_menu.aboutToShow.connect(self._fill_recent_menu)

    @property
    def busy(self) -> bool:
        return self._tasks > 0

    @property
    def display_name(self) -> str:
        document = self._session.document
        if document is None:
            return UNTITLED
        path = document.saved_path or document.path
        return Path(path).name if path else UNTITLED

    def open_dialog(self) -> bool:
        current = self._session.document
        directory = str(Path(current.path).parent) if current and current.path else ""
        recent = self._settings.recent_files()
        if not directory and recent:
            directory = str(Path(recent[0]).parent)
        path = self._dialogs.open_path(self._parent, directory)
        return self.open_photo(path) if path else False

    def open_photo(self, path: str | Path) -> bool:
        """Start opening `path` in place of the current photo (`opened` says how it went);
        on a bad file the current one stays. False when the user kept the current one."""
        if not self.maybe_keep_changes():
            return False
        path = Path(path)
        self._opening += 1
        opening = self._opening
        self._session.message.emit(f"Opening {path.name}\u2026")
        self._run(lambda: _open(path), lambda future: self._opened(path, opening, future))
        return True

    def _opened(self, path: Path, opening: int, future: Future) -> None:
        if opening != self._opening:
            return  # another photo was asked for since
        try:
            document, original, stamp = future.result()
        except MemoryError:
            self._session.error.emit(
                f"Cannot open {path.name}: there is not enough memory for a photo this large. "
                "Close other programs and try again.", "")
            self.opened.emit(False)
            return
        except PaintNoiseError as error:
            self._session.error.emit(str(error), "")
            self.opened.emit(False)
            return
        except OSError as error:
            self._session.error.emit(
                f"Could not open {path.name}: {error.strerror or error}.", "")
            self.opened.emit(False)
            return
        self._session.open(document, original)
        if stamp is not None:
            self._stamps[_key(path)] = stamp
        self._session.message.emit(f"Opened {self.display_name}.")
        self._settings.add_recent_file(path)
        self.opened.emit(True)

    def save(self, wait: bool = False) -> bool:
        """Save the edit; the first save of an opened photo asks where (Save As)."""
        document = self._session.document
        if document is None:
            return False
        if document.saved_path is None:
            return self.save_as(wait)
        if self.changed_on_disk(document.saved_path):
            choice = self._dialogs.changed_on_disk(self._parent, Path(document.saved_path).name)
            if choice is ChangedOnDiskChoice.SAVE_AS:
                return self.save_as(wait)
            if choice is ChangedOnDiskChoice.CANCEL:
                return False
        return self.save_to(document.saved_path, wait)

    def changed_on_disk(self, path: str | Path) -> bool:
        """Whether another program replaced or changed `path` since it was read or written
        here (a file never read or written here has not)."""
        known = self._stamps.get(_key(path))
        return known is not None and file_stamp(path) not in (known, None)

    def save_as(self, wait: bool = False) -> bool:
        document = self._session.document
        if document is None:
            return False
        if document.saved_path is not None:
            suggested = document.saved_path
        elif document.path is not None:
            suggested = default_export_path(Path(document.path))
        else:
            suggested = Path(UNTITLED)
        path = self._dialogs.save_path(self._parent, str(suggested))
        return self.save_to(path, wait) if path else False

    def save_to(self, path: str | Path, wait: bool = False) -> bool:
        """Write the photo as it is now to `path` on the worker (`wait`: and wait for it,
        then say whether it was written); `saved` says how it went."""
        document = self._session.document
        if document is None:
            return False
        path, revision = Path(path), document.history.revision
        rgb = self._session.copy_for_worker(document.rgb)
        alpha = None if document.alpha is None else self._session.copy_for_worker(document.alpha)
        exif, icc = document.exif, document.icc_profile
        self._session.message.emit(f"Saving {path.name}\u2026")
        self._saving += 1
        if self._saving == 1:
            self._signals.enter_context(removing_temporaries_on_signals())
            self._signal_tick.start()
        future = self._run(
            lambda: _save(path, lambda: save_image(path, rgb, alpha=alpha, exif=exif,
                                                   icc_profile=icc)),
            lambda done: self._saved(path, revision, done))
        if not wait:
            return True
        try:
            future.result()
        except Exception:  # noqa: BLE001 -- _saved says what went wrong
            return False
        finally:
            self._answer(future)  # now: a close that waited for the save goes on from here
        return True

    def _saved(self, path: Path, revision: int, future: Future) -> None:
        self._saving -= 1
        if self._saving == 0:
            self._signal_tick.stop()
            self._signals.close()
        try:
            stamp = future.result()
        except PaintNoiseError as error:
            self._session.error.emit(str(error), getattr(error, "detail", ""))
            self.saved.emit(False)
            return
        except Exception as error:  # a bug; still a sentence, never a traceback
            log.exception("saving %s failed", path)
            self._session.error.emit(
                f"Could not save {path.name}: {error}. The original file is unchanged.", "")
            self.saved.emit(False)
            return
        if stamp is not None:
            self._stamps[_key(path)] = stamp
        self._settings.add_recent_file(path)
        if self._session.mark_saved(path, revision):
            self._session.message.emit(f"Saved {path}.")
        else:
            self._session.message.emit(f"Saved {path} as it was; it was edited since.")
        self.saved.emit(True)

    def maybe_keep_changes(self) -> bool:
        """Ask Save / Discard / Cancel when there is unsaved work; True means go on."""
        document = self._session.document
        if document is None or not document.has_unsaved_work:
            return True
        choice = self._dialogs.unsaved_changes(self._parent, self.display_name)
        if choice is UnsavedChoice.SAVE:
            if document.project_path is not None and self.save_project is not None:
                return self.save_project()  # a project keeps the mask and the history too
            return self.save(wait=True)
        return choice is UnsavedChoice.DISCARD

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)

    def run_in_background(self, work: Callable[[], object],
                          then: Callable[[Future], None]) -> Future:
        """`work()` on the files' worker thread, the window showing it is busy, then
        `then(future)` back on this one (projects are read and written through here too)."""
        return self._run(work, then)

    def _run(self, work: Callable[[], object], then: Callable[[Future], None]) -> Future:
        """`work()` on the worker thread, then `then(future)` back on this one: once, when the
        answer arrives or when `_answer` is called after waiting for it, whichever is first."""
        self._tasks += 1
        if self._tasks == 1:
            QApplication.setOverrideCursor(Qt.BusyCursor)
            self.busyChanged.emit(True)
        future = self._pool.submit(work)
        self._waiting[future] = then
        future.add_done_callback(lambda done: self._done.emit(self._answer, done))
        return future

    def _answer(self, future: Future) -> None:
        then = self._waiting.pop(future, None)
        if then is None:
            return  # answered already
        self._tasks -= 1
        if self._tasks == 0:
            QApplication.restoreOverrideCursor()
            self.busyChanged.emit(False)
        then(future)

    def _fill_recent_menu(self) -> None:
        menu = self._recent_menu
        menu.clear()
        files = self._settings.recent_files()
        for path in files:
            action = menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_photo(p))
        if files:
            menu.addSeparator()
            menu.addAction("Clear List", self._settings.clear_recent_files)
        else:
            menu.addAction("No recent photos").setEnabled(False)
