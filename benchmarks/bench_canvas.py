"""Brush latency on a 24-megapixel photo in an offscreen canvas.

Each dab is one mouse move delivered to the canvas (Stroke.add_point, the overlay's dirty box
refreshed, update(rect)) followed by processing events, which runs the paint of that rect.
Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_canvas.py
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from paintnoise_desktop.core.document import Document
from paintnoise_desktop.ui.canvas import Canvas

WIDTH, HEIGHT = 6000, 4000
VIEW_WIDTH, VIEW_HEIGHT = 1600, 1000
POINTS = 60


def synthetic_photo(width: int, height: int) -> np.ndarray:
    """Gradients with noise: detail at every scale, like a photo, made in a second or so."""
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    noise = np.random.default_rng(0).integers(0, 32, (height, width), dtype=np.uint8)
    rgb = np.empty((height, width, 3), np.uint8)
    rgb[..., 0] = (x + 0 * y).astype(np.uint8) // 2 + noise
    rgb[..., 1] = (y + 0 * x).astype(np.uint8) // 2 + noise
    rgb[..., 2] = ((x + y) / 2).astype(np.uint8) // 2 + noise
    return rgb


def time_stroke(app: QApplication, canvas: Canvas, radius: int) -> list[float]:
    """Milliseconds per dab along a diagonal stroke across the middle of the view."""
    canvas.set_brush_size(radius)
    start = QPoint(VIEW_WIDTH // 4, VIEW_HEIGHT // 3)
    step = QPoint(VIEW_WIDTH // (2 * POINTS), VIEW_HEIGHT // (3 * POINTS))
    QTest.mouseMove(canvas, start)
    app.processEvents()
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    app.processEvents()
    times = []
    for i in range(1, POINTS + 1):
        t0 = time.perf_counter()
        QTest.mouseMove(canvas, start + step * i)
        app.processEvents()
        times.append((time.perf_counter() - t0) * 1000)
    QTest.mouseRelease(
        canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + step * POINTS
    )
    app.processEvents()
    return times


def time_full_repaints(app: QApplication, canvas: Canvas, count: int = 10) -> list[float]:
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        canvas.repaint()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def report(label: str, times: list[float]) -> None:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(f"{label:<44} median {statistics.median(times):7.2f} ms   p95 {p95:7.2f} ms")


def main() -> None:
    app = QApplication.instance() or QApplication([])
    t0 = time.perf_counter()
    doc = Document(synthetic_photo(WIDTH, HEIGHT))
    canvas = Canvas()
    canvas.resize(VIEW_WIDTH, VIEW_HEIGHT)
    canvas.show()
    canvas.set_document(doc)
    app.processEvents()
    print(f"{WIDTH}x{HEIGHT} photo in a {VIEW_WIDTH}x{VIEW_HEIGHT} canvas")
    print(f"document + canvas ready in {(time.perf_counter() - t0) * 1000:.0f} ms")

    canvas.zoom_fit()
    app.processEvents()
    report(f"full repaint at fit ({canvas.zoom:.3f})", time_full_repaints(app, canvas))
    report(f"dab at fit ({canvas.zoom:.3f}), radius 100 px", time_stroke(app, canvas, 100))

    canvas.zoom_actual()
    app.processEvents()
    report("full repaint at 100%", time_full_repaints(app, canvas))
    report("dab at 100%, radius 30 px", time_stroke(app, canvas, 30))

    t0 = time.perf_counter()
    canvas.refresh((1000, 1000, 3000, 2500))
    app.processEvents()
    print(f"refresh of a 2000x1500 box at 100%: {(time.perf_counter() - t0) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
