"""Replace end to end: a small object on a 512 px and on a 24-megapixel photo.

  default  OpenCV and the tiny SD inpainting model (built here, loaded by the app's
           loader) on the CPU: mostly the cost of cropping, resizing, colour matching
           and compositing
  --full   Stable Diffusion 2 inpainting's architecture with random weights (same cost
           as the real model, nothing downloaded), fp16 on CUDA when present

For the diffusion models the same edit is also made two other ways, and the ratios
printed: diffusers' own `padding_mask_crop` (crop around the mask inside the
pipeline, paste back over the full-size PIL image), and the plain pipeline call on
the whole photo resized to the model's size and resized back.

`--profile keep,offload,low` measures the app's replace under each memory profile
(keep-loaded, model CPU offload, sequential CPU offload), with the peak GPU memory
on CUDA; the two comparisons above are made for the keep-loaded pipeline only. On a
GPU the profiles are the app's own (`apply_memory_profile`); on the CPU the same
accelerate hooks are installed as the tests install them.

Run: python benchmarks/bench_replace.py   (add --full, --steps N, --repeats N,
     --profile keep,offload,low)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paintnoise_desktop.core.crop import work_size_for
from paintnoise_desktop.core.jobs import CancelToken, InpaintJob
from paintnoise_desktop.core.masks import feather
from paintnoise_desktop.engine.inpaint.diffusion import DiffusionInpainter
from paintnoise_desktop.engine.inpaint.diffusion_loader import (
    apply_memory_profile,
    load_inpaint_pipeline,
    native_size_of,
)
from paintnoise_desktop.engine.inpaint.opencv import OpenCVInpainter
from paintnoise_desktop.engine.inpaint.replace import replace_with

PHOTOS = {"512 px": (512, 512), "24 MP": (6000, 4000)}
OBJECT = (120, 90)  # width, height of the masked object, px
PROMPT = "a wooden bench"
PROFILES = ("keep", "offload", "low")


def photo_and_mask(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 // width, y * 255 // height, (x + y) * 255 // (width + height)], -1)
    photo = np.clip(base + rng.integers(-8, 9, (height, width, 3)), 0, 255).astype(np.uint8)
    mask = np.zeros((height, width), np.uint8)
    x0, y0 = width // 2 - OBJECT[0] // 2, height // 2 - OBJECT[1] // 2
    mask[y0:y0 + OBJECT[1], x0:x0 + OBJECT[0]] = 255
    return photo, feather(mask, 6)


def timed(run, repeats: int) -> float:
    """Fastest of `repeats` runs after one warm-up (the least disturbed by other programs)."""
    run()
    times = []
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        run()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


def reset_peak_gpu_memory() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def peak_gpu_memory() -> str:
    """The most GPU memory allocated at once since the last reset, or "-" without CUDA."""
    if not torch.cuda.is_available():
        return "-"
    return f"{torch.cuda.max_memory_allocated() / 1e9:.1f} GB"


def with_profile(pipe, device, profile: str):
    """`pipe` under a memory profile: the app's own on a GPU, the tests' hooks on the CPU."""
    if device.type == "cuda":
        apply_memory_profile(pipe, device, profile)
    else:
        from tests.tinymodels.sd import offload_on_the_cpu

        offload_on_the_cpu(pipe, profile)
    return pipe


def ours(inpainter, photo, mask, steps):
    job = InpaintJob(0, photo, mask, prompt=PROMPT, steps=steps, seed=1)
    return lambda: replace_with(job, inpainter, lambda *a, **k: None, CancelToken())


def diffusers_padding_mask_crop(pipe, photo, mask, steps, native):
    image, mask_image = Image.fromarray(photo), Image.fromarray(mask)

    def run():
        pipe(PROMPT, image=image, mask_image=mask_image, height=native, width=native,
             padding_mask_crop=32, num_inference_steps=steps,
             generator=torch.Generator("cpu").manual_seed(1)).images[0]
    return run


def plain_whole_photo(pipe, photo, mask, steps, native):
    height, width = photo.shape[:2]
    work = work_size_for((width, height), native)

    def run():
        small = Image.fromarray(cv2.resize(photo, work, interpolation=cv2.INTER_AREA))
        small_mask = Image.fromarray(cv2.resize(mask, work, interpolation=cv2.INTER_AREA))
        out = pipe(PROMPT, image=small, mask_image=small_mask, height=work[1], width=work[0],
                   num_inference_steps=steps, generator=torch.Generator("cpu").manual_seed(1),
                   output_type="np").images[0]
        cv2.resize((out * 255).round().astype(np.uint8), (width, height), interpolation=cv2.INTER_LANCZOS4)
    return run


def tiny_pipeline(device, dtype):
    from tests.tinymodels.sd import build_sd_inpainting

    folder = build_sd_inpainting(Path(tempfile.mkdtemp()) / "sd2-inpainting")
    return load_inpaint_pipeline(folder, device, dtype)


def full_sd2_pipeline(device, dtype):
    """SD 2 inpainting's UNet, VAE and OpenCLIP-H text encoder shapes, random weights."""
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        StableDiffusionInpaintPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    from tests.tinymodels.clip import tiny_tokenizer

    tokenizer = tiny_tokenizer()
    tokenizer.model_max_length = 77
    unet = UNet2DConditionModel(
        sample_size=64, in_channels=9, out_channels=4, layers_per_block=2,
        block_out_channels=(320, 640, 1280, 1280), cross_attention_dim=1024,
        attention_head_dim=(5, 10, 20, 20), use_linear_projection=True,
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
    )
    vae = AutoencoderKL(
        block_out_channels=(128, 256, 512, 512), layers_per_block=2, latent_channels=4,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        sample_size=512,
    )
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=49408, hidden_size=1024, intermediate_size=4096, num_hidden_layers=23,
        num_attention_heads=16, max_position_embeddings=77, hidden_act="gelu", projection_dim=512,
        bos_token_id=0, eos_token_id=1, pad_token_id=1,
    ))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                              clip_sample=False, set_alpha_to_one=False, steps_offset=1)
    pipe = StableDiffusionInpaintPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device, dtype)


