"""File > Save Mask and Load Mask: the mask as a PNG the size of the photo, white = repaint.

Reading and writing a big photo's mask takes a while, so both run on the photo files'
worker thread (PhotoFiles.run_in_background), the window going on meanwhile. A loaded
mask must be the photo's size; it becomes the mask in one undo step. A mask saved is the
one there when Save Mask was chosen; a load for a photo no longer open is dropped.
"""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from ..core.errors import PaintNoiseError
from ..core.mask_file import read_mask, write_mask_png
from .dialogs import Dialogs
from .photo_files import PhotoFiles
from .session import MASK_REASON, EditingSession


def suggested_mask_path(photo: str | Path | None) -> Path:
    """PHOTO-mask.png beside the photo ("mask.png" for a photo with no file)."""
    if photo is None:
        return Path("mask.png")
    photo = Path(photo)
    return photo.with_name(f"{photo.stem}-mask.png")


class MaskFiles(QObject):
    saved = Signal(bool)  # a Save Mask finished: True when the file was written
    loaded = Signal(bool)  # a Load Mask finished: True when it became the mask

    def __init__(self, session: EditingSession, files: PhotoFiles, dialogs: Dialogs,
                 parent: QWidget) -> None:
        super().__init__(parent)
        self._session = session
        self._files = files
        self._dialogs = dialogs
        self._parent = parent

    def save_dialog(self) -> bool:
        document = self._session.document
        if document is None:
            return False
        path = self._dialogs.save_mask_path(self._parent, str(suggested_mask_path(document.path)))
        return self.save_to(path) if path else False

    def load_dialog(self) -> bool:
        document = self._session.document
        if document is None:
            return False
        directory = str(Path(document.path).parent) if document.path else ""
        path = self._dialogs.open_mask_path(self._parent, directory)
        return self.load_from(path) if path else False

    def save_to(self, path: str | Path) -> bool:
        """Write the mask as it is now to `path` (a .png), off the GUI thread."""
        document = self._session.document
        if document is None:
            return False
        path = Path(path)
        if path.suffix.lower() != ".png":
            self._session.error.emit(f"Masks are saved as PNG files: name it {path.stem}.png.", "")
            return False
        mask = self._session.copy_for_worker(document.mask)
        self._session.message.emit(f"Saving the mask as {path.name}\u2026")
        self._files.run_in_background(lambda: write_mask_png(path, mask),
                                      lambda done: self._saved(path, done))
        return True

    def load_from(self, path: str | Path) -> bool:
        """Make the mask from the image at `path` (the photo's size), off the GUI thread."""
        document = self._session.document
        if document is None:
            return False
        path, width, height = Path(path), document.width, document.height
        self._session.message.emit(f"Loading the mask {path.name}\u2026")
        self._files.run_in_background(lambda: read_mask(path, width, height),
                                      lambda done: self._loaded(path, document, done))
        return True

    def _saved(self, path: Path, done: Future) -> None:
        try:
            done.result()
        except (PaintNoiseError, OSError) as error:
            self._session.error.emit(_sentence(error, f"Could not save the mask {path.name}"), "")
            self.saved.emit(False)
            return
        self._session.message.emit(f"Saved the mask as {path}.")
        self.saved.emit(True)

    def _loaded(self, path: Path, document, done: Future) -> None:
        if self._session.document is not document:
            return  # another photo was opened meanwhile
        try:
            mask = done.result()
        except (PaintNoiseError, OSError) as error:
            self._session.error.emit(_sentence(error, f"Could not load the mask {path.name}"), "")
            self.loaded.emit(False)
            return
        self._session.outdated.emit(MASK_REASON)
        if self._session.set_mask(f"Load mask: {path.name}", mask) is None:
            self._session.message.emit(f"{path.name} is the mask there already.")
        else:
            self._session.message.emit(f"Loaded the mask {path.name}.")
        self.loaded.emit(True)


def _sentence(error: Exception, what: str) -> str:
    if isinstance(error, PaintNoiseError):
        return str(error)
    return f"{what}: {getattr(error, 'strerror', None) or error}."
