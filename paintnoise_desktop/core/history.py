"""Undo history: a list of edits, each holding the before/after patches of the box it touched.

Memory grows with what the edits touched, not with the photo's size times the number
of steps; past a byte budget the oldest steps are forgotten.

`revision` names the state the history is in: every push, undo and redo makes a new one
(never seen before, in any history), so a job records it when it takes its input and its
result applies only while the history still has it. A push whose `merge_key` equals the
one of the step on top, with nothing pushed, undone or redone in between, joins that step
(a slider dragged, paused and dragged again; another variant of the same Replace).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from .box import Box, union
from .recipe import Recipe

_revisions = itertools.count(1)


@dataclass(frozen=True, eq=False)
class Edit:
    """One undo step. Patches cover `box` only; None where the edit left that layer alone."""

    name: str  # "Brush", "Grow mask", "Replace: a blue van", ...
    box: Box
    rgb_before: np.ndarray | None = None
    rgb_after: np.ndarray | None = None
    mask_before: np.ndarray | None = None
    mask_after: np.ndarray | None = None
    # An earlier step merged into this one whose patches could not be joined with this
    # one's (boxes that do not nest, or other layers): undone after it, redone before it.
    # `box` is then this step's own box; `extent` covers both.
    earlier: Edit | None = None
    recipe: Recipe | None = None  # how a generated step was made (None: brush, undo-only)

    @property
    def changes_pixels(self) -> bool:
        """Whether the edit repaints the photo (mask-only edits are not saved with it)."""
        return self.rgb_after is not None or (
            self.earlier is not None and self.earlier.changes_pixels)

    @property
    def nbytes(self) -> int:
        patches = (self.rgb_before, self.rgb_after, self.mask_before, self.mask_after)
        own = sum(patch.nbytes for patch in patches if patch is not None)
        return own + (self.earlier.nbytes if self.earlier is not None else 0)

    @property
    def extent(self) -> Box:
        """The box of every pixel this step changes: its own and its earlier steps'."""
        if self.earlier is None:
            return self.box
        extent = union(self.box, self.earlier.extent)
        assert extent is not None
        return extent

    def undo_patches(self) -> Iterator[tuple[Box, np.ndarray | None, np.ndarray | None]]:
        """(box, rgb, mask) to write, in order, to take the document back before this step."""
        yield self.box, self.rgb_before, self.mask_before
        if self.earlier is not None:
            yield from self.earlier.undo_patches()

    def redo_patches(self) -> Iterator[tuple[Box, np.ndarray | None, np.ndarray | None]]:
        """(box, rgb, mask) to write, in order, to apply this step again."""
        if self.earlier is not None:
            yield from self.earlier.redo_patches()
        yield self.box, self.rgb_after, self.mask_after


def merge(first: Edit, then: Edit) -> Edit:
    """One step doing `first` and then `then`: named as `then`, `first`'s "before" patches,
    `then`'s "after" ones, and the union of their boxes (its `extent`)."""
    if first.earlier is None and _same_layers(first, then):
        if _inside(first.box, then.box):
            return replace(then, rgb_before=_paste(then.rgb_before, first.rgb_before,
                                                   then.box, first.box),
                           mask_before=_paste(then.mask_before, first.mask_before,
                                              then.box, first.box))
        if _inside(then.box, first.box):
            return replace(first, name=then.name, recipe=then.recipe,
                           rgb_after=_paste(first.rgb_after, then.rgb_after, first.box, then.box),
                           mask_after=_paste(first.mask_after, then.mask_after,
                                             first.box, then.box))
    return replace(then, earlier=first)


def _same_layers(a: Edit, b: Edit) -> bool:
    return (a.rgb_after is None) == (b.rgb_after is None) and (
        a.mask_after is None) == (b.mask_after is None)


def _inside(inner: Box, outer: Box) -> bool:
    return (outer[0] <= inner[0] and outer[1] <= inner[1]
            and inner[2] <= outer[2] and inner[3] <= outer[3])


def _paste(base: np.ndarray | None, patch: np.ndarray | None, base_box: Box,
           patch_box: Box) -> np.ndarray | None:
    """`base` (covering `base_box`) with `patch` (covering `patch_box`, inside it) written in."""
    if base is None or patch is None:
        return base
    out = base.copy()
    x, y = patch_box[0] - base_box[0], patch_box[1] - base_box[1]
    out[y:y + patch.shape[0], x:x + patch.shape[1]] = patch
    out.setflags(write=False)
    return out


