"""Memory and time to open a 16-bit colour PNG, against the 8-bit photo it becomes.

Each opening runs in a process of its own, so its peak resident memory (ru_maxrss, less what the
process held before opening) belongs to that opening alone; NumPy's share is also counted by
tracemalloc. "pillow" is Pillow's own decode of the same file (which keeps only the high byte of
each value), for comparison.

Run: python benchmarks/bench_open16.py [--megapixels 100]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_png(path: Path, width: int, height: int) -> None:
    """A 16-bit RGB PNG that compresses like a photo: smooth colour, fine grain in the low bits."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(0)
    coarse = rng.integers(0, 65536, (max(2, height // 64), max(2, width // 64), 3), np.uint16)
    pixels = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_LINEAR)
    pixels += rng.integers(0, 64, (1, width, 3), np.uint16)  # grain that repeats down the rows
    if not cv2.imwrite(str(path), pixels, [cv2.IMWRITE_PNG_COMPRESSION, 1]):
        raise OSError(f"could not write {path}")


def _resident_kib() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _measure_here(path: Path, how: str) -> dict[str, float]:
    """In this process: open `path` the way `how` says and report what it took."""
    import tracemalloc

    from PIL import Image

    from paintnoise_desktop.core.imagefile import load_image

    before = _resident_kib()
    tracemalloc.start()
    started = time.perf_counter()
    if how == "paintnoise":
        loaded = load_image(path)
        pixels, notes = loaded.rgb, loaded.notes
    else:
        Image.MAX_IMAGE_PIXELS = None
        with Image.open(path) as image:
            image.load()
            pixels, notes = image, ()
    seconds = time.perf_counter() - started
    _, traced_peak = tracemalloc.get_traced_memory()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    width, height = pixels.size if how == "pillow" else (pixels.shape[1], pixels.shape[0])
    result = width * height * 3
    return {"seconds": round(seconds, 2), "peak_mb": round((peak_kib - before) * 1024 / 1e6, 1),
            "traced_peak_mb": round(traced_peak / 1e6, 1), "result_mb": round(result / 1e6, 1),
            "peak_over_result": round((peak_kib - before) * 1024 / result, 2),
            "notes": list(notes)}


def measure(path: Path, how: str = "paintnoise") -> dict[str, float]:
    """Open `path` in a fresh process ("paintnoise": load_image; "pillow": Pillow alone)."""
    run = subprocess.run([sys.executable, __file__, "--measure", str(path), "--how", how],
                         capture_output=True, text=True, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", type=float, default=100.0)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--how", default="paintnoise", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(_measure_here(args.measure, args.how)))
        return
    width = round((args.megapixels * 1e6 * 3 / 2) ** 0.5)
    height = round(args.megapixels * 1e6 / width)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "wide.png"
        make_png(path, width, height)
        print(f"{width} x {height} 16-bit RGB PNG ({width * height / 1e6:.0f} MP), "
              f"{path.stat().st_size / 1e6:.0f} MB on disk")
        for how in ("pillow", "paintnoise"):
            found = measure(path, how)
            print(f"{how:>10}: {found['seconds']:6.2f} s, peak {found['peak_mb']:7.1f} MB "
                  f"({found['peak_over_result']:.2f} x the 8-bit result of "
                  f"{found['result_mb']:.0f} MB), NumPy's peak {found['traced_peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
