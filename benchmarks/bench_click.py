"""Click to mask with a full-size Segment Anything ViT-B (random weights, the same cost as
the real ones, nothing downloaded), through the app's loader and engine.

Times, on CUDA when present (else the CPU):
  - the first click on a photo: loading the checkpoint, encoding the photo, decoding;
  - the image embedding alone (what the first click waits for);
  - a later click, answered from the cached embedding (the engine's whole path: the
    photo's cache key, the working copy, the decoder with three masks, the candidates);
  - SamPredictor.predict alone on the same embedding, for comparison.

Run: python benchmarks/bench_click.py   (add --size WxH, --repeats N, --points N)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paintnoise_desktop.core.jobs import CancelToken, FindJob
from paintnoise_desktop.engine.find import proposals
from paintnoise_desktop.engine.find.sam_embedding import encode, predictor_for
from paintnoise_desktop.engine.models.device import pick_device
from paintnoise_desktop.engine.runner import Engine
from paintnoise_desktop.engine.settings import EngineSettings


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def seconds(device: torch.device, work) -> float:
    sync(device)
    start = time.perf_counter()
    work()
    sync(device)
    return time.perf_counter() - start


def photo(width: int, height: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1024x768", help="photo size WxH (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=20, help="later clicks to time")
    parser.add_argument("--points", type=int, default=2, help="points per later click")
    args = parser.parse_args()
    width, height = (int(side) for side in args.size.split("x"))
    image = photo(width, height)
    rng = np.random.default_rng(1)

    with tempfile.TemporaryDirectory() as folder:
        from segment_anything import sam_model_registry

        checkpoint = Path(folder) / "sam-vit-b" / "sam_vit_b_random.pth"
        checkpoint.parent.mkdir()
        torch.manual_seed(0)
        torch.save(sam_model_registry["vit_b"]().state_dict(), checkpoint)
        engine = Engine(EngineSettings(models_dir=Path(folder)))
        device = pick_device(engine.settings)
        print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
              f"load average {os.getloadavg()[0]:.1f}, photo {width} x {height}, "
              "Segment Anything ViT-B (random weights)")

        def click(job_id: int, points) -> None:
            job = FindJob(job_id, image, "", method="points", points=points)
            result = engine.run(job, lambda progress: None, CancelToken())
            assert result.ok, result.message

        first = seconds(device, lambda: click(1, ((width / 2, height / 2, True),)))
        later = []
        for number in range(args.repeats):
            points = tuple((float(rng.uniform(0, width)), float(rng.uniform(0, height)),
                            bool(i % 2 == 0)) for i in range(args.points))
            later.append(seconds(device, lambda points=points, job_id=2 + number:
                                 click(job_id, points)))

        sam = engine.models.get(f"sam-vit-b@{device}", None)
        working = proposals.working_copy(image)
        embed = []
        embedding = None
        for _ in range(2):
            def run() -> None:
                nonlocal embedding
                embedding = encode(sam, working, lambda fraction, message: None)
            embed.append(seconds(device, run))
        predictor = predictor_for(sam, embedding)
        coords, labels = np.array([[width / 4, height / 4]], np.float32), np.array([1])
        with torch.inference_mode():
            decode = [seconds(device, lambda: predictor.predict(coords, labels))
                      for _ in range(args.repeats)]

    print(f"first click (load + embed + decode): {first:.2f} s")
    print(f"image embedding alone:               {min(embed):.2f} s (best of 2)")
    print(f"later click, from the cache:         {1000 * statistics.median(later):.1f} ms "
          f"median of {args.repeats} ({args.points} points; max "
          f"{1000 * max(later):.1f} ms)")
    print(f"SamPredictor.predict alone:          {1000 * statistics.median(decode):.1f} ms median")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
