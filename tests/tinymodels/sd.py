"""A tiny Stable Diffusion inpainting pipeline: the real diffusers classes, random weights.

Saved with `save_pretrained(safe_serialization=True)` exactly as a downloaded
`sd2-inpainting` folder is laid out, so the app's loader reads it unchanged. Its
native size is unet.config.sample_size (16) x the VAE's scale factor (2) = 32 px.
"""

from __future__ import annotations

from pathlib import Path

import torch
from diffusers import (
    AutoencoderKL,
    DDIMScheduler,
    StableDiffusionInpaintPipeline,
    UNet2DConditionModel,
)
from transformers import CLIPTextConfig, CLIPTextModel

from .clip import tiny_tokenizer


def tiny_sd_inpainting_pipeline() -> StableDiffusionInpaintPipeline:
    torch.manual_seed(0)
    tokenizer = tiny_tokenizer()
    tokenizer.model_max_length = 77  # the pipeline pads every prompt to this, as in SD
    unet = UNet2DConditionModel(
        sample_size=16,
        in_channels=9,  # noisy latents + masked-image latents + mask
        out_channels=4,
        block_out_channels=(32, 64),
        layers_per_block=1,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=(2, 4),
        use_linear_projection=True,  # as SD 2 does
        norm_num_groups=8,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        block_out_channels=(32, 64),
        latent_channels=4,
        norm_num_groups=8,
        # VAE tiling starts above sample_size / 2 latents: as with SD 2 (512 px, tiles of 64
        # latents), a crop at the native size decodes in one piece when tiling is on.
        sample_size=32,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
            num_hidden_layers=2, num_attention_heads=2, max_position_embeddings=77,
            bos_token_id=0, eos_token_id=1, pad_token_id=1,
        )
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
        clip_sample=False, set_alpha_to_one=False, steps_offset=1,
    )
    return StableDiffusionInpaintPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )


def build_sd_inpainting(folder: Path) -> Path:
    """Save the tiny pipeline in `folder` (safetensors) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    tiny_sd_inpainting_pipeline().save_pretrained(folder, safe_serialization=True)
    return folder


def offload_on_the_cpu(pipe: StableDiffusionInpaintPipeline, profile: str) -> None:
    """Give `pipe` the memory profile's accelerate hooks, with the CPU as the execution device.

    "offload" is the app's own `apply_memory_profile` (diffusers' model CPU offload).
    "low" installs the hooks diffusers' `enable_sequential_cpu_offload` installs
    (`accelerate.cpu_offload` on each model, weights on the `meta` device until a layer
    runs), because that method names the CPU "cpu:0", and accelerate's hooks then turn
    parameters into plain tensors at the first layer; on a GPU it is called as it is.
    """
    from accelerate import cpu_offload

    from paintnoise_desktop.engine.inpaint.diffusion_loader import apply_memory_profile

    cpu = torch.device("cpu")
    if profile != "low":
        apply_memory_profile(pipe, cpu, profile)
        return
    for name, component in pipe.components.items():
        if isinstance(component, torch.nn.Module) and name not in pipe._exclude_from_cpu_offload:
            cpu_offload(component, cpu, offload_buffers=len(component._parameters) > 0)
    pipe.enable_attention_slicing()
    pipe.vae.enable_tiling()
