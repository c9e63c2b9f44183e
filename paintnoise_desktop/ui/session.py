"""The editing session: the open photo and everything the window shows that derives from it.

One object owns the document (with its history), the last Find's candidates, the last
Replace's variants and what the canvas shows instead of the document (a variant being
previewed, the original while Compare is held, a job's live preview). Views bind to its
signals; controllers (EditJobs, MaskSteps, PhotoFiles) change it through its methods.
Every change of the document (an edit, undo, redo, another photo) clears the display
overrides, so the canvas never shows a state that is not there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from ..core.box import Box, union
from ..core.document import Document
from ..core.history import Edit
from ..core.jobs import InpaintVariant, MaskCandidate
from ..core.recipe import Recipe
from .spare_arrays import SpareArrays

UNDO_REASON = "a step was undone or redone"
MASK_REASON = "the mask changed"
@dataclass
class Found:
    """The last Find's answer, kept so the user can switch to or add other candidates.

    The found mask is current while the step on top of the history is one made from
    these candidates (the Find, a candidate choice, a slider adjustment, or one of them
    undone to); the mask sliders then remake it. A brush stroke, mask operation or
    Replace on top detaches them.
    """

    text: str
    candidates: tuple[MaskCandidate, ...]
    chosen: tuple[int, ...] = ()
    steps: set[Edit] = field(default_factory=set)  # the history steps made from them
    mode: str = "best"  # the Find's mode ("best" or "all"), for the steps' recipes
    base: np.ndarray | None = None  # the mask they are added to (Shift); None: they replace it


@dataclass
class Replaced:
    """The last Replace's variants, kept so the user can swap the applied one for another."""

    name: str
    variants: tuple[InpaintVariant, ...]
    applied: int  # which variant the document shows
    merge_key: str  # choosing another variant right after joins the Replace's step
    recipe: Recipe | None = None  # how they were painted (the seed is the applied variant's)


@dataclass(frozen=True)
class LivePreview:
    image: np.ndarray  # a small RGB picture of the job's progress
    box: Box | None  # where on the photo it belongs (None: the whole photo)


