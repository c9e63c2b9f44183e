"""Opening and saving photos for the window: recent files, unsaved changes, safe saving.

Saving never writes over the photo that was opened unless the user picks it in
Save As: until the edit has been saved somewhere, Save asks where, suggesting a
new name next to the original.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..core.document import Document
from ..core.errors import PaintNoiseError
from ..core.imagefile import default_export_path
from .app_settings import AppSettings
from .dialogs import Dialogs, UnsavedChoice

if TYPE_CHECKING:
    from .main_window import MainWindow

UNTITLED = "untitled.png"


class PhotoFiles:
    def __init__(self, window: MainWindow, settings: AppSettings, dialogs: Dialogs) -> None:
        self._window = window
        self._settings = settings
        self._dialogs = dialogs
        window.commands.recent_menu.aboutToShow.connect(self._fill_recent_menu)

    @property
    def display_name(self) -> str:
        document = self._window.document
        if document is None:
            return UNTITLED
        path = document.saved_path or document.path
        return Path(path).name if path else UNTITLED

    def open_dialog(self) -> bool:
        current = self._window.document
        directory = str(Path(current.path).parent) if current and current.path else ""
        recent = self._settings.recent_files()
        if not directory and recent:
            directory = str(Path(recent[0]).parent)
        path = self._dialogs.open_path(self._window, directory)
        return self.open_photo(path) if path else False

    def open_photo(self, path: str | Path) -> bool:
        """Open `path` in place of the current photo; on a bad file keep the current one."""
        if not self.maybe_keep_changes():
            return False
        try:
            document = Document.open(path)
        except PaintNoiseError as error:
            self._window.show_error(str(error))
            return False
        except OSError as error:
            self._window.show_error(f"Could not open {Path(path).name}: {error.strerror or error}.")
            return False
        self._window.set_document(document)
        self._settings.add_recent_file(path)
        return True

    def save(self) -> bool:
        """Save the edit; the first save of an opened photo asks where (Save As)."""
        document = self._window.document
        if document is None:
            return False
        if document.saved_path is None:
            return self.save_as()
        return self.save_to(document.saved_path)

    def save_as(self) -> bool:
        document = self._window.document
        if document is None:
            return False
        if document.saved_path is not None:
            suggested = document.saved_path
        elif document.path is not None:
            suggested = default_export_path(Path(document.path))
        else:
            suggested = Path(UNTITLED)
        path = self._dialogs.save_path(self._window, str(suggested))
        return self.save_to(path) if path else False

    def save_to(self, path: str | Path) -> bool:
        document = self._window.document
        if document is None:
            return False
        try:
            document.save(path)
        except PaintNoiseError as error:
            self._window.show_error(str(error))
            return False
        self._settings.add_recent_file(path)
        self._window.document_saved()
        return True

    def maybe_keep_changes(self) -> bool:
        """Ask Save / Discard / Cancel when there are unsaved changes; True means go on."""
        document = self._window.document
        if document is None or not document.is_dirty:
            return True
        choice = self._dialogs.unsaved_changes(self._window, self.display_name)
        if choice is UnsavedChoice.SAVE:
            return self.save()
        return choice is UnsavedChoice.DISCARD

    def _fill_recent_menu(self) -> None:
        menu = self._window.commands.recent_menu
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
