"""Brush latency and GUI-thread stalls of the canvas on a 24-megapixel photo, offscreen.

Each dab is one mouse move delivered to the canvas (Stroke.add_point, the overlay's dirty box
refreshed, update(rect)) followed by processing events, which runs the paint of that rect.
A stall is the longest the GUI thread is busy at once for an action: the call itself, or
one turn of the event loop while the canvas makes the rest of its levels band by band.
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


def time_stroke(app: QApplication, canvas: Canvas, diameter: int) -> list[float]:
    """Milliseconds per dab along a diagonal stroke across the middle of the view."""
    canvas.set_brush_size(diameter)
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


def stall(app: QApplication, canvas: Canvas, label: str, action) -> None:
    """Run `action`, then the event loop until the canvas is done; print the longest stall."""
    t0 = time.perf_counter()
    action()
    call = (time.perf_counter() - t0) * 1000
    longest, turns = call, 0
    while canvas.busy or turns == 0:
        t1 = time.perf_counter()
        app.processEvents()
        longest = max(longest, (time.perf_counter() - t1) * 1000)
        turns += 1
    total = (time.perf_counter() - t0) * 1000
    print(f"{label:<44} call {call:6.1f} ms   longest stall {longest:6.1f} ms   "
          f"done in {total:6.0f} ms ({turns} turns)")


def report(label: str, times: list[float]) -> None:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(f"{label:<44} median {statistics.median(times):7.2f} ms   p95 {p95:7.2f} ms")


def main() -> None:
    app = QApplication.instance() or QApplication([])
    t0 = time.perf_counter()
    rgb = synthetic_photo(WIDTH, HEIGHT)
    print(f"{WIDTH}x{HEIGHT} photo made in {(time.perf_counter() - t0) * 1000:.0f} ms, "
          f"in a {VIEW_WIDTH}x{VIEW_HEIGHT} canvas")
    doc = Document(rgb)
    original = rgb.copy()
    canvas = Canvas()
    canvas.resize(VIEW_WIDTH, VIEW_HEIGHT)
    canvas.show()
    app.processEvents()
    stall(app, canvas, "open (set_document)", lambda: canvas.set_document(doc))
    canvas.set_original(original, matches_document=True)

    canvas.zoom_fit()
    app.processEvents()
    report(f"full repaint at fit ({canvas.zoom:.3f})", time_full_repaints(app, canvas))
    report(f"dab at fit ({canvas.zoom:.3f}), diameter 200 px", time_stroke(app, canvas, 200))

    doc.rgb[1000:2500, 1000:3000] = 255 - doc.rgb[1000:2500, 1000:3000]
    stall(app, canvas, "refresh of a 2000x1500 box", lambda: canvas.refresh((1000, 1000, 3000,
                                                                            2500)))
    doc.mask[:] = 255 - doc.mask
    stall(app, canvas, "refresh of everything (undo of Invert)", canvas.refresh)

    variant = rgb.copy()
    box = (2000, 1500, 3200, 2500)
    variant[1500:2500, 2000:3200] = 255 - variant[1500:2500, 2000:3200]
    stall(app, canvas, "variant hover, 1200x1000 box", lambda: canvas.set_display_override(
        variant, box))
    stall(app, canvas, "variant hover ends", lambda: canvas.set_display_override(None))
    stall(app, canvas, "same variant again (kept)", lambda: canvas.set_display_override(
        variant, box))
    stall(app, canvas, "variant hover, whole photo", lambda: canvas.set_display_override(
        variant))
    canvas.set_display_override(None)
    stall(app, canvas, "show original (changed boxes only)",
          lambda: canvas.set_showing_original(True))
    canvas.set_showing_original(False)
    preview = np.zeros((512, 512, 3), np.uint8)
    stall(app, canvas, "live preview in place", lambda: canvas.set_live_preview(preview, box))

    canvas.zoom_actual()
    app.processEvents()
    report("full repaint at 100%", time_full_repaints(app, canvas))
    report("dab at 100%, diameter 60 px", time_stroke(app, canvas, 60))


if __name__ == "__main__":
    main()
