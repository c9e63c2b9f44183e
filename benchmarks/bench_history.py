"""Undo memory and speed on a 24-megapixel photo: 50 brush strokes, then undo and redo them all.

Run: python benchmarks/bench_history.py
"""

from __future__ import annotations

import math
import os
import statistics
import time

import numpy as np

from paintnoise_desktop.core.brush import Brush, Stroke
from paintnoise_desktop.core.document import Document

WIDTH, HEIGHT = 6000, 4000
STROKES = 50
EVENTS = 20
RADIUS = 40


def rss_bytes() -> int:
    """Resident memory of this process now (Linux)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def stroke_points(rng: np.random.Generator) -> list[tuple[float, float]]:
    x, y = rng.uniform(200, WIDTH - 1200), rng.uniform(200, HEIGHT - 1200)
    angle = rng.uniform(0, 2 * math.pi)
    points = []
    for _ in range(EVENTS):
        angle += rng.uniform(-0.3, 0.3)
        x, y = x + 30 * math.cos(angle), y + 30 * math.sin(angle)
        points.append((x, y))
    return points


def main() -> None:
    rng = np.random.default_rng(0)
    doc = Document.from_array(rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8))
    doc.mask.fill(0)  # fault its pages in now, so the growth below is the history's own
    rss_start = rss_bytes()
    points: list[tuple[float, float]] = []
    for i in range(STROKES):
        # Every fifth stroke erases along the one before it.
        erase = i % 5 == 4
        stroke = Stroke(doc.mask, Brush(radius=RADIUS, erase=erase))
        points = points if erase else stroke_points(rng)
        for x, y in points:
            stroke.add_point(x, y)
        finished = stroke.finish()
        if finished is not None:
            doc.record_stroke("Brush", *finished)
    rss_growth = rss_bytes() - rss_start
    steps = doc.history.index
    naive_mask = steps * doc.mask.nbytes
    naive_all = steps * (doc.mask.nbytes + doc.rgb.nbytes)
    print(f"{steps} strokes ({EVENTS} events, radius {RADIUS}) on a {WIDTH} x {HEIGHT} photo")
    print(f"  history.nbytes: {doc.history.nbytes / 1e6:.1f} MB")
    print(f"  process RSS growth: {rss_growth / 1e6:.1f} MB")
    print(
        f"  naive snapshots: {naive_mask / 1e9:.2f} GB of masks, "
        f"{naive_all / 1e9:.2f} GB of masks and pixels "
        f"({naive_mask / max(doc.history.nbytes, 1):.0f}x / "
        f"{naive_all / max(doc.history.nbytes, 1):.0f}x more)"
    )

    final = doc.mask.copy()
    undo_ms, redo_ms = [], []
    for _ in range(steps):
        start = time.perf_counter()
        doc.undo()
        undo_ms.append((time.perf_counter() - start) * 1000)
    assert not doc.mask.any()
    assert doc.undo() is None
    for _ in range(steps):
        start = time.perf_counter()
        doc.redo()
        redo_ms.append((time.perf_counter() - start) * 1000)
    assert np.array_equal(doc.mask, final)
    print(
        f"  undo ms: median {statistics.median(undo_ms):.3f}, max {max(undo_ms):.3f}; "
        f"redo ms: median {statistics.median(redo_ms):.3f}, max {max(redo_ms):.3f}"
    )

    grown = doc.mask.copy()
    grown[1000:1400, 2000:2600] = 255
    start = time.perf_counter()
    doc.set_mask("Grow mask", grown)
    print(
        f"  set_mask on the whole 24 MP mask (finds the changed box): "
        f"{(time.perf_counter() - start) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
