"""New masks computed off the window's thread, each applied as one undo step.

Every mask change that takes more than a moment (Grow, Feather, Invert ...,
a found mask brought to full size, a slider adjusting it) goes through here: the
mask is computed by `MaskRefiner`, the newest request wins, and the answer becomes
one `Document.set_mask` step if the history is still at the revision it was asked
for. Steps with a `merge_key` join the step on top when it has the same key and
nothing happened in between (see `History.push`). A mask that arrives while a brush
stroke is held waits for the stroke to end, so the stroke stays one step; a stroke that
changed the mask outdates it then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal

from ..core import masks
from ..core.history import Edit
from ..core.recipe import Recipe
from .mask_refiner import MaskMaker, MaskRefiner
from .session import EditingSession

# Mask operation -> (history name, new mask from the mask and the pixel amount)
MASK_OPERATIONS = {
    "grow": ("Grow mask {px} px", masks.grow),
    "shrink": ("Shrink mask {px} px", masks.shrink),
    "feather": ("Feather mask {px} px", masks.feather),
    "fill_holes": ("Fill holes", lambda mask, px: masks.fill_holes(mask)),
    "invert": ("Invert mask", lambda mask, px: masks.invert(mask)),
    "clear": ("Clear mask", lambda mask, px: masks.clear(mask.shape)),
}


@dataclass(frozen=True)
class MaskStep:
    name: str  # the history's name for the step
    merge_key: str = ""  # "": never merged
    then: Callable[[Edit | None], None] | None = None  # after it was applied (None: no change)
    recipe: Recipe | None = None  # how the mask was made, kept with the step


@dataclass(frozen=True)
class _Pending:
    step: MaskStep
    revision: int | None  # the history's revision the mask was computed from


class MaskSteps(QObject):
    busyChanged = Signal(bool)

    def __init__(self, session: EditingSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self.refiner = MaskRefiner(self)
        self._pending: dict[int, _Pending] = {}
        self._when_idle: list[Callable[[], None]] = []
        self._held: list[tuple[int, np.ndarray]] = []  # arrived during a stroke
        self.refiner.ready.connect(self._on_ready)
        self.refiner.failed.connect(self._on_failed)
        self.refiner.busyChanged.connect(self.busyChanged)
        session.outdated.connect(self._outdated)
        session.documentChanged.connect(lambda _document: self.drop())
        session.strokeEnded.connect(self._apply_held)

    @property
    def busy(self) -> bool:
        return self.refiner.busy or bool(self._held)

    def operate(self, operation: str, px: int) -> None:
        """Grow, Invert ... off the GUI thread (a 24 MP mask takes ~0.5 s); one undo step."""
        document = self._session.document
        if document is None:
            return
        name, operate = MASK_OPERATIONS[operation]
        self._session.outdated.emit("the mask changed")
        # A copy: the brush may paint on the document's own while it runs.
        mask = self._session.copy_for_worker(document.mask)
        recipe = Recipe("mask", operation=operation, amount_px=px)
        self.request(MaskStep(name.format(px=px), recipe=recipe), lambda: operate(mask, px))

    def request(self, step: MaskStep, make: MaskMaker) -> int:
        """Compute `make()` off the GUI thread, then apply it as `step`; supersedes the last."""
        self._pending.clear()
        request = self.refiner.compute(make)
        self._pending[request] = _Pending(step, self._session.revision)
        return request

    def when_idle(self, callback: Callable[[], None]) -> None:
        """Call back now, or once the mask being computed has been applied (or dropped)."""
        if self.busy:
            self._when_idle.append(callback)
        else:
            callback()

    def drop(self) -> None:
        """A newer edit (a brush stroke, Undo) made the mask being computed moot."""
        self._pending.clear()
        self._when_idle.clear()
        self._held.clear()
        self.refiner.drop()

    def shutdown(self) -> None:
        self.refiner.shutdown()

    def _outdated(self, _reason: str) -> None:
        self.drop()

    def _on_ready(self, request: int, mask: np.ndarray) -> None:
        if self._session.stroking:
            self._held.append((request, mask))
            return
        pending = self._pending.pop(request, None)
        if pending is not None and pending.revision == self._session.revision:
            step = pending.step
            edit = self._session.set_mask(step.name, mask, step.merge_key, step.recipe)
            if step.then is not None:
                step.then(edit)
        self._run_when_idle()

    def _apply_held(self) -> None:
        """The stroke ended (and, if it changed the mask, outdated what was held)."""
        held, self._held = self._held, []
        for request, mask in held:
            self._on_ready(request, mask)
        if held and not self.busy:
            self.busyChanged.emit(False)

    def _on_failed(self, request: int, message: str) -> None:
        if self._pending.pop(request, None) is not None:
            self._when_idle.clear()
            self._session.error.emit(message, "")

    def _run_when_idle(self) -> None:
        while self._when_idle and not self.busy:
            self._when_idle.pop(0)()
