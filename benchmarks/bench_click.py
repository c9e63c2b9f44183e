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
    """Wall-clock seconds of `work()`; its CPU seconds (all threads) are added to `CPU`,
    which a machine shared with other work inflates far less."""
    sync(device)
    start, cpu = time.perf_counter(), time.process_time()
    work()
    sync(device)
    CPU.append(time.process_time() - cpu)
    return time.perf_counter() - start


CPU: list[float] = []


def cpu_since(count: int) -> list[float]:
    return CPU[count:]


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
        first_cpu, mark = CPU[-1], len(CPU)
        later = []
        for number in range(args.repeats):
            points = tuple((float(rng.uniform(0, width)), float(rng.uniform(0, height)),
                            bool(i % 2 == 0)) for i in range(args.points))
            later.append(seconds(device, lambda points=points, job_id=2 + number:
                                 click(job_id, points)))

        later_cpu, mark = cpu_since(mark), len(CPU)
        sam = engine.models.get(f"sam-vit-b@{device}", None)
        working = proposals.working_copy(image)
        embed = []
        embedding = None
        for _ in range(2):
            def run() -> None:
                nonlocal embedding
                embedding = encode(sam, working, lambda fraction, message: None)
            embed.append(seconds(device, run))
        embed_cpu, mark = cpu_since(mark), len(CPU)
        predictor = predictor_for(sam, embedding)
        coords, labels = np.array([[width / 4, height / 4]], np.float32), np.array([1])
        with torch.inference_mode():
            decode = [seconds(device, lambda: predictor.predict(coords, labels))
                      for _ in range(args.repeats)]

        decode_cpu = cpu_since(mark)

    print("                                      wall          CPU (all threads)")
    print(f"first click (load + embed + decode): {first:8.2f} s    {first_cpu:8.2f} s")
    print(f"image embedding alone (best of 2):   {min(embed):8.2f} s    {min(embed_cpu):8.2f} s")
    print(f"later click, from the cache:         {1000 * statistics.median(later):8.1f} ms   "
          f"{1000 * statistics.median(later_cpu):8.1f} ms   (median of {args.repeats}, "
          f"{args.points} points; wall max {1000 * max(later):.1f} ms)")
    print(f"SamPredictor.predict alone:          {1000 * statistics.median(decode):8.1f} ms   "
          f"{1000 * statistics.median(decode_cpu):8.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
