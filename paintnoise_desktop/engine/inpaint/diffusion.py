"""Inpainting with Stable Diffusion (diffusers), one crop at a time.

The pipeline stays loaded in the ModelStore under "<model id>@<device>:<dtype>".
Each sampling step reports a cheap preview (latents mapped to RGB by a fixed linear
map, no VAE) and is where Cancel takes effect. A result with NaNs or an all-black
image is never returned: the crop is painted again in full precision, and if that
fails too the job fails with a clear message. Running out of GPU memory steps down
through VAE tiling with attention slicing, model CPU offload (unless the memory
profile already offloads) and a smaller working size, and says so in the variant's
note. Decoding happens here, not in the pipeline, so that an fp16 VAE can decode in
fp32; it runs on the pipeline's execution device under every memory profile.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ...core.crop import resize_hole, resize_pixels
from ...core.errors import ModelError
from ...core.jobs import CancelToken
from ..models.catalog import known_spec
from ..models.device import pick_device, pick_dtype, pick_memory_profile
from ..models.model_store import ModelStore
from ..models.registry import find_model, require_model
from .diffusion_loader import checkpoint_family, load_inpaint_pipeline, native_size_of
from .inpainter import OnStep, PaintRequest

# Stable Diffusion 1.x/2.x latents (as sampled, scaled) -> approximate RGB in -1..1.
LATENT_TO_RGB = torch.tensor([
    [0.298, 0.207, 0.208],
    [0.187, 0.286, 0.173],
    [-0.158, 0.189, 0.264],
    [-0.184, -0.271, -0.473],
])

SMALLER_SIZE_FACTOR = 0.75

# GPU memory assumed for an inpainting model the catalogue does not know (one added by path).
DEFAULT_MIN_MEMORY_GB = 6.0


class DiffusionInpainter:
    # What a steering callback reads after each step (see `_steering`).
    STEERING_INPUTS: tuple[str, ...] = ()

    def __init__(self, pipe, name: str, native_size: int) -> None:
        self.pipeline = pipe
        self.name = name
        self.native_size: int | None = native_size
        self._notes: list[str] = []
        self._memory_fallback = 0  # how many ways of saving GPU memory were taken (_recover_memory)
        self._shrink = 1.0

    @classmethod
    def for_model(cls, name: str, models: ModelStore) -> DiffusionInpainter:
        """The inpainter for a model id (looked up in the registry) or a model folder/file."""
        settings = models.settings
        given = Path(name).expanduser()
        if given.is_absolute() and given.exists():
            path, label = given, given.stem
        else:
            path, label = require_model(name, settings), name
        config_folder = None
        if path.is_file() and path.suffix == ".safetensors":
            # The configuration comes from a diffusers folder of the checkpoint's family
            # (not from the checkpoint itself, when the user set it as that family's model).
            family = checkpoint_family(path)
            found = find_model(family, settings) if family else None
            config_folder = found if found is not None and found.is_dir() else None
        device = pick_device(settings)
        dtype = pick_dtype(device, settings)
        spec = known_spec(name)
        profile = pick_memory_profile(
            device, settings, spec.min_memory_gb if spec else DEFAULT_MIN_MEMORY_GB
        )
        key = f"{name}@{device}:{str(dtype).removeprefix('torch.')}:{profile}"
        pipe = models.get(
            key, lambda: load_inpaint_pipeline(path, device, dtype, profile, config_folder)
        )
        return cls(pipe, label, native_size_of(pipe))

    def take_notes(self) -> list[str]:
        notes, self._notes = self._notes, []
        return notes

    def paint(
        self,
        crop_rgb: np.ndarray,
        crop_mask: np.ndarray,
        request: PaintRequest,
        seed: int,
        on_step: OnStep,
        cancel: CancelToken,
    ) -> np.ndarray:
        cancel.raise_if_cancelled()
        while True:
            try:
                return self._paint_checked(crop_rgb, crop_mask, request, seed, on_step, cancel)
            except torch.OutOfMemoryError:
                pass  # recover outside the handler, once the traceback no longer holds the tensors
            self._recover_memory()

    def _paint_checked(self, crop_rgb, crop_mask, request, seed, on_step, cancel) -> np.ndarray:
        painted = self._paint_sized(crop_rgb, crop_mask, request, seed, on_step, cancel)
        if painted is not None and not _looks_black(painted, crop_rgb):
            return painted
        with _full_precision(self.pipeline):
            painted = self._paint_sized(crop_rgb, crop_mask, request, seed, on_step, cancel)
        if painted is None or _looks_black(painted, crop_rgb):
            raise ModelError(
                f"The model '{self.name}' produced an empty (black or invalid) image, even in full "
                "precision, so nothing was changed. Try another seed or another model.",
                detail="non-finite or all-black output after a retry in float32",
            )
        self._notes.append("The first result was invalid; painted again in full precision")
        return painted

    def _paint_sized(self, crop_rgb, crop_mask, request, seed, on_step, cancel) -> np.ndarray | None:
        height, width = crop_rgb.shape[:2]
        if self._shrink == 1.0:
            return self._run(crop_rgb, crop_mask, request, seed, on_step, cancel)
        small = (max(8, int(width * self._shrink) // 8 * 8), max(8, int(height * self._shrink) // 8 * 8))
        painted = self._run(
            resize_pixels(crop_rgb, small), resize_hole(crop_mask, small), request, seed, on_step, cancel
        )
        return None if painted is None else resize_pixels(painted, (width, height))

    def _run(
        self, crop_rgb, crop_mask, request: PaintRequest, seed: int, on_step: OnStep, cancel: CancelToken
    ) -> np.ndarray | None:
        """The painted crop, or None when the model produced NaNs or infinities."""
        pipe = self.pipeline
        height, width = crop_rgb.shape[:2]

        def step_end(pipeline, index: int, timestep, tensors: dict) -> dict:
            cancel.raise_if_cancelled()
            changed = steer(pipeline, index, timestep, tensors) if steer else {}
            latents = changed.get("latents", tensors["latents"])
            on_step(index + 1, pipeline.num_timesteps, latent_preview(latents[0]))
            return changed

        # A CPU generator gives the same noise for a seed on every device.
        generator = torch.Generator("cpu").manual_seed(seed)
        # no_grad (as diffusers' own __call__ uses), not inference_mode: the VAE's weights change
        # dtype for decoding in this block, and weights converted in inference mode would
        # become inference tensors for good.
        with torch.no_grad(), self._steering(crop_rgb, crop_mask, request) as steer:
            latents = pipe(
                prompt=request.prompt,
                negative_prompt=request.negative_prompt or None,
                image=Image.fromarray(crop_rgb),
                mask_image=Image.fromarray(crop_mask),
                height=height,
                width=width,
                strength=request.strength,
                num_inference_steps=request.steps,
                guidance_scale=request.guidance,
                generator=generator,
                output_type="latent",
                callback_on_step_end=step_end,
                callback_on_step_end_tensor_inputs=list(self.STEERING_INPUTS if steer
                                                        else ("latents",)),
                **self._guidance(crop_rgb, crop_mask, request),
            ).images
            if not torch.isfinite(latents).all():
                return None
            decoded = decode(pipe, latents)
        if not torch.isfinite(decoded).all():
            return None
        rgb = ((decoded[0].float() / 2 + 0.5).clamp(0, 1) * 255).round().to(torch.uint8)
        return rgb.permute(1, 2, 0).cpu().numpy()

    @contextmanager
    def _steering(self, crop_rgb, crop_mask, request: PaintRequest):
        """A callback that changes the latents after each step (CLIP guidance); none here."""
        yield None

    def _guidance(self, crop_rgb, crop_mask, request: PaintRequest) -> dict:
        """More of the pipeline's arguments for this crop (CLIPAway's image prompt); none here."""
        return {}

    def _recover_memory(self) -> None:
        """Free the cache and take the next, slower, way to fit in GPU memory."""
        torch.cuda.empty_cache()
        pipe = self.pipeline
        if self._memory_fallback == 0:
            pipe.vae.enable_tiling()
            pipe.enable_attention_slicing()
            self._notes.append("Ran out of GPU memory; finished with VAE tiling and attention slicing")
        elif self._memory_fallback == 1 and not is_offloaded(pipe):
            pipe.enable_model_cpu_offload(device=execution_device(pipe))
            self._notes.append("Ran out of GPU memory; finished with the model partly on the CPU")
        elif self._shrink > 0.3:
            self._shrink *= SMALLER_SIZE_FACTOR
            self._notes.append("Ran out of GPU memory; finished at a smaller working size")
        else:
            raise ModelError(
                "The GPU ran out of memory even at a small size. Close other programs using the GPU, "
                "choose Low memory in the settings, or run on the CPU.",
            )
        self._memory_fallback += 1


def decode(pipe, latents: torch.Tensor) -> torch.Tensor:
    """Latents -> image in -1..1; an fp16 VAE whose config asks for it (SD 2) decodes in fp32.

    The latents go to the pipeline's execution device, not `vae.device`: with model
    offload the VAE sits on the CPU until its hook moves it, and with sequential
    offload its weights are on the `meta` device. Afterwards an offloaded VAE goes
    back to the CPU, as it does after the pipeline's own decoding.
    """
    vae = pipe.vae
    upcast = vae.dtype == torch.float16 and vae.config.get("force_upcast", True)
    with _decoder_upcast(vae, upcast):
        dtype = torch.float32 if upcast else vae.dtype
        scaled = latents.to(device=execution_device(pipe), dtype=dtype) / vae.config.scaling_factor
        decoded = vae.decode(scaled, return_dict=False)[0]
    pipe.maybe_free_model_hooks()
    return decoded


def execution_device(pipe) -> torch.device:
    """Where the pipeline computes: its offload hooks' device, else that of its first real weight."""
    device = pipe._execution_device
    if device.type != "meta":
        return device
    for component in pipe.components.values():
        if isinstance(component, torch.nn.Module):
            for parameter in component.parameters():
                if parameter.device.type != "meta":
                    return parameter.device
    return torch.device("cpu")


