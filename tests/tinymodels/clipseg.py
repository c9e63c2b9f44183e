"""A tiny CLIPSeg: the real transformers classes, random weights, saved as save_pretrained does.

The processor is CLIPSegProcessor over a ViTImageProcessor (as on the hub) and the byte-level
CLIP tokenizer of the tiny CLIP, so any phrase tokenizes. The input is 32 px square, so a
heatmap is 32 x 32.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import (
    CLIPSegConfig,
    CLIPSegForImageSegmentation,
    CLIPSegProcessor,
    ViTImageProcessor,
)

from .clip import IMAGE_SIZE, tiny_clip_model, tiny_tokenizer


def tiny_clipseg_model() -> CLIPSegForImageSegmentation:
    """The tiny CLIP's towers (32 px input, two layers each) under a CLIPSeg decoder."""
    clip = tiny_clip_model().config
    config = CLIPSegConfig(
        text_config=clip.text_config.to_dict(), vision_config=clip.vision_config.to_dict(),
        projection_dim=clip.projection_dim, extract_layers=[0, 1], reduce_dim=16,
        decoder_num_attention_heads=2, decoder_intermediate_size=32,
    )
    torch.manual_seed(0)
    return CLIPSegForImageSegmentation(config).eval()


def build_clipseg(folder: Path) -> Path:
    """Save a tiny CLIPSeg model and processor in `folder` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    image_processor = ViTImageProcessor(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE})
    tiny_clipseg_model().save_pretrained(folder)
    CLIPSegProcessor(image_processor=image_processor, tokenizer=tiny_tokenizer()).save_pretrained(
        folder)
    return folder
