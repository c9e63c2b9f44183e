"""CLIP-guided replacement against plain Stable Diffusion inpainting: time per sampling step.

  default  the tiny SD inpainting model, CLIP and LPIPS's AlexNet (random weights) on the CPU
  --full   SD 2 inpainting's architecture, CLIP ViT-L/14 and AlexNet with random weights (the
           real models' cost, nothing downloaded), fp16 on CUDA when present, at 512 x 512;
           on CUDA the peak GPU memory of the guided run is printed too

Both paint the same 512 px crop with the same seed through the app's inpainters
(DiffusionInpainter, ClipGuidedInpainter), once to warm up and then timed; the guided run
guides every step (the default). Target on an H100/H200: guided <= 3x plain per step.

Run: python benchmarks/bench_guided.py   (add --full, --steps N)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from paintnoise_desktop.core.jobs import CancelToken
from paintnoise_desktop.engine.find.clip_model import ClipEmbedder
from paintnoise_desktop.engine.inpaint.diffusion import DiffusionInpainter
from paintnoise_desktop.engine.inpaint.guided import ClipGuidedInpainter, Guide, GuideWeights
from paintnoise_desktop.engine.inpaint.inpainter import PaintRequest
from paintnoise_desktop.engine.inpaint.lpips_model import load_lpips

PROMPT = "an orange"


def crop_and_hole(size: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    crop = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    hole = np.zeros((size, size), np.uint8)
    hole[size // 4: 3 * size // 4, size // 3: 2 * size // 3] = 255
    return crop, hole


def clip_embedder(full: bool, device, dtype) -> ClipEmbedder:
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    from tests.tinymodels.clip import IMAGE_SIZE, tiny_clip_model, tiny_tokenizer

    if full:  # CLIP ViT-L/14's shapes
        model = CLIPModel(CLIPConfig(
            text_config={"vocab_size": 49408, "hidden_size": 768, "intermediate_size": 3072,
                         "num_hidden_layers": 12, "num_attention_heads": 12,
                         "max_position_embeddings": 77},
            vision_config={"hidden_size": 1024, "intermediate_size": 4096,
                           "num_hidden_layers": 24, "num_attention_heads": 16,
                           "image_size": 224, "patch_size": 14},
            projection_dim=768))
        side = 224
    else:
        model, side = tiny_clip_model(), IMAGE_SIZE
    processor = CLIPProcessor(
        image_processor=CLIPImageProcessor(size={"shortest_edge": side},
                                           crop_size={"height": side, "width": side}),
        tokenizer=tiny_tokenizer())
    return ClipEmbedder(model.to(device=device, dtype=dtype).eval(), processor, device, dtype)


def lpips_metric(device, dtype):
    from tests.tinymodels.lpips import build_lpips_backbone

    return load_lpips(build_lpips_backbone(Path(tempfile.mkdtemp())), device, dtype)


def per_step(inpainter, crop, hole, steps: int) -> float:
    request = PaintRequest(prompt=PROMPT, steps=steps)
    inpainter.paint(crop, hole, request, 0, lambda *a: None, CancelToken())  # warm up
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    inpainter.paint(crop, hole, request, 0, lambda *a: None, CancelToken())
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true",
                        help="full-size SD 2, CLIP ViT-L/14 and AlexNet")
    parser.add_argument("--steps", type=int, default=None,
                        help="sampling steps (default 4 tiny, 10 full)")
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    steps = args.steps or (10 if args.full else 4)
    if args.full:
        from bench_replace import full_sd2_pipeline

        pipe, name = full_sd2_pipeline(device, dtype), "SD 2 inpainting (full size)"
    else:
        from bench_replace import tiny_pipeline

        pipe, name = tiny_pipeline(device, dtype), "tiny SD inpainting"
    native = 512 if args.full else 32
    crop, hole = crop_and_hole(native)
    plain = DiffusionInpainter(pipe, name, native)
    guide = Guide(clip_embedder(args.full, device, dtype), lpips_metric(device, dtype),
                  GuideWeights())
    guided = ClipGuidedInpainter(pipe, name, native, guide)

    print(f"{name}, {native} x {native}, {steps} steps, device {device}, {dtype}")
    plain_ms = per_step(plain, crop, hole, steps) * 1000
    print(f"plain SD inpainting, per step: {plain_ms:.1f} ms")
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    guided_ms = per_step(guided, crop, hole, steps) * 1000
    print(f"CLIP-guided, per step: {guided_ms:.1f} ms ({guided_ms / plain_ms:.2f}x plain)")
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**30
        print(f"CLIP-guided peak GPU memory: {peak:.2f} GB (target: fits in 8 GB)")


if __name__ == "__main__":
    main()
