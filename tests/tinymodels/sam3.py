"""A tiny SAM 3: the real transformers classes (Sam3Model, Sam3Processor), random weights.

Saved with `save_pretrained` as the facebook/sam3 repository holds it (model.safetensors,
processor_config.json, the CLIP tokenizer's files), so the app's loader reads it unchanged.
Its ViT sees 56 x 56 px in 4 x 4 patches of 14 px; the processor resizes every photo to that.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import (
    Sam3Config,
    Sam3ImageProcessor,
    Sam3Model,
    Sam3Processor,
    Sam3ViTConfig,
)

from .clip import tiny_tokenizer

IMAGE_SIZE = 56
WIDTH = 32


def tiny_sam3_config() -> Sam3Config:
    grid = IMAGE_SIZE // 14
    layers = {"hidden_size": WIDTH, "num_attention_heads": 2, "intermediate_size": 64}
    return Sam3Config(
        vision_config={
            "backbone_config": Sam3ViTConfig(
                hidden_size=WIDTH, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=2, image_size=IMAGE_SIZE, patch_size=14,
                window_size=2, global_attn_indexes=[1], pretrain_image_size=IMAGE_SIZE,
            ),
            "fpn_hidden_size": WIDTH,
            "backbone_feature_sizes": [[4 * grid] * 2, [2 * grid] * 2, [grid] * 2],
        },
        text_config={
            "vocab_size": len(tiny_tokenizer()), "hidden_size": WIDTH, "intermediate_size": 64,
            "projection_dim": WIDTH, "num_hidden_layers": 1, "num_attention_heads": 2,
            "max_position_embeddings": 32, "bos_token_id": 0, "eos_token_id": 1, "pad_token_id": 1,
        },
        geometry_encoder_config={**layers, "num_layers": 1},
        detr_encoder_config={**layers, "num_layers": 1},
        detr_decoder_config={**layers, "num_layers": 1, "num_queries": 8},
        mask_decoder_config={"hidden_size": WIDTH, "num_attention_heads": 2},
    )


def tiny_sam3_processor() -> Sam3Processor:
    tokenizer = tiny_tokenizer()
    tokenizer.model_max_length = 32
    image_processor = Sam3ImageProcessor(
        size={"height": IMAGE_SIZE, "width": IMAGE_SIZE},
        mask_size={"height": 4 * IMAGE_SIZE // 14, "width": 4 * IMAGE_SIZE // 14},
    )
    return Sam3Processor(image_processor=image_processor, tokenizer=tokenizer)


def build_sam3(folder: Path) -> Path:
    """Save the tiny SAM 3 and its processor in `folder` (safetensors) and return it."""
    torch.manual_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    Sam3Model(tiny_sam3_config()).eval().save_pretrained(folder, safe_serialization=True)
    tiny_sam3_processor().save_pretrained(folder)
    return folder
