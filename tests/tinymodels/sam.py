"""A tiny Segment Anything model: the real classes, random weights, the real .pth format.

Input 128 px (patch 16, an 8 x 8 embedding grid), a 32-wide encoder of two blocks
(block 1 global, block 0 windowed at 4), prompt width 32. The decoder keeps 8
heads like every released SAM, since the loader cannot read head counts from weights.
"""

from __future__ import annotations

from pathlib import Path

import torch

from paintnoise_desktop.engine.find import sam_model

TINY_SAM = sam_model.SamShape(
    img_size=128,
    patch_size=16,
    embed_dim=32,
    depth=2,
    num_heads=2,
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


def build_sam(folder: Path) -> Path:
    """Save a tiny SAM as `<folder>/sam_vit_b_tiny.pth` and return that path."""
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    sam = sam_model.build_sam(TINY_SAM)
    with torch.no_grad():  # random, not zero, position tables, so a wrong shape would matter
        for name, param in sam.named_parameters():
            if "rel_pos" in name or name.endswith("pos_embed"):
                param.normal_(0.0, 0.02)
    path = folder / "sam_vit_b_tiny.pth"
    torch.save(sam.state_dict(), path)
    return path
