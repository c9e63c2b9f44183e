"""Opening and saving a 24-megapixel JPEG: the app's load_image/save_image next to bare Pillow.

The photo is synthetic but photo-like (smooth gradients, soft shapes, sensor noise), so the
JPEG codec does a realistic amount of work. Prints the median of a few runs.

Run: python benchmarks/bench_imagefile.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from paintnoise_desktop.core.imagefile import load_image, save_image

WIDTH, HEIGHT = 6000, 4000
REPEATS = 5


def photo_like() -> np.ndarray:
    """Sky-to-ground gradients, a few soft blobs and Gaussian noise, as H x W x 3 uint8."""
    y = np.linspace(0.0, 1.0, HEIGHT, dtype=np.float32)[:, None]
    x = np.linspace(0.0, 1.0, WIDTH, dtype=np.float32)[None, :]
    rgb = np.empty((HEIGHT, WIDTH, 3), np.float32)
    rgb[..., 0] = 90 + 120 * y + 30 * x
    rgb[..., 1] = 140 + 60 * y - 40 * x
    rgb[..., 2] = 220 - 150 * y
    for cx, cy, radius, colour in [(0.3, 0.6, 0.12, (200, 40, 30)), (0.7, 0.5, 0.2, (30, 120, 60))]:
        blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * radius**2))
        for channel in range(3):
            rgb[..., channel] += (colour[channel] - rgb[..., channel]) * blob
    rgb += np.random.default_rng(0).normal(0, 6, (HEIGHT, WIDTH, 1)).astype(np.float32)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def median_ms(operation, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        operation()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def pillow_open(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


def main() -> None:
    rgb = photo_like()
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "PaintNoise Benchmark"
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "photo.jpg"
        Image.fromarray(rgb).save(source, quality=95, exif=exif.tobytes())
        size_mb = source.stat().st_size / 1e6
        print(f"{WIDTH} x {HEIGHT} JPEG, {size_mb:.1f} MB, median of {REPEATS} runs")
        loaded = load_image(source)
        rows = [
            ("open: bare Pillow (decode + array)", lambda: pillow_open(source)),
            ("open: load_image (orientation 6)", lambda: load_image(source)),
            (
                "save: bare Pillow, quality 95",
                lambda: Image.fromarray(rgb).save(Path(folder) / "bare.jpg", quality=95),
            ),
            (
                "save: save_image (atomic, EXIF)",
                lambda: save_image(Path(folder) / "edited.jpg", loaded.rgb, exif=loaded.exif),
            ),
        ]
        for label, operation in rows:
            print(f"  {label:<38} {median_ms(operation):8.1f} ms")


if __name__ == "__main__":
    main()
