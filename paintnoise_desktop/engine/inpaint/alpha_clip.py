"""AlphaCLIP: a CLIP image encoder that is told where to look by an alpha map.

AlphaCLIP (Sun et al., 2023) is OpenAI's CLIP ViT with one more patch embedding,
`conv1_alpha`, over a one-channel map (1 where to focus, 0 elsewhere) that is added
to the RGB patch embedding; the rest is CLIP's vision transformer. It is built here
on transformers' `CLIPVisionModelWithProjection`. The released checkpoints
(`clip_l14_grit*.pth`, SunzeY/AlphaCLIP) are the state dict of that visual encoder
in OpenAI CLIP's own names, with attention's q/k/v in one `in_proj` tensor; they are
read with `weights_only=True` and their names mapped to transformers' here. Every
size (width, depth, patch, resolution, output) comes from the checkpoint's tensors,
so ViT-L/14 and a small test model go through the same code.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ...core.errors import ModelError
from ..models.safe_load import load_weights

# OpenAI CLIP's image normalisation, and AlphaCLIP's for the alpha map (mask_transform).
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
ALPHA_MEAN, ALPHA_STD = 0.5, 0.26
HEAD_WIDTH = 64  # OpenAI CLIP gives its vision transformer width // 64 attention heads

_BLOCK = re.compile(r"transformer\.resblocks\.(\d+)\.(.+)")
_BLOCK_PARTS = {"ln_1": "layer_norm1", "ln_2": "layer_norm2", "mlp.c_fc": "mlp.fc1",
                "mlp.c_proj": "mlp.fc2", "attn.out_proj": "self_attn.out_proj"}
_TOP_NAMES = {
    "conv1.weight": "clip.vision_model.embeddings.patch_embedding.weight",
    "conv1_alpha.weight": "alpha_embedding.weight",
    "class_embedding": "clip.vision_model.embeddings.class_embedding",
    "positional_embedding": "clip.vision_model.embeddings.position_embedding.weight",
    "ln_pre.weight": "clip.vision_model.pre_layrnorm.weight",
    "ln_pre.bias": "clip.vision_model.pre_layrnorm.bias",
    "ln_post.weight": "clip.vision_model.post_layernorm.weight",
    "ln_post.bias": "clip.vision_model.post_layernorm.bias",
}


class AlphaCLIP(torch.nn.Module):
    """CLIP's vision transformer with the alpha patch embedding; `forward` gives image embeddings."""

    def __init__(self, config) -> None:
        super().__init__()
        from transformers import CLIPVisionModelWithProjection

        self.clip = CLIPVisionModelWithProjection(config)
        self.alpha_embedding = torch.nn.Conv2d(
            1, config.hidden_size, config.patch_size, stride=config.patch_size, bias=False)

    @property
    def image_size(self) -> int:
        return int(self.clip.config.image_size)

    def forward(self, pixels: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        """pixels N x 3 x S x S and alpha N x 1 x S x S, both normalised -> N x output dim."""
        vision = self.clip.vision_model
        embeddings = vision.embeddings
        patches = embeddings.patch_embedding(pixels) + self.alpha_embedding(alpha)
        patches = patches.flatten(2).transpose(1, 2)
        cls = embeddings.class_embedding.expand(patches.shape[0], 1, -1)
        tokens = torch.cat([cls, patches], dim=1) + embeddings.position_embedding.weight
        hidden = vision.encoder(inputs_embeds=vision.pre_layrnorm(tokens)).last_hidden_state
        return self.clip.visual_projection(vision.post_layernorm(hidden[:, 0]))

    def embed(self, rgb: np.ndarray, focuses: tuple[np.ndarray, ...]) -> torch.Tensor:
        """Embeddings of an RGB uint8 image, one row per focus map (uint8, 255 = look here)."""
        pixels = self.pixels(rgb)
        alpha = torch.cat([self.alpha(focus) for focus in focuses])
        return self(pixels.expand(len(focuses), -1, -1, -1), alpha)

    # The image is resized (bicubic) and the alpha map resized (bilinear, antialiased) to the
    # model's square input, so they stay aligned for any crop shape; for a square crop this is
    # AlphaCLIP's resize-and-centre-crop and its mask_transform.
    def pixels(self, rgb: np.ndarray) -> torch.Tensor:
        """1 x 3 x S x S, normalised as CLIP's preprocessing does, on this model's device."""
        size = self.image_size
        image = np.asarray(Image.fromarray(rgb).resize((size, size), Image.BICUBIC))
        pixels = torch.from_numpy(image.copy()).permute(2, 0, 1).float() / 255
        mean, std = torch.tensor(CLIP_MEAN)[:, None, None], torch.tensor(CLIP_STD)[:, None, None]
        return self._placed(((pixels - mean) / std)[None])

    def alpha(self, focus: np.ndarray) -> torch.Tensor:
        """1 x 1 x S x S, normalised as AlphaCLIP's mask_transform does."""
        size = self.image_size
        alpha = torch.from_numpy(focus.astype(np.float32) / 255)[None, None]
        alpha = torch.nn.functional.interpolate(alpha, size=(size, size), mode="bilinear",
                                                align_corners=False, antialias=True)
        return self._placed((alpha - ALPHA_MEAN) / ALPHA_STD)

    def _placed(self, tensor: torch.Tensor) -> torch.Tensor:
        weight = self.alpha_embedding.weight
        return tensor.to(weight.device, weight.dtype)


def load_alpha_clip(path: Path, model_id: str, device: torch.device) -> AlphaCLIP:
    """An AlphaCLIP checkpoint (.pth read with weights only, or .safetensors), in float32, eval."""
    state = load_weights(path, model_id)
    try:
        with torch.device("meta"):  # no random initialisation: every value comes from the file
            model = AlphaCLIP(alpha_clip_config(state))
        model.to_empty(device=device)
        model.load_state_dict(transformers_state(state))
    except (KeyError, ValueError, RuntimeError) as error:
        raise ModelError(
            f"{path.name} is not an AlphaCLIP checkpoint PaintNoise can read (the visual encoder's "
            f"state dict, as the AlphaCLIP release has it). Run: paintnoise models download {model_id}",
            detail=f"{type(error).__name__}: {error}",
        ) from error
    embeddings = model.clip.vision_model.embeddings  # its one buffer the file does not hold
    embeddings.position_ids.copy_(torch.arange(embeddings.position_ids.shape[-1]))
    return model.eval()


def alpha_clip_config(state: dict[str, torch.Tensor]):
    """The CLIPVisionConfig the checkpoint's tensors describe."""
    from transformers import CLIPVisionConfig

    width, _, patch, _ = state["conv1.weight"].shape
    grid = round((state["positional_embedding"].shape[0] - 1) ** 0.5)
    layers = len({match.group(1) for key in state if (match := _BLOCK.fullmatch(key))})
    if "conv1_alpha.weight" not in state:
        raise KeyError("conv1_alpha.weight (a CLIP checkpoint without the alpha channel)")
    return CLIPVisionConfig(
        hidden_size=width, intermediate_size=state["transformer.resblocks.0.mlp.c_fc.weight"].shape[0],
        projection_dim=state["proj"].shape[1], num_hidden_layers=layers,
        num_attention_heads=max(1, width // HEAD_WIDTH), image_size=patch * grid, patch_size=patch,
        hidden_act="quick_gelu", layer_norm_eps=1e-5,
    )


def transformers_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The checkpoint's OpenAI CLIP names as `AlphaCLIP` (transformers) names them."""
    mapped: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key in _TOP_NAMES:
            mapped[_TOP_NAMES[key]] = value
        elif key == "proj":  # applied as x @ proj; a Linear's weight is its transpose
            mapped["clip.visual_projection.weight"] = value.t().contiguous()
        elif match := _BLOCK.fullmatch(key):
            mapped.update(_block_state(match.group(1), match.group(2), value))
        else:
            raise KeyError(f"unexpected tensor {key}")
    return mapped


def _block_state(index: str, name: str, value: torch.Tensor) -> dict[str, torch.Tensor]:
    layer = f"clip.vision_model.encoder.layers.{index}"
    fused = re.fullmatch(r"attn\.in_proj[._](weight|bias)", name)
    if fused:  # q, k and v stacked, as AlphaCLIP (in_proj.weight) and OpenAI (in_proj_weight) keep them
        return {f"{layer}.self_attn.{part}_proj.{fused.group(1)}": chunk.contiguous()
                for part, chunk in zip("qkv", value.chunk(3))}
    part, _, kind = name.rpartition(".")
    if part not in _BLOCK_PARTS:
        raise KeyError(f"unexpected tensor transformer.resblocks.{index}.{name}")
    return {f"{layer}.{_BLOCK_PARTS[part]}.{kind}": value}
