"""Tiny Segment Anything models: the real classes, random weights, the real .pth format.

TINY_SAM: input 128 px (patch 16, an 8 x 8 embedding grid), a 32-wide encoder of two
blocks (block 1 global, block 0 windowed at 4), prompt width 32. ODD_SAM differs from
it, and from every released SAM, in every size the loader reads back. Both decoders
keep 8 heads like every released SAM, since the loader cannot read head counts from
weights.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from paintnoise_desktop.engine.find import sam_model

TINY_SAM = sam_model.SamShape(
    img_size=128,
    patch_size=16,
    embed_dim=32,
    depth=2,
    num_heads=2,
    mlp_dim=128,
    qkv_bias=True,
    window_size=4,
    global_attn_indexes=(1,),
    prompt_dim=32,
    mask_in_chans=16,
    decoder_depth=2,
    decoder_mlp_dim=64,
    num_multimask_outputs=3,
    iou_head_depth=3,
    iou_head_hidden_dim=32,
)

ODD_SAM = sam_model.SamShape(
    img_size=96,
    patch_size=8,  # a 12 x 12 grid
    embed_dim=24,
    depth=4,
    num_heads=3,
    mlp_dim=60,  # MLP ratio 2.5
    qkv_bias=False,
    window_size=5,  # does not divide the grid: blocks pad, as SAM's do at 1024 / 14
    global_attn_indexes=(0, 3),
    prompt_dim=48,
    mask_in_chans=8,
    decoder_depth=1,
    decoder_mlp_dim=40,
    num_multimask_outputs=2,
    iou_head_depth=2,
    iou_head_hidden_dim=20,
)

# About 1.3 MB on disk: big enough for download tests that need several chunks.
LARGER_SAM = replace(TINY_SAM, embed_dim=64, num_heads=4, mlp_dim=256, depth=4,
                     global_attn_indexes=(1, 3))


def build_sam(folder: Path, shape: sam_model.SamShape = TINY_SAM,
              name: str = "sam_vit_b_tiny.pth") -> Path:
    """Save a tiny SAM of `shape` as `<folder>/<name>` and return that path."""
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    sam = sam_model.build_sam(shape)
    with torch.no_grad():  # random, not zero, position tables, so a wrong shape would matter
        for param_name, param in sam.named_parameters():
            if "rel_pos" in param_name or param_name.endswith("pos_embed"):
                param.normal_(0.0, 0.02)
    path = folder / name
    torch.save(sam.state_dict(), path)
    return path