class History:
    """Applied edits up to `index`, undone ones (the redo tail) after it."""

    def __init__(self, budget_bytes: int = 1 << 30) -> None:
        self.budget_bytes = budget_bytes
        self._edits: list[Edit] = []
        self._index = 0
        self._nbytes = 0
        self._clean_index: int | None = 0
        self._merge_key = ""  # the top step's, while nothing moved since it was pushed
        self._revision = next(_revisions)
        self.forgotten = 0  # how many of the oldest steps went over budget

    @classmethod
    def restored(cls, edits: list[Edit], index: int, forgotten: int = 0,
                 budget_bytes: int = 1 << 30) -> History:
        """A history holding `edits` with `index` of them applied (a project reopened).

        The state before the first step counts as saved (it is the photo as opened), unless
        `forgotten` older steps lie before it.
        """
        if not 0 <= index <= len(edits):
            raise ValueError(f"{index} of {len(edits)} steps cannot be applied")
        history = cls(max(budget_bytes, sum(edit.nbytes for edit in edits)))
        history._edits = list(edits)
        history._index = index
        history._nbytes = sum(edit.nbytes for edit in edits)
        history.forgotten = forgotten
        history._clean_index = None if forgotten else 0
        return history

    @property
    def edits(self) -> tuple[Edit, ...]:
        """Every step, applied ones first (the redo tail after `index`)."""
        return tuple(self._edits)

    @property
    def revision(self) -> int:
        """The state the history is in; a new number after every push, undo and redo."""
        return self._revision

    def will_merge(self, merge_key: str) -> bool:
        """Whether a push with `merge_key` would join the step on top."""
        return bool(merge_key) and merge_key == self._merge_key and self.can_undo

    def push(self, edit: Edit, merge_key: str = "") -> Edit:
        """Apply-order append: forget the redo tail, then the oldest steps while over budget.

        With the top step's `merge_key` (and nothing moved since it was pushed) the two
        become one step. Returns the step now on top.
        """
        if self.will_merge(merge_key):
            top = self._edits.pop()
            self._nbytes -= top.nbytes
            self._edits.append(merge(top, edit))
            self._nbytes += self._edits[-1].nbytes
            if self._clean_index == self._index and edit.changes_pixels:
                self._clean_index = None  # the saved pixels were those between the two
            self._forget_over_budget()
        else:
            self._append(edit)
        self._merge_key = merge_key
        self._revision = next(_revisions)
        return self._edits[-1]

    def _append(self, edit: Edit) -> None:
        if self._clean_index is not None and self._clean_index > self._index:
            # The saved state is in the redo tail about to go; if only mask steps lie between,
            # the pixels now are the saved ones.
            tail = self._edits[self._index : self._clean_index]
            self._clean_index = None if any(e.changes_pixels for e in tail) else self._index
        for dropped in self._edits[self._index :]:
            self._nbytes -= dropped.nbytes
        del self._edits[self._index :]
        self._edits.append(edit)
        self._nbytes += edit.nbytes
        self._index = len(self._edits)
        self._forget_over_budget()

    def _forget_over_budget(self) -> None:
        while self._nbytes > self.budget_bytes and len(self._edits) > 1:
            forgotten = self._edits.pop(0)
            self.forgotten += 1
            self._nbytes -= forgotten.nbytes
            self._index -= 1
            if self._clean_index is not None and self._clean_index > 0:
                self._clean_index -= 1
            elif forgotten.changes_pixels:
                self._clean_index = None

    def undo(self) -> Edit | None:
        """The edit to revert, or None when there is nothing to undo."""
        if not self.can_undo:
            return None
        self._index -= 1
        self._moved()
        return self._edits[self._index]

    def redo(self) -> Edit | None:
        """The edit to apply again, or None when there is nothing to redo."""
        if not self.can_redo:
            return None
        self._index += 1
        self._moved()
        return self._edits[self._index - 1]

    def _moved(self) -> None:
        self._merge_key = ""
        self._revision = next(_revisions)

    @property
    def can_undo(self) -> bool:
        return self._index > 0

    @property
    def can_redo(self) -> bool:
        return self._index < len(self._edits)

    @property
    def names(self) -> list[str]:
        return [edit.name for edit in self._edits]

    @property
    def index(self) -> int:
        """How many of `names` are applied."""
        return self._index

    @property
    def top(self) -> Edit | None:
        """The last applied edit: with `index`, it says which state the document is in."""
        return self._edits[self._index - 1] if self._index > 0 else None

    @property
    def nbytes(self) -> int:
        return self._nbytes

    def mark_clean(self) -> None:
        """The current state is the saved one."""
        self._clean_index = self._index

    @property
    def is_at_saved_step(self) -> bool:
        """Whether no step at all (not even a mask step) lies between here and the save."""
        return self._clean_index == self._index

    @property
    def is_clean(self) -> bool:
        """Whether the pixels are the saved ones: only mask steps lie between here and there.

        The mask is not saved with the photo, so mask steps never make it unclean. Once
        the saved state's step is forgotten (budget) or overwritten (a pixel edit after
        undo), nothing but saving again makes the document clean.
        """
        if self._clean_index is None:
            return False
        low, high = sorted((self._clean_index, self._index))
        return not any(edit.changes_pixels for edit in self._edits[low:high])
