"""Mask operations on a 24-megapixel mask: a small object and one filling most of the photo.

Run: python benchmarks/bench_masks.py
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from paintnoise_desktop.core import masks
from paintnoise_desktop.core.jobs import MaskSettings

WIDTH, HEIGHT = 6000, 4000


def object_mask(box: tuple[int, int, int, int]) -> np.ndarray:
    """An ellipse with a hole, a soft rim and a speck, inside `box` of a 24 MP mask."""
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    x0, y0, x1, y1 = box
    centre = ((x0 + x1) // 2, (y0 + y1) // 2)
    cv2.ellipse(mask, centre, ((x1 - x0) // 2, (y1 - y0) // 2), 0, 0, 360, 255, -1)
    cv2.circle(mask, centre, (x1 - x0) // 10, 0, -1)
    mask[y0 : y0 + 3, x1 - 3 : x1] = 255
    return mask


def timed(label: str, operation, *args, repeats: int = 3) -> None:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        operation(*args)
        best = min(best, (time.perf_counter() - start) * 1000)
    print(f"  {label:<38} {best:8.1f} ms")


def main() -> None:
    objects = [
        ("small object 400 x 300", (2000, 1500, 2400, 1800)),
        ("large object 5000 x 3400", (400, 300, 5400, 3700)),
    ]
    for name, box in objects:
        mask = object_mask(box)
        soft = masks.feather(mask, 6)
        print(f"{name} on a {WIDTH} x {HEIGHT} mask")
        timed("postprocess (defaults)", masks.postprocess, mask, MaskSettings())
        timed("grow 20 px (binary)", masks.grow, mask, 20)
        timed("grow 20 px (soft)", masks.grow, soft, 20)
        timed("shrink 20 px (binary)", masks.shrink, mask, 20)
        timed("feather 10 px", masks.feather, mask, 10)
        timed("fill_holes", masks.fill_holes, mask)
        timed("drop_specks", masks.drop_specks, mask, 100)
    small = np.zeros((683, 1024), np.uint8)
    small[200:400, 300:700] = 255
    print("found mask at working size")
    timed("resize_mask 1024 x 683 -> 6000 x 4000", masks.resize_mask, small, WIDTH, HEIGHT)
    timed("postprocess at 1024 x 683", masks.postprocess, small, MaskSettings())


if __name__ == "__main__":
    main()