def is_offloaded(pipe) -> bool:
    """Whether accelerate's offload hooks (model or sequential) move the weights on demand."""
    return any(hasattr(component, "_hf_hook") for component in pipe.components.values())


def latent_preview(latents: torch.Tensor) -> np.ndarray:
    """A small RGB uint8 image (one pixel per latent) approximating what the latents show."""
    rgb = torch.einsum("chw,cr->hwr", latents.float().cpu(), LATENT_TO_RGB)
    return ((rgb / 2 + 0.5).clamp(0, 1) * 255).round().to(torch.uint8).numpy()


def _looks_black(painted: np.ndarray, original: np.ndarray) -> bool:
    """All black where the photo was not: what a failed fp16 decode or a safety filter gives."""
    return int(painted.max()) == 0 and int(original.max()) > 0


@contextmanager
def _decoder_upcast(vae, upcast: bool):
    """The decoding half of the VAE in fp32 for the duration (the encoder is left alone)."""
    parts = [part for part in (vae.post_quant_conv, vae.decoder) if part is not None] if upcast else []
    for part in parts:
        torch.nn.Module.to(part, torch.float32)
    try:
        yield
    finally:
        for part in parts:
            torch.nn.Module.to(part, torch.float16)


@contextmanager
def _full_precision(pipe):
    dtype = pipe.unet.dtype
    if dtype == torch.float32:
        yield
        return
    pipe.to(torch.float32)
    try:
        yield
    finally:
        pipe.to(dtype)
