"""Project files and recovered sessions for the window: Save Project, Open Project, recovery.

A project is written on the files' worker thread from the session's state taken here
(shared history patches, no copy of the photo); it counts as saved only if the session
did not move since. Opening one goes through PhotoFiles like a photo (it knows the
suffix), so the command line, drag and drop and recent files open projects too. At
start-up, sessions that a crash left in the recovery folder are offered back in one
dialog and recovered exactly, their snapshot becoming this window's.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from ..core.document import Document
from ..core.errors import PaintNoiseError
from ..core.project import SUFFIX, ProjectWriter, read_project, read_summary, state_of
from ..core.recovery import Orphan, orphans
from .app_settings import AppSettings
from .autosave import Autosave
from .dialogs import Dialogs
from .photo_files import PhotoFiles
from .recovery_dialog import RecoveryOffer
from .session import EditingSession

log = logging.getLogger(__name__)


class ProjectFiles(QObject):
    saved = Signal(bool)  # a project save finished: True when it was written
    recovered = Signal(bool)  # a recovery finished: True when the session is now shown

    def __init__(self, session: EditingSession, files: PhotoFiles, autosave: Autosave,
                 settings: AppSettings, dialogs: Dialogs, parent: QWidget) -> None:
        super().__init__(parent)
        self._session = session
        self._files = files
        self._autosave = autosave
        self._settings = settings
        self._dialogs = dialogs
        self._parent = parent
        self._writer = ProjectWriter()  # on the files' worker only

    def open_dialog(self) -> bool:
        document = self._session.document
        folder = document.project_path or document.path if document is not None else None
        path = self._dialogs.open_project_path(
            self._parent, str(Path(folder).parent) if folder else "")
        return self._files.open_photo(path) if path else False

    def save(self, wait: bool = False) -> bool:
        """Save the session in its project; the first time, ask where (Save Project As)."""
        document = self._session.document
        if document is None:
            return False
        if document.project_path is None:
            return self.save_as(wait)
        return self.save_to(document.project_path, wait)

    def save_as(self, wait: bool = False) -> bool:
        document = self._session.document
        if document is None:
            return False
        source = document.project_path or document.saved_path or document.path
        suggested = Path(source).with_suffix(SUFFIX) if source else Path(f"untitled{SUFFIX}")
        path = self._dialogs.save_project_path(self._parent, str(suggested))
        if not path:
            return False
        if Path(path).suffix.lower() != SUFFIX:
            path = f"{path}{SUFFIX}"
        return self.save_to(path, wait)

    def save_to(self, path: str | Path, wait: bool = False) -> bool:
        """Write the session as it is now to the project `path` on the worker (`wait`: and
        wait for it, then say whether it was written); `saved` says how it went."""
        session, document = self._session, self._session.document
        if document is None or session.original is None:
            return False
        path, revision = Path(path), document.history.revision
        state = state_of(document, session.original, session.copy_for_worker)
        session.message.emit(f"Saving {path.name}\u2026")
        future = self._files.run_in_background(
            lambda: self._writer.write(path, state),
            lambda done: self._saved(document, path, revision, done))
        if not wait:
            return True
        try:
            future.result()
        except Exception:  # noqa: BLE001 -- said when the answer arrives (_saved)
            return False
        return True

    def _saved(self, document: Document, path: Path, revision: int, future: Future) -> None:
        try:
            future.result()
        except PaintNoiseError as error:
            self._session.error.emit(str(error), error.detail)
            self.saved.emit(False)
            return
        except Exception as error:  # a bug; still a sentence, never a traceback
            log.exception("saving the project %s failed", path)
            self._session.error.emit(f"Could not save {path.name}: {error}.", "")
            self.saved.emit(False)
            return
        self._settings.add_recent_file(path)
        if self._session.document is document:
            document.project_path = path
        if self._session.mark_project_saved(path, revision):
            self._session.message.emit(f"Saved the project {path}.")
        else:
            self._session.message.emit(f"Saved the project {path} as it was; it was edited "
                                       "since.")
        self.saved.emit(True)

    # -- recovery ---------------------------------------------------------------------------

    def offer_recovery(self) -> list[Orphan]:
        """Offer the sessions a crash left behind, throw away those the user does not want;
        the ones to recover (each in a window of its own, see `recover`)."""
        offers = []
        for orphan in orphans(self._autosave.folder):
            try:
                offers.append(RecoveryOffer(orphan, read_summary(orphan.snapshot)))
            except PaintNoiseError as error:
                log.warning("a recovery snapshot cannot be read, and is left as it is: %s",
                            error)
        if not offers:
            return []
        answer = self._dialogs.offer_recovery(self._parent, offers)
        if answer is None:
            return []  # decided later: they stay for the next start
        for orphan in answer.discard:
            orphan.discard()
        return list(answer.recover)

    def recover(self, orphan: Orphan) -> None:
        """Read `orphan`'s session on the worker and edit it here; `recovered` says how."""
        self._session.message.emit(f"Recovering {orphan.snapshot.name}\u2026")
        self._files.run_in_background(lambda: read_project(orphan.snapshot),
                                      lambda future: self._recovered(orphan, future))

    def _recovered(self, orphan: Orphan, future: Future) -> None:
        try:
            document, original = future.result()
        except PaintNoiseError as error:
            self._session.error.emit(str(error), error.detail)
            self.recovered.emit(False)
            return
        self._autosave.adopt(orphan)
        self._session.open(document, original)
        name = Path(document.path).name if document.path else "the photo"
        steps = document.history.index
        self._session.message.emit(
            f"Recovered {name} with {steps} step{'s' if steps != 1 else ''}; it is not saved yet.")
        self.recovered.emit(True)
