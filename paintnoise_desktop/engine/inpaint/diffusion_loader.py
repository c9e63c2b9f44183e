"""Loading a Stable Diffusion inpainting pipeline from disk, never from the network.

A model is either a diffusers folder (as `save_pretrained` writes it, the layout of
`<models folder>/sd2-inpainting/`) or a single `.safetensors` checkpoint. A single
checkpoint holds weights but no configuration; diffusers would fetch that from the
hub, so it is taken from an installed diffusers folder of the same family instead
(`config_folder`), and without one the checkpoint is refused with a clear message.
Weights are read from safetensors where a component has them, else from its
`.bin` file with `torch.load(weights_only=True)` (diffusers and transformers both
load that way), so nothing in a file is ever run. The safety checker is left out
(the photos are the user's own and the checker's weights would double the download).
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from ...core.errors import ModelError
from ..models.safe_load import quiet_library_loading

# Text-encoder keys of original (LDM) checkpoints: SD 2 has OpenCLIP, SD 1.x has CLIP.
_FAMILY_KEYS = {
    "cond_stage_model.model.": "sd2-inpainting",
    "cond_stage_model.transformer.": "sd15-inpainting",
}


def checkpoint_family(path: Path) -> str | None:
    """The model id whose configuration fits a single .safetensors checkpoint, if known."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as checkpoint:
        keys = list(checkpoint.keys())
    for prefix, model_id in _FAMILY_KEYS.items():
        if any(key.startswith(prefix) for key in keys):
            return model_id
    return None


def load_inpaint_pipeline(
    path: Path, device: torch.device, dtype: torch.dtype, memory_profile: str = "keep",
    config_folder: Path | None = None, pipeline_class=None,
):
    """A ready StableDiffusionInpaintPipeline on `device` in `dtype`.

    `config_folder`: for a single checkpoint file, the diffusers folder whose
    configuration (and tokenizer) it is loaded with. `pipeline_class`: another Stable
    Diffusion pipeline over the same components, read the same way (DiffEdit's, from a
    text-to-image model).
    """
    from diffusers import StableDiffusionInpaintPipeline

    pipeline_class = pipeline_class or StableDiffusionInpaintPipeline
    try:
        with quiet_library_loading():
            if path.is_file():
                pipe = _from_single_file(pipeline_class, path, dtype, config_folder)
            else:
                pipe = pipeline_class.from_pretrained(
                    path, local_files_only=True, torch_dtype=dtype,
                    variant=weights_variant(path),
                    safety_checker=None, feature_extractor=None, requires_safety_checker=False,
                )
    except (OSError, ValueError, pickle.UnpicklingError) as error:
        raise ModelError(
            f"The inpainting model in {path} could not be loaded. Check that the folder is complete "
            "(weights for unet, vae and text_encoder) or download the model again.",
            detail=f"{type(error).__name__}: {error}",
        ) from error
    pipe.set_progress_bar_config(disable=True)
    apply_memory_profile(pipe, device, memory_profile if device.type == "cuda" else "keep")
    return pipe


def apply_memory_profile(pipe, device: torch.device, memory_profile: str) -> None:
    """keep: everything on `device`; offload: one model at a time moves there (model CPU
    offload); low: one layer at a time (sequential offload), sliced attention, tiled VAE."""
    if memory_profile == "offload":
        pipe.enable_model_cpu_offload(device=device)
    elif memory_profile == "low":
        pipe.enable_sequential_cpu_offload(device=device)
        pipe.enable_attention_slicing()
        pipe.vae.enable_tiling()
    else:
        pipe.to(device)


def _from_single_file(pipeline_class, path: Path, dtype: torch.dtype, config_folder: Path | None):
    if path.suffix != ".safetensors":
        raise ModelError(
            f"{path.name} is not a .safetensors file. Use the model's .safetensors checkpoint, "
            "or its diffusers folder.",
        )
    if config_folder is None:
        family = checkpoint_family(path)
        needed = family or "sd2-inpainting or sd15-inpainting"
        raise ModelError(
            f"The checkpoint {path.name} needs the configuration of its model family, and none is "
            f"installed as a folder. Install {needed} first (paintnoise models download "
            f"{family or 'sd2-inpainting'}), or use the model's diffusers folder.",
            detail=f"single-file checkpoint {path}, family {family}",
        )
    return pipeline_class.from_single_file(
        path, config=str(config_folder), local_files_only=True, torch_dtype=dtype,
        safety_checker=None, requires_safety_checker=False,
    )


def weights_variant(folder: Path) -> str | None:
    """The weight files' variant: "fp16" when the folder holds only half-precision files
    (what the catalogue downloads: `unet/diffusion_pytorch_model.fp16.safetensors`)."""
    unet = folder / "unet"
    if (unet / "diffusion_pytorch_model.safetensors").exists():
        return None
    return "fp16" if any(unet.glob("*.fp16.safetensors")) else None


def native_size_of(pipe) -> int:
    """The resolution the model was trained at: the UNet's latent size times the VAE's scale."""
    return int(pipe.unet.config.sample_size) * int(pipe.vae_scale_factor)
