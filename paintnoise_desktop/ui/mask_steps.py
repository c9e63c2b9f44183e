"""New masks computed off the window's thread, each applied as one undo step.

Every mask change that takes more than a moment (Grow, Feather, Invert ...,
a found mask brought to full size, a slider adjusting it) goes through here: the
mask is computed by `MaskRefiner`, the newest request wins, and the answer becomes
one `Document.set_mask` step, if the photo is still the one it was asked for.

Steps that share a `merge_key` and follow each other with nothing in between
(the same slider dragged, paused and dragged again) become one undo step: the
earlier one is undone before the newer one is applied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal

from ..core.box import union
from ..core.document import Document
from ..core.history import Edit
from .mask_refiner import MaskMaker, MaskRefiner

if TYPE_CHECKING:
    from .main_window import MainWindow


@dataclass(frozen=True)
class MaskStep:
    document: Document
    name: str  # the history's name for the step
    merge_key: str = ""  # "": never merged
    then: Callable[[Edit | None], None] | None = None  # after it was applied (None: no change)


@dataclass(frozen=True)
class _Merge:
    document: Document
    key: str
    index: int  # the history index right after the step
    name: str


class MaskSteps(QObject):
    busyChanged = Signal(bool)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.refiner = MaskRefiner(self)
        self._pending: dict[int, MaskStep] = {}
        self._merge: _Merge | None = None
        self._when_idle: list[Callable[[], None]] = []
        self.refiner.ready.connect(self._on_ready)
        self.refiner.failed.connect(self._on_failed)
        self.refiner.busyChanged.connect(self.busyChanged)

    @property
    def busy(self) -> bool:
        return self.refiner.busy

    def request(self, step: MaskStep, make: MaskMaker) -> int:
        """Compute `make()` off the GUI thread, then apply it as `step`; supersedes the last."""
        self._pending.clear()
        request = self.refiner.compute(make)
        self._pending[request] = step
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
        self.refiner.drop()

    def shutdown(self) -> None:
        self.refiner.shutdown()

    def _on_ready(self, request: int, mask: np.ndarray) -> None:
        step = self._pending.pop(request, None)
        if step is not None and step.document is self._window.document:
            edit = self._apply(step, mask)
            if step.then is not None:
                step.then(edit)
        self._run_when_idle()

    def _on_failed(self, request: int, message: str) -> None:
        if self._pending.pop(request, None) is not None:
            self._when_idle.clear()
            self._window.show_error(message)

    def _apply(self, step: MaskStep, mask: np.ndarray) -> Edit | None:
        document, history = step.document, step.document.history
        merge = self._merge
        undone = None
        if (step.merge_key and merge is not None and merge.key == step.merge_key
                and merge.document is document and history.index == merge.index and history.names[merge.index - 1] == merge.name):
            undone = document.undo()
        edit = document.set_mask(step.name, mask)
        self._merge = (_Merge(document, step.merge_key, history.index, step.name)
                       if edit is not None and step.merge_key else None)
        changed = union(undone, edit.box if edit is not None else None)
        if changed is not None:
            self._window.set_overlay_visible(True)  # hidden after a Replace; the mask is news
            self._window.document_edited(changed)
        return edit

    def _run_when_idle(self) -> None:
        while self._when_idle and not self.busy:
            self._when_idle.pop(0)()
