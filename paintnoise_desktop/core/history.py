"""Undo history: a list of edits, each holding the before/after patches of the box it touched.

Memory grows with what the edits touched, not with the photo's size times the number
of steps; past a byte budget the oldest steps are forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .box import Box


@dataclass(frozen=True, eq=False)
class Edit:
    """One undo step. Patches cover `box` only; None where the edit left that layer alone."""

    name: str  # "Brush", "Grow mask", "Replace: a blue van", ...
    box: Box
    rgb_before: np.ndarray | None = None
    rgb_after: np.ndarray | None = None
    mask_before: np.ndarray | None = None
    mask_after: np.ndarray | None = None

    @property
    def changes_pixels(self) -> bool:
        """Whether the edit repaints the photo (mask-only edits are not saved with it)."""
        return self.rgb_after is not None

    @property
    def nbytes(self) -> int:
        patches = (self.rgb_before, self.rgb_after, self.mask_before, self.mask_after)
        return sum(patch.nbytes for patch in patches if patch is not None)


class History:
    """Applied edits up to `index`, undone ones (the redo tail) after it."""

    def __init__(self, budget_bytes: int = 1 << 30) -> None:
        self.budget_bytes = budget_bytes
        self._edits: list[Edit] = []
        self._index = 0
        self._nbytes = 0
        self._clean_index: int | None = 0

    def push(self, edit: Edit) -> None:
        """Apply-order append: forget the redo tail, then the oldest steps while over budget."""
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
        while self._nbytes > self.budget_bytes and len(self._edits) > 1:
            forgotten = self._edits.pop(0)
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
        return self._edits[self._index]

    def redo(self) -> Edit | None:
        """The edit to apply again, or None when there is nothing to redo."""
        if not self.can_redo:
            return None
        self._index += 1
        return self._edits[self._index - 1]

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
