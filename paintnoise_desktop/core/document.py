"""The photo being edited: its pixels, the current mask, where it came from, its history.

Every change goes through `apply`, `set_mask` or `record_stroke`, each one undo step
that keeps the before/after patches of the box it touched; `undo` and `redo` put the
bytes back exactly and say which box to repaint. The alpha channel, EXIF and colour
profile ride along untouched and are written back on save.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .box import Box, slices
from .history import Edit, History
from .imagefile import load_image, save_image
from .masks import changed_box
from .recipe import Recipe


def _frozen_copy(array: np.ndarray) -> np.ndarray:
    copy = array.copy()
    copy.setflags(write=False)
    return copy


class Document:
    """One open photo. `rgb` and `mask` are edited in place and keep their identity, so a
    view or a `Stroke` made on them stays valid across edits, undo and redo."""

    def __init__(
        self,
        rgb: np.ndarray,
        alpha: np.ndarray | None = None,
        *,
        path: Path | None = None,
        format: str | None = None,
        exif: bytes | None = None,
        icc_profile: bytes | None = None,
        notes: tuple[str, ...] | list[str] = (),
        history: History | None = None,
    ) -> None:
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"a photo is H x W x 3 uint8, not {rgb.shape} {rgb.dtype}")
        if alpha is not None and (alpha.dtype != np.uint8 or alpha.shape != rgb.shape[:2]):
            raise ValueError(
                f"alpha must be {rgb.shape[:2]} uint8, not {alpha.shape} {alpha.dtype}"
            )
        self.rgb = rgb
        self.alpha = alpha
        self.mask = np.zeros(rgb.shape[:2], np.uint8)
        self.path = path  # the source photo; saving elsewhere does not change it
        self.saved_path: Path | None = None  # where it was last saved, if anywhere
        self.project_path: Path | None = None  # the project file it was saved in or opened from
        self._project_revision: int | None = None  # the history's revision that project holds
        self.format = format
        self.exif = exif
        self.icc_profile = icc_profile
        self.notes = notes
        self.history = history if history is not None else History()

    @classmethod
    def open(cls, path: str | Path) -> Document:
        """Read a photo (raises ImageFileError with a message for the user)."""
        loaded = load_image(path)
        return cls(
            loaded.rgb,
            loaded.alpha,
            path=Path(path),
            format=loaded.format,
            exif=loaded.exif,
            icc_profile=loaded.icc_profile,
            notes=loaded.notes,
        )

    @classmethod
    def from_array(cls, rgb: np.ndarray, alpha: np.ndarray | None = None) -> Document:
        return cls(rgb.copy(order="C"), None if alpha is None else alpha.copy(order="C"))

    @property
    def width(self) -> int:
        return self.rgb.shape[1]

    @property
    def height(self) -> int:
        return self.rgb.shape[0]

    @property
    def is_dirty(self) -> bool:
        """Whether the pixels changed since opening or the last save.

        The mask is not saved with the photo, so painting or finding one is no change.
        """
        return not self.history.is_clean

    def save(self, path: str | Path, quality: int = 95) -> None:
        """Write the photo with its alpha, EXIF and colour profile (atomically) and mark it saved.

        The format follows the file name. `path` stays the source photo.
        """
        save_image(
            path,
            self.rgb,
            alpha=self.alpha,
            exif=self.exif,
            icc_profile=self.icc_profile,
            quality=quality,
        )
        self.mark_saved(path)

    def mark_saved(self, path: str | Path) -> None:
        """The photo as it is now was written to `path` (by `save`, or by a saver thread)."""
        self.saved_path = Path(path)
        self.history.mark_clean()

    @property
    def has_unsaved_work(self) -> bool:
        """Whether closing would lose work: changed pixels, or a mask made since the save.

        The mask is not saved with the photo, so it never makes the photo dirty (no `*`),
        but a mask brushed or found since opening or saving is work to ask about. A project
        file keeps everything, so nothing is unsaved while the session is as saved in one.
        """
        if self.is_saved_in_project:
            return False
        return self.is_dirty or (not self.history.is_at_saved_step and bool(self.mask.any()))

    @property
    def is_saved_in_project(self) -> bool:
        """Whether `project_path` holds the session as it is now (nothing moved since)."""
        return self._project_revision == self.history.revision

    def mark_project_saved(self, path: str | Path, revision: int) -> bool:
        """The session as it was at `revision` was written to the project `path`; False
        (and still unsaved there) when the history moved since."""
        self.project_path = Path(path)
        if revision != self.history.revision:
            return False
        self._project_revision = revision
        return True

    def apply(
        self, name: str, box: Box, rgb: np.ndarray | None = None, mask: np.ndarray | None = None,
        merge_key: str = "", recipe: Recipe | None = None,
    ) -> Edit:
        """Write new pixels and/or mask values into `box` as one undo step (joined with the
        step on top when it has the same `merge_key`; see `History.push`)."""
        if rgb is None and mask is None:
            raise ValueError("apply needs new pixels, a new mask, or both")
        self._check_box(box)
        size = (box[3] - box[1], box[2] - box[0])
        if rgb is not None:
            self._check_patch("rgb", rgb, (*size, 3))
        if mask is not None:
            self._check_patch("mask", mask, size)
        rgb_before = rgb_after = mask_before = mask_after = None
        if rgb is not None:
            rgb_before, rgb_after = _frozen_copy(self.rgb[slices(box)]), _frozen_copy(rgb)
            self.rgb[slices(box)] = rgb
        if mask is not None:
            mask_before, mask_after = _frozen_copy(self.mask[slices(box)]), _frozen_copy(mask)
            self.mask[slices(box)] = mask
        edit = Edit(name, box, rgb_before, rgb_after, mask_before, mask_after, recipe=recipe)
        return self.history.push(edit, merge_key)

    def set_mask(self, name: str, new_mask: np.ndarray, merge_key: str = "",
                 recipe: Recipe | None = None) -> Edit | None:
        """Replace the whole mask as one undo step that keeps only the box where it changed."""
        self._check_patch("mask", new_mask, self.mask.shape)
        box = changed_box(self.mask, new_mask)
        if box is None:
            return None
        return self.apply(name, box, mask=new_mask[slices(box)], merge_key=merge_key,
                          recipe=recipe)

    def record_stroke(self, name: str, box: Box, mask_before: np.ndarray) -> Edit:
        """Record a brush stroke that already painted `self.mask` in place (see `Stroke.finish`)."""
        self._check_box(box)
        self._check_patch("mask_before", mask_before, (box[3] - box[1], box[2] - box[0]))
        edit = Edit(
            name,
            box,
            mask_before=_frozen_copy(mask_before),
            mask_after=_frozen_copy(self.mask[slices(box)]),
        )
        return self.history.push(edit)

    def undo(self) -> Box | None:
        """Revert the last applied edit; the box to repaint, or None when there was none."""
        edit = self.history.undo()
        if edit is None:
            return None
        for box, rgb, mask in edit.undo_patches():
            self._write(box, rgb, mask)
        return edit.extent

    def redo(self) -> Box | None:
        """Apply the next undone edit again; the box to repaint, or None when there was none."""
        edit = self.history.redo()
        if edit is None:
            return None
        for box, rgb, mask in edit.redo_patches():
            self._write(box, rgb, mask)
        return edit.extent

    def _write(self, box: Box, rgb: np.ndarray | None, mask: np.ndarray | None) -> None:
        if rgb is not None:
            self.rgb[slices(box)] = rgb
        if mask is not None:
            self.mask[slices(box)] = mask

    def _check_box(self, box: Box) -> None:
        x0, y0, x1, y1 = box
        if not (0 <= x0 < x1 <= self.width and 0 <= y0 < y1 <= self.height):
            raise ValueError(f"box {box} is not inside the {self.width} x {self.height} photo")

    @staticmethod
    def _check_patch(what: str, patch: np.ndarray, shape: tuple[int, ...]) -> None:
        if patch.dtype != np.uint8 or patch.shape != tuple(shape):
            raise ValueError(
                f"{what} must be {tuple(shape)} uint8, not {patch.shape} {patch.dtype}"
            )
