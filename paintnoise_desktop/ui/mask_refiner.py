"""Bring found masks to full size and post-process them without stalling the window.

Growing and feathering a mask at full resolution takes about half a second on a
24-megapixel photo, far too long for the GUI thread, and it needs no model, so it
runs on a small thread of its own rather than queueing behind the engine's jobs.
Only the newest request's answer is announced; older ones are dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal

from ..core import masks
from ..core.jobs import MaskSettings

log = logging.getLogger(__name__)


def refine(found: Sequence[np.ndarray], width: int, height: int,
           settings: MaskSettings) -> np.ndarray:
    """The union of `found` (working-size masks) at width x height, post-processed."""
    union = masks.union(masks.resize_mask(mask, width, height) for mask in found)
    return masks.postprocess(union, settings)


class MaskRefiner(QObject):
    ready = Signal(int, object)  # request id, the full-size mask
    failed = Signal(int, str)  # request id, a message for the user
    _refined = Signal(int, object)  # from the refining thread: request id, mask or message

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mask-refiner")
        self._latest = 0
        # Always queued: a refinement that finished before its callback was added calls back
        # in this thread, and must still reach the window after `refine` has returned its id.
        self._refined.connect(self._deliver, Qt.QueuedConnection)

    def refine(self, found: Sequence[np.ndarray], width: int, height: int,
               settings: MaskSettings) -> int:
        """Start refining; the id that `ready` will carry with the mask."""
        self._latest += 1
        request = self._latest
        future = self._pool.submit(refine, list(found), width, height, settings)
        future.add_done_callback(lambda done: self._announce(request, done))
        return request

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _announce(self, request: int, done: Future) -> None:
        """Runs on the refining thread; `_refined` carries the outcome to the window's thread."""
        if done.cancelled():
            return
        error = done.exception()
        if error is not None:
            log.error("refining a mask failed", exc_info=error)
            self._refined.emit(request, f"The mask could not be made ({type(error).__name__}: "
                                        f"{error}). Paint it with the brush instead.")
        else:
            self._refined.emit(request, done.result())

    def _deliver(self, request: int, outcome: np.ndarray | str) -> None:
        if request != self._latest:
            return
        if isinstance(outcome, str):
            self.failed.emit(request, outcome)
        else:
            self.ready.emit(request, outcome)
