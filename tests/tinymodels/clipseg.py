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

from .clip import tiny_tokenizer

IMAGE_SIZE = 32


def tiny_clipseg_model() -> CLIPSegForImageSegmentation:
    config = CLIPSegConfig(
        text_config={
            "vocab_size": len(tiny_tokenizer()),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 3,
            "num_attention_heads": 2,
            "max_position_embeddings": 77,
            "bos_token_id": 0,
            "eos_token_id": 1,
            "pad_token_id": 1,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 3,
            "num_attention_heads": 2,
            "image_size": IMAGE_SIZE,
            "patch_size": 8,
        },
        projection_dim=16,
        extract_layers=[1, 2],
        reduce_dim=16,
        decoder_num_attention_heads=2,
        decoder_intermediate_size=32,
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
