"""Loading a Stable Diffusion inpainting pipeline from disk, never from the network.

A model is either a diffusers folder (as `save_pretrained` writes it, the layout of
`<models folder>/sd2-inpainting/`) or a single `.safetensors` checkpoint. Weights
are read as safetensors only; the safety checker is left out (the photos are the
user's own and the checker's weights would double the download).
"""

from __future__ import annotations

from pathlib import Path

import torch

from ...core.errors import ModelError

def load_inpaint_pipeline(path: Path, device: torch.device, dtype: torch.dtype, memory_profile: str = "keep"):
    """A ready StableDiffusionInpaintPipeline on `device` in `dtype`."""
    from diffusers import StableDiffusionInpaintPipeline

    try:
        if path.is_file():
            pipe = _from_single_file(StableDiffusionInpaintPipeline, path, dtype)
        else:
            pipe = StableDiffusionInpaintPipeline.from_pretrained(
                path, local_files_only=True, use_safetensors=True, torch_dtype=dtype,
                safety_checker=None, feature_extractor=None, requires_safety_checker=False,
            )
    except (OSError, ValueError) as error:
        raise ModelError(
            f"The inpainting model in {path} could not be loaded. Check that the folder is complete "
            "(with .safetensors weights) or download the model again.",
            detail=f"{type(error).__name__}: {error}",
        ) from error
    pipe.set_progress_bar_config(disable=True)
    if device.type == "cuda" and memory_profile == "offload":
        pipe.enable_model_cpu_offload(device=device)
    elif device.type == "cuda" and memory_profile == "low":
        pipe.enable_sequential_cpu_offload(device=device)
        pipe.enable_attention_slicing()
        pipe.vae.enable_tiling()
    else:
        pipe.to(device)
    return pipe


def _from_single_file(pipeline_class, path: Path, dtype: torch.dtype):
    if path.suffix != ".safetensors":
        raise ModelError(
            f"{path.name} is not a .safetensors file. Use the model's .safetensors checkpoint, "
            "or its diffusers folder.",
        )
    try:
        return pipeline_class.from_single_file(path, local_files_only=True, torch_dtype=dtype)
    except (OSError, ValueError) as error:
        raise ModelError(
            f"The checkpoint {path.name} needs its model configuration, which is not available "
            "offline. Install the model as a diffusers folder instead "
            "(paintnoise models download sd2-inpainting).",
            detail=f"{type(error).__name__}: {error}",
        ) from error


def native_size_of(pipe) -> int:
    """The resolution the model was trained at: the UNet's latent size times the VAE's scale."""
    return int(pipe.unet.config.sample_size) * int(pipe.vae_scale_factor)
