"""Brush speed on a 24-megapixel mask: time per pointer event and the size of what to repaint.

Run: python benchmarks/bench_brush.py
"""

from __future__ import annotations

import math
import statistics
import time

import numpy as np

from paintnoise_desktop.core.brush import Brush, Stroke

WIDTH, HEIGHT = 6000, 4000
POINTS = 60
RADIUS = 40


def pointer_path(count: int) -> list[tuple[float, float]]:
    """A wavy drag across the photo, 20 to 80 px between events like a quick hand."""
    points, x, y = [], 1000.0, 2000.0
    rng = np.random.default_rng(0)
    for i in range(count):
        step = rng.uniform(20, 80)
        angle = 0.6 * math.sin(i / 6)
        x, y = x + step * math.cos(angle), y + step * math.sin(angle)
        points.append((x, y))
    return points


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    for erase in (False, True):
        stroke = Stroke(mask, Brush(radius=RADIUS, hardness=0.8, erase=erase))
        times, areas, shapes = [], [], []
        for x, y in pointer_path(POINTS):
            start = time.perf_counter()
            dirty = stroke.add_point(x, y)
            times.append((time.perf_counter() - start) * 1000)
            shapes.append((dirty[2] - dirty[0], dirty[3] - dirty[1]))
            areas.append(shapes[-1][0] * shapes[-1][1])
        held = stroke.nbytes
        start = time.perf_counter()
        box, before = stroke.finish()
        finish_ms = (time.perf_counter() - start) * 1000
        kind = "erase" if erase else "paint"
        print(f"{kind}: {POINTS} events, radius {RADIUS}, on a {WIDTH} x {HEIGHT} mask")
        print(
            f"  add_point ms: median {statistics.median(times):.3f}, "
            f"p95 {percentile(times, 95):.3f}, max {max(times):.3f} (first: {times[0]:.3f})"
        )
        largest = shapes[int(np.argmax(areas))]
        print(
            f"  dirty box px: median {statistics.median(areas):.0f} "
            f"(largest {largest[0]} x {largest[1]}), vs {WIDTH * HEIGHT} for the whole mask"
        )
        print(
            f"  finish ms: {finish_ms:.2f}; stroke box {box[2] - box[0]} x {box[3] - box[1]}; "
            f"undo memory held while painting {held / 1e6:.2f} MB, "
            f"kept after finish {before.nbytes / 1e6:.2f} MB (whole mask {mask.nbytes / 1e6:.0f} MB)"
        )


if __name__ == "__main__":
    main()
