"""Copies of the photo's big arrays for worker threads, quick on the GUI thread."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

SPARE_MIN_BYTES = 1 << 22  # smaller copies are quick enough without a spare


def _touched(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    array = np.empty(shape, dtype)
    array.fill(0)  # fault every page in here, on the spares' thread
    return array


class SpareArrays:
    """Copies of the photo's big arrays for worker threads, taken in a few milliseconds.

    The first write to a fresh array faults in each of its pages: for a 24 MP photo's
    72 MB of pixels that takes 20-200 ms, many times the copy itself (~5 ms), and it
    stalls the thread that writes. So a copy is written into a spare array that a
    thread of its own touched beforehand, and that thread makes the next spare
    meanwhile. With no spare ready, the copy is a plain one.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spare-arrays")
        self._spares: dict[tuple[tuple[int, ...], str], Future] = {}

    def prepare(self, *arrays: np.ndarray) -> None:
        """Forget the spares made so far; start making one for copies of each of `arrays`."""
        self._spares.clear()
        for array in arrays:
            self._make_spare(array)

    def copy(self, array: np.ndarray) -> np.ndarray:
        """A copy of `array` that nothing else holds (in a spare when one is ready)."""
        spare = self._spares.get((array.shape, array.dtype.str))
        if spare is not None and not spare.done():
            return array.copy()  # the next spare is still being made
        if spare is None or spare.exception() is not None:
            copy = array.copy()
        else:
            copy = spare.result()
            np.copyto(copy, array)
        self._make_spare(array)  # the spare is taken: make the next one
        return copy

    def _make_spare(self, array: np.ndarray) -> None:
        if array.nbytes >= SPARE_MIN_BYTES:
            key = (array.shape, array.dtype.str)
            self._spares[key] = self._pool.submit(_touched, array.shape, array.dtype)
