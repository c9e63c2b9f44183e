"""Removal with the fast learned removers: a 512 x 512 photo, LaMa (big-lama) and DeepFill v2.

Full-size architectures with random weights (the same cost as the released ones; nothing is
downloaded), written to a temporary models folder in their real layouts and loaded by the
app's loader, then removed through `replace()` as the window removes: crop around the mask
at the native 512 px, one network pass, blend back. The time is the median of `--repeats`
runs after a warm-up; the CPU runs with `--threads` threads (2, as the target machine).

Run: python benchmarks/bench_learned.py   (add --device cuda, --threads N, --repeats N,
     --models lama,deepfill-v2)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paintnoise_desktop.core.jobs import CancelToken, InpaintJob
from paintnoise_desktop.core.masks import feather
from paintnoise_desktop.engine.inpaint.deepfill import DeepFillGenerator
from paintnoise_desktop.engine.inpaint.lama import LamaGenerator
from paintnoise_desktop.engine.inpaint.replace import replace
from paintnoise_desktop.engine.models.model_store import ModelStore
from paintnoise_desktop.engine.settings import EngineSettings
from tests.tinymodels.deepfill import save_deepfill
from tests.tinymodels.lama import save_lama

SIZE = 512
OBJECT = (160, 120)  # width, height of the removed object, px
SAVERS = {"lama": lambda folder: save_lama(folder, LamaGenerator().eval()),
          "deepfill-v2": lambda folder: save_deepfill(folder, DeepFillGenerator().eval())}


def photo_and_mask() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    base = np.stack([x // 2, y // 2, (x + y) // 4], -1)
    photo = np.clip(base + rng.integers(-8, 9, (SIZE, SIZE, 3)), 0, 255).astype(np.uint8)
    mask = np.zeros((SIZE, SIZE), np.uint8)
    x0, y0 = (SIZE - OBJECT[0]) // 2, (SIZE - OBJECT[1]) // 2
    mask[y0:y0 + OBJECT[1], x0:x0 + OBJECT[0]] = 255
    return photo, feather(mask, 6)


def removal(model_id: str, photo: np.ndarray, mask: np.ndarray, settings: EngineSettings):
    """One removal as the window makes it, with the model kept loaded between runs."""
    models = ModelStore(settings)
    job = InpaintJob(0, photo, mask, inpainter=model_id)
    return lambda: replace(job, models, lambda *a, **k: None, CancelToken())


def median_seconds(run, repeats: int, cuda: bool) -> float:
    run()  # warm-up: loading, allocation, kernel selection
    times = []
    for _ in range(repeats):
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        run()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", default="lama,deepfill-v2")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    photo, mask = photo_and_mask()
    cuda = args.device.startswith("cuda")
    where = (torch.cuda.get_device_name() if cuda
             else f"CPU, {torch.get_num_threads()} threads")
    print(f"removal of a {OBJECT[0]}x{OBJECT[1]} object from a {SIZE}x{SIZE} photo on {where}, "
          f"median of {args.repeats} (torch {torch.__version__})")
    with tempfile.TemporaryDirectory() as folder:
        settings = EngineSettings(device=args.device, models_dir=Path(folder))
        for model_id in args.models.split(","):
            SAVERS[model_id](Path(folder) / model_id)
            seconds = median_seconds(removal(model_id, photo, mask, settings), args.repeats, cuda)
            print(f"  {model_id:12s} {seconds * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
