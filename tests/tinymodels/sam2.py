"""A tiny SAM 2.1: the real transformers classes (Sam2Model, Sam2Processor), random weights.

Saved with `save_pretrained` as the facebook/sam2.1-hiera-tiny repository holds its
transformers files (config.json, model.safetensors, processor_config.json), so the app's
loader reads it unchanged. The Hiera encoder sees 64 x 64 px; masks come out at 16 x 16.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import (
    Sam2Config,
    Sam2HieraDetConfig,
    Sam2ImageProcessor,
    Sam2Model,
    Sam2Processor,
    Sam2VisionConfig,
)

IMAGE_SIZE = 64
WIDTH = 32


def tiny_sam2_config() -> Sam2Config:
    grid = IMAGE_SIZE // 4  # the patch embedding's stride
    return Sam2Config(
        vision_config=Sam2VisionConfig(
            backbone_config=Sam2HieraDetConfig(
                hidden_size=8, num_attention_heads=1, blocks_per_stage=[1, 1, 2, 1],
                embed_dim_per_stage=[8, 16, 32, 64], num_attention_heads_per_stage=[1, 1, 2, 2],
                window_size_per_stage=[4, 2, 2, 1], global_attention_blocks=[3],
                window_positional_embedding_background_size=[2, 2],
                image_size=[IMAGE_SIZE, IMAGE_SIZE],
            ),
            backbone_channel_list=[64, 32, 16, 8],
            backbone_feature_sizes=[[grid, grid], [grid // 2, grid // 2], [grid // 4, grid // 4]],
            fpn_hidden_size=WIDTH,
        ),
        prompt_encoder_config={"hidden_size": WIDTH, "image_size": IMAGE_SIZE, "patch_size": 16},
        mask_decoder_config={"hidden_size": WIDTH, "mlp_dim": 64, "num_attention_heads": 2,
                             "iou_head_hidden_dim": WIDTH},
    )


def tiny_sam2_processor() -> Sam2Processor:
    size = {"height": IMAGE_SIZE, "width": IMAGE_SIZE}
    image_processor = Sam2ImageProcessor(size=size, mask_size={"height": 16, "width": 16})
    return Sam2Processor(image_processor=image_processor, target_size=IMAGE_SIZE)


def build_sam2(folder: Path) -> Path:
    """Save the tiny SAM 2.1 and its processor in `folder` (safetensors) and return it."""
    torch.manual_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    Sam2Model(tiny_sam2_config()).eval().save_pretrained(folder, safe_serialization=True)
    tiny_sam2_processor().save_pretrained(folder)
    return folder