class EditingSession(QObject):
    documentChanged = Signal(object)  # Document | None: another photo (or none) is open
    historyChanged = Signal(object)  # Box | None: the history moved; pixels/mask changed in box
    outdated = Signal(str)  # what is being computed for this state is moot (the reason)
    candidatesChanged = Signal()  # `found` changed (candidates or the chosen ones)
    variantsChanged = Signal()  # `replaced` changed (variants or the applied one)
    displayChanged = Signal()  # `display_image`, `showing_original` or `live_preview` changed
    overlayWanted = Signal(bool)  # show (or hide) the mask over the photo
    message = Signal(str)  # one line for the status bar
    error = Signal(str, str)  # a sentence for the user, details for a bug report
    modelsMissing = Signal(object)  # tuple of model ids a job lacked: offer to download them
    strokeEnded = Signal()  # the brush stroke being held ended (recorded as a step or not)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self.original: np.ndarray | None = None  # the pixels as opened, for Compare
        self.found: Found | None = None
        self.replaced: Replaced | None = None
        self.previewed_variant = -1
        self.previewed_candidate = -1  # a candidate of the last Find pointed at, its mask shown
        self.showing_original = False
        self.live_preview: LivePreview | None = None
        self._end_stroke: Callable[[], None] | None = None  # while a stroke is held
        self._spares = SpareArrays()

    # -- the document -------------------------------------------------------------------------

    @property
    def revision(self) -> int | None:
        """The history's revision (None without a photo): what a job's input was taken at."""
        return self.document.history.revision if self.document is not None else None

    def open(self, document: Document | None, original: np.ndarray | None = None) -> None:
        """Edit `document` (None: no photo); `original` is a copy of its pixels (made here
        when not given; the loader thread makes it for a big photo)."""
        self._end_stroke = None  # the canvas drops a stroke on another photo
        self.document = document
        if document is not None and original is None:
            original = document.rgb.copy()
        self.original = original
        self._spares.prepare(*(() if document is None else (document.rgb, document.mask)))
        self.found = self.replaced = None
        self._clear_display()
        self.documentChanged.emit(document)
        self.candidatesChanged.emit()
        self.variantsChanged.emit()
        self.historyChanged.emit(None)

    def copy_for_worker(self, array: np.ndarray) -> np.ndarray:
        """A copy of the document's `array` (rgb, mask, alpha) for a worker thread to read
        while the document changes; quick on the GUI thread even for a big photo."""
        return self._spares.copy(array)

    def apply(self, name: str, box: Box, rgb: np.ndarray | None = None,
              mask: np.ndarray | None = None, merge_key: str = "",
              recipe: Recipe | None = None) -> Edit:
        """One undo step on the open photo (see `Document.apply`)."""
        assert self.document is not None
        if mask is not None:
            self.finish_stroke()
        edit = self.document.apply(name, box, rgb=rgb, mask=mask, merge_key=merge_key,
                                   recipe=recipe)
        self._changed(box)
        return edit

    def set_mask(self, name: str, mask: np.ndarray, merge_key: str = "",
                 recipe: Recipe | None = None) -> Edit | None:
        """The whole mask as one undo step; None when nothing changed."""
        assert self.document is not None
        self.finish_stroke()
        edit = self.document.set_mask(name, mask, merge_key, recipe)
        if edit is not None:
            self._changed(edit.box)
            self.overlayWanted.emit(True)  # hidden after a Replace; the new mask is news
        return edit

    # A brush stroke paints the mask in place while it is held and becomes a step when it ends,
    # so no other step may come between: a change of the mask or the history first ends it.

    @property
    def stroking(self) -> bool:
        """Whether a brush stroke is being held on the canvas."""
        return self._end_stroke is not None

    def stroke_began(self, end: Callable[[], None]) -> None:
        """The canvas began a stroke; `end()` ends it now, recording it as a step."""
        self._end_stroke = end

    def stroke_ended(self) -> None:
        self._end_stroke = None
        self.strokeEnded.emit()

    def finish_stroke(self) -> None:
        """End the stroke being held, if any, so that it is the step on top."""
        if self._end_stroke is not None:
            self._end_stroke()

    def stroke_recorded(self) -> None:
        """The canvas painted a stroke into the mask and recorded it as a step."""
        self.outdated.emit(MASK_REASON)
        self.overlayWanted.emit(True)
        self._changed(None)

    def undo(self) -> None:
        self.finish_stroke()
        if self.document is not None and self.document.history.can_undo:
            self.outdated.emit(UNDO_REASON)
            self._moved(self.document.undo())

    def redo(self) -> None:
        self.finish_stroke()
        if self.document is not None and self.document.history.can_redo:
            self.outdated.emit(UNDO_REASON)
            self._moved(self.document.redo())

    def go_to_step(self, step: int) -> None:
        """Undo or redo until `step` edits are applied (the history panel's rows)."""
        self.finish_stroke()
        document = self.document
        if document is None or step == document.history.index:
            return
        self.outdated.emit(UNDO_REASON)
        changed: Box | None = None
        while document.history.index > step and document.history.can_undo:
            changed = union(changed, document.undo())
        while document.history.index < step and document.history.can_redo:
            changed = union(changed, document.redo())
        self._moved(changed)

    def mark_saved(self, path: Path, revision: int) -> bool:
        """The photo as it was at `revision` was written to `path`; False when it has been
        edited since (it stays unsaved)."""
        document = self.document
        if document is None or document.history.revision != revision:
            return False
        document.mark_saved(path)
        self.historyChanged.emit(None)
        return True

    def mark_project_saved(self, path: Path, revision: int) -> bool:
        """The session as it was at `revision` was written to the project `path`; False when
        it moved since (it stays unsaved there)."""
        document = self.document
        if document is None or document.history.revision != revision:
            return False
        document.mark_project_saved(path, revision)
        self.historyChanged.emit(None)
        return True

    def _moved(self, box: Box | None) -> None:
        """After undo, redo or a history click: back at a mask step, the mask is what the step
        is about, so it is shown again (a Replace hid it to show the painting)."""
        top = self.document.history.top
        if top is not None and not top.changes_pixels:
            self.overlayWanted.emit(True)
        self._changed(box)

    def _changed(self, box: Box | None) -> None:
        self._clear_display()
        self.historyChanged.emit(box)

    # -- what the last Find and Replace left to choose from -------------------------------------

    def set_found(self, found: Found | None) -> None:
        self.found = found
        self.preview_candidate(-1)
        self.candidatesChanged.emit()

    def preview_candidate(self, index: int) -> None:
        """Show candidate `index`'s mask of the last Find in place of the mask (-1: none)."""
        found = self.found
        index = index if found is not None and 0 <= index < len(found.candidates) else -1
        if index != self.previewed_candidate:
            self.previewed_candidate = index
            self.displayChanged.emit()

    @property
    def display_mask(self) -> np.ndarray | None:
        """The mask the canvas tints in place of the document's (a candidate's, at its
        working size); None: the document's."""
        if self.previewed_candidate < 0 or self.found is None:
            return None
        return self.found.candidates[self.previewed_candidate].mask

    @property
    def found_mask_is_current(self) -> bool:
        found, document = self.found, self.document
        return (found is not None and document is not None
                and document.history.top in found.steps)

    def set_replaced(self, replaced: Replaced | None) -> None:
        self.replaced = replaced
        self.previewed_variant = -1
        self.variantsChanged.emit()
        self.displayChanged.emit()

    def variant_image(self, index: int) -> np.ndarray | None:
        """The whole photo as variant `index` of the last Replace paints it."""
        replaced = self.replaced
        if replaced is None or not 0 <= index < len(replaced.variants):
            return None
        return replaced.variants[index].image

    # -- what the canvas shows --------------------------------------------------------------------

    @property
    def display_image(self) -> np.ndarray | None:
        """What the canvas shows in place of the document's pixels; None: the document."""
        if self.showing_original:
            return self.original
        return self.variant_image(self.previewed_variant)

    def preview_variant(self, index: int) -> None:
        """Show variant `index` of the last Replace without applying it (-1: none)."""
        if index != self.previewed_variant:
            self.previewed_variant = index
            self.displayChanged.emit()

    def show_original(self, on: bool) -> None:
        """While on, the canvas shows the photo as it was opened."""
        on = on and self.document is not None
        if on != self.showing_original:
            self.showing_original = on
            self.displayChanged.emit()

    def set_live_preview(self, image: np.ndarray | None, box: Box | None = None) -> None:
        """A running job's picture of its progress (None: the job ended)."""
        preview = LivePreview(image, box) if image is not None else None
        if preview is None and self.live_preview is None:
            return
        self.live_preview = preview
        self.displayChanged.emit()

    def _clear_display(self) -> None:
        if (self.previewed_variant != -1 or self.previewed_candidate != -1
                or self.showing_original or self.live_preview):
            self.previewed_variant = self.previewed_candidate = -1
            self.showing_original = False
            self.live_preview = None
            self.displayChanged.emit()