def profiles_argument(text: str) -> list[str]:
    profiles = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in profiles if name not in PROFILES]
    if unknown or not profiles:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(PROFILES)} (comma-separated)")
    return profiles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="SD 2 inpainting's full-size architecture")
    parser.add_argument("--steps", type=int, default=None, help="sampling steps (default 4 tiny, 25 full)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", type=profiles_argument, default=["keep"],
                        help="memory profiles to measure, comma-separated: keep, offload, low "
                             "(default keep)")
    args = parser.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    steps = args.steps or (25 if args.full else 4)
    name = "SD 2 inpainting (full size, random weights)" if args.full else "tiny SD inpainting"
    print(f"{name}; device {device} ({dtype}), {steps} steps, best of {args.repeats} after a "
          f"warm-up, object {OBJECT[0]}x{OBJECT[1]} px")
    for profile in args.profile:
        pipe = with_profile((full_sd2_pipeline if args.full else tiny_pipeline)(device, dtype), device, profile)
        native = native_size_of(pipe)
        diffusion = DiffusionInpainter(pipe, "sd2-inpainting", native)
        for label, (width, height) in PHOTOS.items():
            photo, mask = photo_and_mask(width, height)
            if not args.full and profile == "keep":
                opencv = timed(ours(OpenCVInpainter(), photo, mask, steps), args.repeats)
                print(f"{label:7s} OpenCV Telea, ours:                   {opencv * 1000:9.1f} ms")
            reset_peak_gpu_memory()
            ours_s = timed(ours(diffusion, photo, mask, steps), args.repeats)
            peak = peak_gpu_memory()
            print(f"{label:7s} diffusion, ours, {profile:8s}:           {ours_s * 1000:9.1f} ms"
                  f"  peak GPU {peak}")
            if profile != "keep":
                continue
            crop_s = timed(diffusers_padding_mask_crop(pipe, photo, mask, steps, native), args.repeats)
            plain_s = timed(plain_whole_photo(pipe, photo, mask, steps, native), args.repeats)
            print(f"{label:7s} diffusers padding_mask_crop:          {crop_s * 1000:9.1f} ms"
                  f"  ({crop_s / ours_s:.2f}x ours)")
            print(f"{label:7s} plain call on the photo resized:      {plain_s * 1000:9.1f} ms"
                  f"  ({plain_s / ours_s:.2f}x ours)")
        del pipe, diffusion
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
