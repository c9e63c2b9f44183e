"""Loading a Segment Anything checkpoint whatever its size.

The original `.pth` files hold only weights, so the architecture is read back
from the tensors themselves: image size from the position embedding, width and
depth from the encoder blocks, MLP width from the first block's MLP, heads from
the relative-position tables, window size and global-attention blocks from which
blocks have the global table size, and every decoder size from the decoder's
layers. ViT-B/L/H and any other shape therefore go through the same code, and
`checkpoint_problems` (used by `models verify` too) compares the file with the
model it describes before anything is built for real.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch

from ...core.errors import ModelError
from ..models.device import pick_device
from ..models.model_choice import SAM_MODEL_IDS, preferred_model
from ..models.model_store import ModelStore
from ..models.registry import require_model
from ..models.safe_load import broken_model_error, load_checkpoint

DECODER_HEADS = 8  # every released SAM uses 8; head count is not visible in the weights


@dataclass(frozen=True)
class SamShape:
    img_size: int
    patch_size: int
    embed_dim: int
    depth: int
    num_heads: int
    mlp_dim: int
    qkv_bias: bool
    window_size: int
    global_attn_indexes: tuple[int, ...]
    prompt_dim: int
    mask_in_chans: int
    decoder_depth: int
    decoder_mlp_dim: int
    num_multimask_outputs: int
    iou_head_depth: int
    iou_head_hidden_dim: int


def checkpoint_file(folder: Path, model_id: str) -> Path:
    if folder.is_file():
        return folder
    files = sorted(folder.glob("*.pth"))
    if len(files) != 1:
        raise ModelError(
            f"The folder {folder} should hold exactly one Segment Anything .pth file "
            f"(found {len(files)}). Run: paintnoise models download {model_id}",
        )
    return files[0]


def _count(state: Mapping, pattern: str) -> int:
    found = {int(m.group(1)) for key in state if (m := re.match(pattern, key))}
    return max(found) + 1 if found else 0


def infer_shape(state: Mapping) -> SamShape:
    """The architecture of a SAM state dict (tensors, or anything with a `.shape`).

    KeyError/IndexError/ValueError when it is not one.
    """
    grid = state["image_encoder.pos_embed"].shape[1]
    embed_dim = state["image_encoder.pos_embed"].shape[3]
    patch_size = state["image_encoder.patch_embed.proj.weight"].shape[2]
    depth = _count(state, r"image_encoder\.blocks\.(\d+)\.")
    if depth == 0:
        raise ValueError("no image encoder blocks")
    table_sizes = [state[f"image_encoder.blocks.{i}.attn.rel_pos_h"].shape[0] for i in range(depth)]
    head_dim = state["image_encoder.blocks.0.attn.rel_pos_h"].shape[1]
    global_size = 2 * grid - 1
    global_blocks = tuple(i for i, size in enumerate(table_sizes) if size == global_size)
    windowed = [size for size in table_sizes if size != global_size]
    window_size = (windowed[0] + 1) // 2 if windowed else grid
    if embed_dim % head_dim or any(size != windowed[0] for size in windowed):
        raise ValueError("inconsistent image encoder blocks")
    return SamShape(
        img_size=grid * patch_size,
        patch_size=patch_size,
        embed_dim=embed_dim,
        depth=depth,
        num_heads=embed_dim // head_dim,
        mlp_dim=state["image_encoder.blocks.0.mlp.lin1.weight"].shape[0],
        qkv_bias="image_encoder.blocks.0.attn.qkv.bias" in state,
        window_size=window_size,
        global_attn_indexes=global_blocks,
        prompt_dim=state["image_encoder.neck.0.weight"].shape[0],
        mask_in_chans=state["prompt_encoder.mask_downscaling.3.weight"].shape[0],
        decoder_depth=_count(state, r"mask_decoder\.transformer\.layers\.(\d+)\."),
        decoder_mlp_dim=state["mask_decoder.transformer.layers.0.mlp.lin1.weight"].shape[0],
        num_multimask_outputs=state["mask_decoder.mask_tokens.weight"].shape[0] - 1,
        iou_head_depth=_count(state, r"mask_decoder\.iou_prediction_head\.layers\.(\d+)\."),
        iou_head_hidden_dim=state["mask_decoder.iou_prediction_head.layers.0.weight"].shape[0],
    )


def build_sam(shape: SamShape):
    """An untrained Sam of the given shape (the same recipe as segment_anything.build_sam)."""
    from segment_anything.modeling import (
        ImageEncoderViT,
        MaskDecoder,
        PromptEncoder,
        Sam,
        TwoWayTransformer,
    )

    grid = shape.img_size // shape.patch_size
    return Sam(
        image_encoder=ImageEncoderViT(
            depth=shape.depth,
            embed_dim=shape.embed_dim,
            img_size=shape.img_size,
            # Block sizes its MLP as int(dim * ratio); the half keeps float rounding off mlp_dim.
            mlp_ratio=(shape.mlp_dim + 0.5) / shape.embed_dim,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
            num_heads=shape.num_heads,
            patch_size=shape.patch_size,
            qkv_bias=shape.qkv_bias,
            use_rel_pos=True,
            global_attn_indexes=shape.global_attn_indexes,
            window_size=shape.window_size,
            out_chans=shape.prompt_dim,
        ),
        prompt_encoder=PromptEncoder(
            embed_dim=shape.prompt_dim,
            image_embedding_size=(grid, grid),
            input_image_size=(shape.img_size, shape.img_size),
            mask_in_chans=shape.mask_in_chans,
        ),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=shape.num_multimask_outputs,
            transformer=TwoWayTransformer(
                depth=shape.decoder_depth,
                embedding_dim=shape.prompt_dim,
                mlp_dim=shape.decoder_mlp_dim,
                num_heads=DECODER_HEADS,
            ),
            transformer_dim=shape.prompt_dim,
            iou_head_depth=shape.iou_head_depth,
            iou_head_hidden_dim=shape.iou_head_hidden_dim,
        ),
    )


def _first(names: set[str]) -> str:
    return f"{len(names)} (first: {min(names)})"


def checkpoint_problems(state: Mapping) -> list[str]:
    """What keeps a state dict from loading as a Sam; [] when it loads (strictly) as one.

    The model it describes is built on the meta device, so nothing is allocated.
    """
    try:
        shape = infer_shape(state)
        with torch.device("meta"):
            expected = {name: tuple(t.shape) for name, t in build_sam(shape).state_dict().items()}
    except KeyError as error:
        return [f"not a Segment Anything checkpoint (it has no tensor {error})"]
    except (IndexError, ValueError, AssertionError, RuntimeError) as error:
        return [f"not a Segment Anything checkpoint ({error})"]
    missing = expected.keys() - state.keys()
    extra = state.keys() - expected.keys()
    wrong = {name for name in expected.keys() & state.keys()
             if tuple(state[name].shape) != expected[name]}
    problems = []
    if missing:
        problems.append(f"missing tensors: {_first(missing)}")
    if extra:
        problems.append(f"tensors no Segment Anything model has: {_first(extra)}")
    if wrong:
        problems.append(f"tensors of the wrong shape: {_first(wrong)}")
    return problems


def load_sam(path: Path, model_id: str, device: torch.device):
    """A Sam in eval mode on `device`, read safely from a folder or a .pth file."""
    file = checkpoint_file(path, model_id)
    state = load_checkpoint(file, model_id)
    problems = checkpoint_problems(state)
    if problems:
        raise broken_model_error(file, model_id, ValueError("; ".join(problems)))
    sam = build_sam(infer_shape(state))
    sam.load_state_dict(state, strict=True)
    return sam.eval().to(device)


def get_sam(models: ModelStore) -> tuple[str, object]:
    """The preferred installed SAM and its id, loaded once and kept warm (fp32; see proposals)."""
    model_id = preferred_model(SAM_MODEL_IDS, models.settings)
    folder = require_model(model_id, models.settings)
    device = pick_device(models.settings)
    return model_id, models.get(f"{model_id}@{device}", lambda: load_sam(folder, model_id, device))
