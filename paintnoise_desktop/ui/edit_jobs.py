"""Find and Replace as engine jobs: submit, follow progress, apply the result as one undo step.

The window waits for one job at a time. Progress and results of any other job
(cancelled, superseded, or for a photo that is no longer open) are ignored, and
a job that did not finish leaves the document as it was. A result is applied only
to the state it was asked for: an edit meanwhile (brush, mask step, undo, redo)
cancels the job first (`cancel_stale`), and a result that still arrives for an
older state of the history is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from ..core import masks
from ..core.box import slices
from ..core.document import Document
from ..core.history import Edit, History
from ..core.jobs import (
    FindJob,
    InpaintJob,
    InpaintVariant,
    MaskCandidate,
    Progress,
    Result,
    Status,
)
from ..engine.find.ranking import is_weak, parse_query, select
from .app_settings import AppSettings
from .engine_bridge import EngineBridge
from .mask_steps import MaskStep, MaskSteps
from .settings_dialog import load_inpaint_defaults

if TYPE_CHECKING:
    from .main_window import MainWindow

NEED_MASK = "Paint a mask or type what to find first."
NOTHING_CHANGED = "Nothing changed."
FindMode = Literal["best", "all"]


@dataclass(frozen=True)
class _Waiting:
    job_id: int
    kind: Literal["find", "inpaint"]
    document: Document
    find_text: str
    replace_text: str | None  # for a Replace (or a Find that leads into one); None: Find only
    index: int  # the history's state the job was asked for: its index and top edit
    top: Edit | None
    mode: FindMode = "best"

    @property
    def title(self) -> str:
        if self.kind == "find":
            return "Find"
        return "Replace" if self.replace_text else "Remove"

    def is_at(self, history: History) -> bool:
        return history.index == self.index and history.top is self.top


@dataclass
class _Found:
    """The last Find's answer, kept so the user can switch to or add other candidates.

    The found mask is current while the step on top of the history is one made from
    these candidates (the Find, a candidate choice, a slider adjustment, or one of
    them undone to); the mask sliders then remake it. A brush stroke, mask operation
    or Replace on top detaches them: the edit is kept, and the sliders only change
    the settings the next Find uses.
    """

    document: Document
    text: str
    candidates: tuple[MaskCandidate, ...]
    chosen: tuple[int, ...] = ()
    steps: set[tuple[int, str]] = field(default_factory=set)  # (history index, name)

    def is_current(self) -> bool:
        history = self.document.history
        return history.index > 0 and (history.index, history.names[history.index - 1]) in self.steps


@dataclass
class _Replaced:
    """The last Replace's variants, kept so the user can swap the applied one for another."""

    document: Document
    name: str
    variants: tuple[InpaintVariant, ...]
    applied: int  # which variant the document shows
    step: int  # the history index right after it was applied


