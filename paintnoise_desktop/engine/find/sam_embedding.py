"""The photo's Segment Anything image embedding, computed once and shared by every SAM method.

Encoding the image is nearly all of Segment Anything's cost (seconds on a CPU); decoding a
prompt against the embedding takes milliseconds. So the embedding of a photo's working copy
is kept in the per-photo cache, and SegCLIP's proposals and the click method both start
from it: whichever runs first on a photo pays for the encoder, the other reuses it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..models.model_store import ModelStore
from .photo_cache import PhotoCache, photo_key

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ImageEmbedding:
    """What `SamPredictor.set_image` leaves behind, enough to answer prompts without it."""

    features: torch.Tensor  # 1 x C x g x g, float32, on the model's device
    input_size: tuple[int, int]  # (h, w) of the image resized for the encoder
    original_size: tuple[int, int]  # (h, w) of the image encoded

    @property
    def nbytes(self) -> int:
        return self.features.element_size() * self.features.nelement()


def _half(sam, half: bool) -> bool:
    return half and sam.device.type == "cuda"


def encode(sam, image: np.ndarray, step: Progress, half: bool = True) -> ImageEmbedding:
    """Encode `image` (RGB uint8), reporting (and so checking for Cancel) before every
    encoder block, from 0 to 1: ViT-H takes a minute on a CPU, far too long to be deaf to
    Cancel. `half`: on CUDA under bf16/fp16 autocast; the features are kept in float32."""
    from segment_anything import SamPredictor

    predictor = SamPredictor(sam)
    device = predictor.model.device
    blocks = predictor.model.image_encoder.blocks
    hooks = [
        block.register_forward_pre_hook(
            lambda module, inputs, number=number: step(number / len(blocks), "Looking at the photo")
        )
        for number, block in enumerate(blocks)
    ]
    dtype = (
        torch.bfloat16
        if device.type == "cuda" and torch.cuda.is_bf16_supported()
        else torch.float16
    )
    try:
        with torch.inference_mode(), torch.autocast(
            device.type, dtype=dtype, enabled=_half(sam, half)
        ):
            predictor.set_image(image)
    finally:
        for hook in hooks:
            hook.remove()
    return ImageEmbedding(
        predictor.features.float(), tuple(predictor.input_size), tuple(predictor.original_size)
    )


def predictor_for(sam, embedding: ImageEmbedding):
    """A `SamPredictor` set to `embedding`, as if `set_image` had just encoded its image."""
    from segment_anything import SamPredictor

    predictor = SamPredictor(sam)
    predictor.features = embedding.features
    predictor.input_size = embedding.input_size
    predictor.original_size = embedding.original_size
    predictor.is_image_set = True
    return predictor


def photo_embedding(
    models: ModelStore, sam_id: str, sam, image: np.ndarray, step: Progress, half: bool = True
) -> ImageEmbedding:
    """The embedding of `image` (a working copy) by `sam`, from the per-photo cache when it
    was made before; `step` sees the encoder's progress only when it runs."""
    cache = models.get("photo-cache", PhotoCache)
    precision = "half" if _half(sam, half) else "float32"
    key = photo_key(image, "sam-embedding", sam_id, str(sam.device), precision)
    embedding = cache.get(key)
    if embedding is None:
        embedding = encode(sam, image, step, half)
        cache.put(key, embedding)
    return embedding
