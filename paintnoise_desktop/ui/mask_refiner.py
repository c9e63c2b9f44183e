"""Compute new masks off the window's thread; only the newest request is answered.

Growing, feathering or inverting a mask at full resolution takes about half a
second on a 24-megapixel photo, far too long for the GUI thread, and it needs no
model, so it runs on a small thread of its own rather than queueing behind the
engine's jobs. A newer request supersedes every older one: requests still waiting
are cancelled, and the answer of one already running is dropped on arrival.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal

log = logging.getLogger(__name__)

MaskMaker = Callable[[], np.ndarray]


class MaskRefiner(QObject):
    ready = Signal(int, object)  # request id, the new mask
    failed = Signal(int, str)  # request id, a message for the user
    busyChanged = Signal(bool)  # whether the newest request is still being computed
    _computed = Signal(int, object)  # from the worker thread: request id, mask or message

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mask-refiner")
        self._latest = 0
        self._answered = 0
        self._waiting: Future | None = None
        # Always queued: a computation that finished before its callback was added calls back
        # in this thread, and must still reach the window after `compute` has returned its id.
        self._computed.connect(self._deliver, Qt.QueuedConnection)

    @property
    def busy(self) -> bool:
        return self._answered != self._latest

    def compute(self, make: MaskMaker) -> int:
        """Start computing `make()`; the id that `ready` (or `failed`) will carry."""
        was_busy = self.busy
        if self._waiting is not None:
            self._waiting.cancel()  # superseded before it started: skip the work
        self._latest += 1
        request = self._latest
        future = self._pool.submit(make)
        self._waiting = future
        future.add_done_callback(lambda done: self._announce(request, done))
        if not was_busy:
            self.busyChanged.emit(True)
        return request

    def drop(self) -> None:
        """Answer nothing that was asked so far (a newer edit made it moot)."""
        if self._waiting is not None:
            self._waiting.cancel()
        was_busy = self.busy
        self._answered, self._waiting = self._latest, None
        if was_busy:
            self.busyChanged.emit(False)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _announce(self, request: int, done: Future) -> None:
        """Runs on the worker thread; `_computed` carries the outcome to the window's thread."""
        if done.cancelled():
            return
        error = done.exception()
        if error is not None:
            log.error("computing a mask failed", exc_info=error)
            self._computed.emit(request, f"The mask could not be made ({type(error).__name__}: "
                                         f"{error}). Paint it with the brush instead.")
        else:
            self._computed.emit(request, done.result())

    def _deliver(self, request: int, outcome: np.ndarray | str) -> None:
        if request != self._latest or request == self._answered:
            return
        self._answered, self._waiting = request, None
        if isinstance(outcome, str):
            self.failed.emit(request, outcome)
        else:
            self.ready.emit(request, outcome)
        if not self.busy:  # a slot above may have asked for another mask already
            self.busyChanged.emit(False)
