"""A tiny SegFormer: the real transformers classes, random weights, saved as save_pretrained does.

Four classes named as ADE20K names its first four (wall, building, sky, floor); the image
processor resizes to 64 px square, so its logits are 16 x 16.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import SegformerConfig, SegformerForSemanticSegmentation, SegformerImageProcessor

IMAGE_SIZE = 64
LABELS = ("wall", "building", "sky", "floor")


def tiny_segformer_model() -> SegformerForSemanticSegmentation:
    config = SegformerConfig(
        num_encoder_blocks=4, depths=[1, 1, 1, 1], sr_ratios=[8, 4, 2, 1],
        hidden_sizes=[8, 16, 16, 16], num_attention_heads=[1, 1, 1, 1],
        decoder_hidden_size=16, num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)), label2id={name: i for i, name in enumerate(LABELS)},
    )
    torch.manual_seed(0)
    return SegformerForSemanticSegmentation(config).eval()


def build_segformer(folder: Path) -> Path:
    """Save a tiny SegFormer and its image processor in `folder` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    tiny_segformer_model().save_pretrained(folder)
    SegformerImageProcessor(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}).save_pretrained(
        folder)
    return folder
