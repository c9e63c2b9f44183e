"""A tiny Stable Diffusion inpainting pipeline: the real diffusers classes, random weights.

Saved with `save_pretrained(safe_serialization=True)` exactly as a downloaded
`sd2-inpainting` folder is laid out, so the app's loader reads it unchanged. Its
native size is unet.config.sample_size (16) x the VAE's scale factor (2) = 32 px.

`build_hub_sd(folder, layout)` lays the folder out as model repositories and users'
folders have it: full-precision files, fp16 variant files only, fp16 variants for
some components only, both side by side, or `.bin` files only (torch.save of the
state dicts, the text encoder with the `text_model.` keys and position_ids buffer
older transformers wrote). `build_single_file(path)` writes the original (LDM)
single-checkpoint format of an SD 1.x inpainting model.
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


HUB_LAYOUTS = ("fp32", "fp16-variant", "fp16-variant-partial", "fp32-and-fp16", "bin")
COMPONENTS = ("unet", "vae", "text_encoder")


def build_hub_sd(folder: Path, layout: str) -> Path:
    """The tiny pipeline saved in one of HUB_LAYOUTS (all weights hold the same values)."""
    pipe = tiny_sd_inpainting_pipeline()
    if layout in ("fp32", "fp32-and-fp16"):
        pipe.save_pretrained(folder, safe_serialization=True)
    if layout in ("fp16-variant", "fp16-variant-partial", "fp32-and-fp16"):
        pipe.save_pretrained(folder, safe_serialization=True, variant="fp16")
    if layout == "fp16-variant-partial":  # a text encoder published without an fp16 file
        (folder / "text_encoder" / "model.fp16.safetensors").unlink()
        pipe.text_encoder.save_pretrained(folder / "text_encoder", safe_serialization=True)
    if layout == "bin":
        pipe.save_pretrained(folder, safe_serialization=True)
        for name in ("unet", "vae"):
            component = folder / name
            torch.save(getattr(pipe, name).state_dict(), component / "diffusion_pytorch_model.bin")
            (component / "diffusion_pytorch_model.safetensors").unlink()
        state = {f"text_model.{key}": value for key, value in pipe.text_encoder.state_dict().items()}
        state["text_model.embeddings.position_ids"] = torch.arange(77).unsqueeze(0)
        torch.save(state, folder / "text_encoder" / "pytorch_model.bin")
        (folder / "text_encoder" / "model.safetensors").unlink()
    return folder


def build_single_file(path: Path, family: str = "sd1") -> Path:
    """The tiny pipeline as one original-format (LDM) checkpoint, .safetensors.

    The key names are the ones diffusers' convert_diffusers_to_original_stable_diffusion
    script writes, generalised to the tiny model's two levels and one layer per block.
    `family` "sd1" stores the text encoder as SD 1.x does (transformers CLIP under
    `cond_stage_model.transformer.`), "sd2" as SD 2 does (OpenCLIP under
    `cond_stage_model.model.`, q/k/v in one in_proj tensor).
    """
    from safetensors.torch import save_file

    pipe = tiny_sd_inpainting_pipeline()
    state = {f"model.diffusion_model.{_ldm_unet_key(key, pipe.unet.config)}": value
             for key, value in pipe.unet.state_dict().items()}
    for key, value in pipe.vae.state_dict().items():
        name = _ldm_vae_key(key, len(pipe.vae.config.block_out_channels))
        if ".attn_1." in name and name.endswith("weight") and value.ndim == 2:
            value = value[:, :, None, None]  # the original VAE's attention uses 1x1 convolutions
        state[f"first_stage_model.{name}"] = value
    text_encoder = pipe.text_encoder.state_dict()
    if family == "sd1":
        state.update({f"cond_stage_model.transformer.text_model.{key}": value
                      for key, value in text_encoder.items()})
    else:
        state.update({f"cond_stage_model.model.{key}": value
                      for key, value in _open_clip_state(text_encoder).items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({key: value.contiguous() for key, value in state.items()}, str(path))
    return path


_OPEN_CLIP_NAMES = {"embeddings.position_embedding.weight": "positional_embedding",
                    "embeddings.token_embedding.weight": "token_embedding.weight",
                    "final_layer_norm.weight": "ln_final.weight", "final_layer_norm.bias": "ln_final.bias"}
_OPEN_CLIP_PARTS = (("encoder.layers.", "transformer.resblocks."), ("layer_norm1", "ln_1"),
                    ("layer_norm2", "ln_2"), (".fc1.", ".c_fc."), (".fc2.", ".c_proj."),
                    (".self_attn.", ".attn."))


def _open_clip_state(text_encoder: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    state = {}
    for key, value in text_encoder.items():
        if key in _OPEN_CLIP_NAMES:
            state[_OPEN_CLIP_NAMES[key]] = value
            continue
        for ours, theirs in _OPEN_CLIP_PARTS:
            key = key.replace(ours, theirs)
        for kind in ("weight", "bias"):
            if key.endswith(f".attn.q_proj.{kind}"):
                layer = key.removesuffix(f".q_proj.{kind}")
                state[f"{layer}.in_proj_{kind}"] = torch.cat(
                    [text_encoder[_hf_attention_key(layer, part, kind)] for part in "qkv"])
        if not any(key.endswith(f".{part}_proj.{kind}") for part in "qkv" for kind in ("weight", "bias")):
            state[key] = value
    return state


def _hf_attention_key(layer: str, part: str, kind: str) -> str:
    index = layer.split(".")[2]  # transformer.resblocks.<i>.attn
    return f"encoder.layers.{index}.self_attn.{part}_proj.{kind}"


_UNET_NAMES = {"time_embedding.linear_1": "time_embed.0", "time_embedding.linear_2": "time_embed.2",
               "conv_in": "input_blocks.0.0", "conv_norm_out": "out.0", "conv_out": "out.2"}
_RESNET_NAMES = {"norm1": "in_layers.0", "conv1": "in_layers.2", "norm2": "out_layers.0",
                 "conv2": "out_layers.3", "time_emb_proj": "emb_layers.1",
                 "conv_shortcut": "skip_connection"}


def _ldm_unet_key(key: str, config) -> str:
    parts = key.split(".")
    per = config.layers_per_block
    for length in (1, 2):
        top = ".".join(parts[:length])
        if top in _UNET_NAMES:
            return ".".join([_UNET_NAMES[top], *parts[length:]])
    if parts[0] == "down_blocks":
        block, kind, index, rest = int(parts[1]), parts[2], int(parts[3]), parts[4:]
        if kind == "downsamplers":  # down_blocks.i.downsamplers.0.conv -> input_blocks.N.0.op
            return ".".join([f"input_blocks.{(block + 1) * (per + 1)}.0.op", *rest[1:]])
        prefix = f"input_blocks.{1 + block * (per + 1) + index}.{0 if kind == 'resnets' else 1}"
    elif parts[0] == "up_blocks":
        block, kind, index, rest = int(parts[1]), parts[2], int(parts[3]), parts[4:]
        first = block * (per + 1)
        if kind == "upsamplers":
            has_attention = "CrossAttn" in config.up_block_types[block]
            return ".".join([f"output_blocks.{first + per}.{2 if has_attention else 1}", *rest])
        prefix = f"output_blocks.{first + index}.{0 if kind == 'resnets' else 1}"
    else:  # mid_block: resnet, attention, resnet
        kind, index, rest = parts[1], int(parts[2]), parts[3:]
        prefix = f"middle_block.{2 * index if kind == 'resnets' else 1}"
    if kind == "resnets":
        rest = [_RESNET_NAMES.get(rest[0], rest[0]), *rest[1:]]
    return ".".join([prefix, *rest])


_VAE_ATTENTION_NAMES = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out": "proj_out"}


def _ldm_vae_key(key: str, levels: int) -> str:
    parts = key.split(".")
    coder, rest = parts[0], parts[1:]
    if coder not in ("encoder", "decoder"):
        return key  # quant_conv, post_quant_conv
    if rest[0] in ("down_blocks", "up_blocks"):
        block, kind, index, tail = int(rest[1]), rest[2], rest[3], rest[4:]
        level = block if rest[0] == "down_blocks" else levels - 1 - block
        side = "down" if rest[0] == "down_blocks" else "up"
        if kind in ("downsamplers", "upsamplers"):
            name = [f"{side}.{level}.{'downsample' if side == 'down' else 'upsample'}", *tail]
        else:
            name = [f"{side}.{level}.block.{index}", *tail]
    elif rest[0] == "mid_block" and rest[1] == "resnets":
        name = [f"mid.block_{int(rest[2]) + 1}", *rest[3:]]
    elif rest[0] == "mid_block":  # attentions.0.<part>[.0].weight
        tail = rest[3:]
        tail = [_VAE_ATTENTION_NAMES[tail[0]], *(tail[2:] if tail[0] == "to_out" else tail[1:])]
        name = ["mid.attn_1", *tail]
    else:
        name = [{"conv_norm_out": "norm_out"}.get(rest[0], rest[0]), *rest[1:]]
    return ".".join([coder, *name]).replace("conv_shortcut", "nin_shortcut")


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