class EditJobs:
    def __init__(self, window: MainWindow, bridge: EngineBridge, settings: AppSettings,
                 mask_steps: MaskSteps) -> None:
        self._window = window
        self._bridge = bridge
        self._settings = settings
        self._mask_steps = mask_steps
        self._waiting: _Waiting | None = None
        self._found: _Found | None = None
        self._replaced: _Replaced | None = None
        bridge.progress.connect(self._on_progress)
        bridge.finished.connect(self._on_finished)

    def find(self, text: str) -> int | None:
        document = self._window.document
        if document is None:
            self._window.show_message("Open a photo first.")
            return None
        if not text:
            self._window.show_message("Type what to find, e.g. \"red car\".")
            return None
        return self._find(document, text, replace_text=None)

    def replace(self, find_text: str, replace_text: str) -> int | None:
        """Repaint the mask; with no mask but find text, find first and then repaint."""
        document = self._window.document
        if document is None:
            self._window.show_message("Open a photo first.")
            return None
        if self._mask_steps.busy:  # the mask is about to change: repaint through the new one
            self._mask_steps.when_idle(lambda: self.replace(find_text, replace_text))
            self._window.show_message("Replacing once the mask is ready\u2026")
            return None
        if _has_mask(document):
            return self._inpaint(document, find_text, replace_text)
        if not find_text:
            self._window.show_message(NEED_MASK)
            return None
        return self._find(document, find_text, replace_text)

    def cancel(self) -> None:
        """Stop the job the window waits for; other jobs (a model download) go on."""
        if self._waiting is not None:
            self._bridge.cancel(self._waiting.job_id)

    @property
    def running(self) -> bool:
        """Whether the window waits for a Find or Replace."""
        return self._waiting is not None

    def cancel_stale(self, reason: str) -> None:
        """The photo or its mask is being edited: the job in flight would apply to an older
        state, so it is cancelled and the edit goes ahead (`reason`: "the mask changed")."""
        waiting = self._waiting
        if waiting is None:
            return
        self._bridge.cancel(waiting.job_id)
        self._waiting = None
        self._window.job_ended()
        self._window.show_message(f"{waiting.title} cancelled: {reason}.")

    def forget(self) -> None:
        """Another photo was opened: the job in flight and the last candidates no longer apply."""
        self._found = self._replaced = None
        if self._waiting is not None:
            self._bridge.cancel(self._waiting.job_id)
            self._waiting = None
            self._window.job_ended()

    def choose_candidates(self, chosen: Sequence[int]) -> None:
        """Make the mask from other candidates of the last Find (one undo step)."""
        found = self._found
        if found is None or found.document is not self._window.document or not chosen:
            return
        self.cancel_stale("the mask changed")
        numbers = ", ".join(str(i + 1) for i in chosen)
        label = "Candidate" if len(chosen) == 1 else "Candidates"
        self._refine(found, chosen, f"{label} {numbers}: {found.text}", replace_text=None)

    @property
    def found_mask_is_current(self) -> bool:
        found = self._found
        return found is not None and found.document is self._window.document and found.is_current()

    def adjust_found_mask(self, control: str) -> bool:
        """Remake the found mask with the mask settings just changed by `control` (a slider).

        One undo step; further changes by the same control with nothing in between
        are merged into it. False when no found mask is current (nothing is done).
        """
        if not self.found_mask_is_current:
            return False
        self.cancel_stale("the mask changed")
        found = self._found
        settings = self._settings.mask_settings
        detail = "tight" if settings.tight else (
            f"grow {settings.grow_fraction:.1%}, min {settings.grow_min_px} px, "
            f"feather {settings.feather_px} px")
        self._refine(found, found.chosen, f"Found mask ({detail}): {found.text}", None,
                     merge_key=control)
        return True

    def variant_image(self, index: int) -> np.ndarray | None:
        """The whole photo as variant `index` of the last Replace paints it, for previewing."""
        replaced = self._replaced
        if replaced is None or replaced.document is not self._window.document:
            return None
        return replaced.variants[index].image if 0 <= index < len(replaced.variants) else None

    def choose_variant(self, index: int) -> None:
        """Apply another variant of the last Replace in place of the one applied (one step)."""
        replaced, document = self._replaced, self._window.document
        if (replaced is None or replaced.document is not document or index == replaced.applied
                or not 0 <= index < len(replaced.variants)):
            return
        self.cancel_stale("another variant was chosen")
        history = document.history
        if history.index == replaced.step and history.names[history.index - 1] == replaced.name:
            document.undo()  # the variant shown now goes; the chosen one takes its step
        variant = replaced.variants[index]
        edit = document.apply(replaced.name, variant.box, rgb=variant.image[slices(variant.box)])
        replaced.applied, replaced.step = index, history.index
        self._window.document_edited(edit.box)
        self._window.show_message(f"{replaced.name}: variant {index + 1} (seed {variant.seed}).")

    def _find(self, document: Document, text: str, replace_text: str | None) -> int:
        image = document.rgb.copy()  # the document may change while the engine reads
        wanted, excluded = parse_query(text)
        mode = self._settings.find_mode
        job_id = self._bridge.submit(
            lambda job_id: FindJob(job_id, image=image, text=wanted, exclude=excluded, mode=mode))
        self._wait(_Waiting(job_id, "find", document, text, replace_text,
                            document.history.index, document.history.top, mode))
        self._window.show_message(f"Finding \u201c{text}\u201d\u2026")
        return job_id

    def _inpaint(self, document: Document, find_text: str, replace_text: str) -> int:
        image, mask = document.rgb.copy(), document.mask.copy()
        defaults = load_inpaint_defaults(self._settings.qsettings)
        inpainter, variants = self._settings.inpainter, self._settings.variants
        wanted = parse_query(find_text)[0]  # "pole, not person": a removal keeps out the pole
        job_id = self._bridge.submit(lambda job_id: InpaintJob(
            job_id, image=image, mask=mask, prompt=replace_text, find_text=wanted,
            inpainter=inpainter, steps=defaults.steps, guidance=defaults.guidance,
            variants=variants))
        history = document.history
        self._wait(_Waiting(job_id, "inpaint", document, find_text, replace_text, history.index,
                            history.top))
        what = f"Replacing with \u201c{replace_text}\u201d" if replace_text else "Removing"
        self._window.show_message(f"{what}\u2026")
        return job_id

    def _wait(self, waiting: _Waiting) -> None:
        if self._waiting is not None:
            self._bridge.cancel(self._waiting.job_id)
        self._waiting = waiting
        self._window.job_started()

    def _is_current(self, job_id: int) -> bool:
        waiting = self._waiting
        return (waiting is not None and waiting.job_id == job_id
                and waiting.document is self._window.document
                and waiting.is_at(waiting.document.history))

    def _on_progress(self, progress: Progress) -> None:
        if self._is_current(progress.job_id):
            self._window.show_progress(progress)

    def _on_finished(self, result: Result) -> None:
        waiting = self._waiting
        if (waiting is None or waiting.job_id != result.job_id
                or waiting.document is not self._window.document):
            return
        self._waiting = None
        self._window.job_ended()
        if not waiting.is_at(waiting.document.history):  # changed without cancelling the job
            self._window.show_message(f"{waiting.title} dropped: the photo changed while it ran.")
        elif result.status is Status.CANCELLED:
            self._window.show_message("Cancelled; the photo is unchanged.")
        elif not result.ok:
            self._window.show_job_error(result)
        elif waiting.kind == "find":
            self._apply_find(waiting, result.candidates)
        else:
            self._apply_replace(waiting, result)

    def _apply_find(self, waiting: _Waiting, candidates: tuple[MaskCandidate, ...]) -> None:
        if not candidates:
            self._found = None
            self._window.show_candidates((), ())
            self._window.show_message(
                f"Nothing like \u201c{waiting.find_text}\u201d was found. "
                "Try other words, or paint the mask with the brush.")
            return
        scores = [candidate.score for candidate in candidates]
        chosen = select(scores, waiting.mode)
        self._found = _Found(waiting.document, waiting.find_text, candidates)
        self._window.show_candidates(candidates, chosen)
        self._refine(self._found, chosen, f"Find: {waiting.find_text}", waiting.replace_text)
        text = waiting.find_text
        if is_weak(scores):
            message = f"Nothing matched \u201c{text}\u201d well; showing the closest match."
        elif len(chosen) > 1:
            message = f"\u201c{text}\u201d: {len(chosen)} matches (best score {scores[0]:.2f})."
        else:
            message = f"\u201c{text}\u201d: found (score {scores[0]:.2f})."
        self._window.show_message(message)

    def _refine(self, found: _Found, chosen: Sequence[int], name: str,
                replace_text: str | None, merge_key: str = "") -> None:
        """Make the mask from `chosen` candidates off the GUI thread; one step; maybe Replace."""
        document, chosen = found.document, tuple(chosen)
        picked = [found.candidates[i].mask for i in chosen]
        width, height, settings = document.width, document.height, self._settings.mask_settings

        def applied(edit: Edit | None) -> None:
            found.chosen = chosen
            if edit is not None:
                history = document.history
                found.steps.add((history.index, history.names[history.index - 1]))
            if replace_text is not None:
                self.replace(found.text, replace_text)

        self._mask_steps.request(
            MaskStep(document, name, merge_key, then=applied),
            lambda: masks.mask_from_candidates(picked, width, height, settings))

    def _apply_replace(self, waiting: _Waiting, result: Result) -> None:
        if not result.variants:
            self._window.show_message("The inpainter returned nothing; the photo is unchanged.")
            return
        variant, document = result.variants[0], waiting.document
        several = len(result.variants) > 1
        painted = variant.image[slices(variant.box)]
        if not several and np.array_equal(painted, document.rgb[slices(variant.box)]):
            self._window.show_message(NOTHING_CHANGED)
            return
        name = f"Replace: {waiting.replace_text}" if waiting.replace_text else "Remove"
        edit = document.apply(name, variant.box, rgb=painted)
        self._replaced = _Replaced(document, name, result.variants, 0, document.history.index
                                   ) if several else None
        self._window.show_variants(result.variants if several else ())
        self._window.document_edited(edit.box)
        self._window.set_overlay_visible(False)  # the mask would hide what was painted
        said = f" {variant.note}." if variant.note else ""
        choose = " Point at the variants to compare, click one to use it." if several else ""
        self._window.show_message(f"{name} done.{said}{choose}")


def _has_mask(document: Document) -> bool:
    mask = document.mask
    return mask is not None and bool(np.any(mask))
