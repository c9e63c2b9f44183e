"""CLIP as an embedder: texts and RGB crops in, unit-length vectors out.

Anything with `encode_text(list[str])` and `encode_images(list[np.ndarray])`
returning L2-normalised rows can rank proposals; `ClipEmbedder` is the real one.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from ...core.photo_pixels import writable
from ..models.device import pick_device, pick_dtype
from ..models.model_choice import CLIP_MODEL_IDS, preferred_model
from ..models.model_store import ModelStore
from ..models.pretrained import load_pretrained
from ..models.registry import require_model


TEXT_CACHE = 64  # lists of texts (a Find's phrases in every template), a few kB each


class Embedder(Protocol):
    def encode_text(self, texts: list[str]) -> np.ndarray: ...

    def encode_images(self, images: list[np.ndarray]) -> np.ndarray: ...


def _normalised(rows: torch.Tensor) -> np.ndarray:
    rows = rows.float()
    return (rows / rows.norm(dim=-1, keepdim=True).clamp_min(1e-12)).cpu().numpy()


def _features(output) -> torch.Tensor:
    """transformers 5 returns a model output with the projected vector as pooler_output."""
    return output if isinstance(output, torch.Tensor) else output.pooler_output


class ClipEmbedder:
    """Embeds through the model folder's own CLIPProcessor (tokenizer and image processor).

    Crops and phrases are prepared exactly as CLIPProcessor prepares them, so the
    vectors are those of `CLIPModel.get_image_features`/`get_text_features` on
    CLIPProcessor inputs, the reference every CLIP user compares with.
    """

    def __init__(
        self, model, processor, device: torch.device, dtype: torch.dtype, batch_size: int = 32
    ) -> None:
        self.model = model
        self.processor = processor
        self.device = device
        self.dtype = dtype
        self.batch_size = batch_size
        self.logit_scale = float(model.logit_scale.exp().item())
        self._text_rows: OrderedDict[tuple[str, ...], np.ndarray] = OrderedDict()

    def encode_text(self, texts: list[str]) -> np.ndarray:
        """The texts' rows, remembered for the last `TEXT_CACHE` lists of texts: the text
        encoder is most of a re-query's time (its weights are read whatever the length),
        and the same words come back on other photos and in other modes."""
        key = tuple(texts)
        rows = self._text_rows.get(key)
        if rows is None:
            rows = self._text_rows[key] = self._encode_text(list(texts))
            while len(self._text_rows) > TEXT_CACHE:
                self._text_rows.popitem(last=False)
        self._text_rows.move_to_end(key)
        return rows.copy()

    @torch.inference_mode()
    def _encode_text(self, texts: list[str]) -> np.ndarray:
        longest = self.model.config.text_config.max_position_embeddings  # 77 in every CLIP
        tokens = self.processor.tokenizer(
            list(texts), padding=True, truncation=True, max_length=longest, return_tensors="pt"
        ).to(self.device)
        return _normalised(_features(self.model.get_text_features(**tokens)))

    @torch.inference_mode()
    def encode_images(self, images: list[np.ndarray]) -> np.ndarray:
        """RGB crops (H x W x 3, uint8) of any size, in batches of `batch_size`."""
        rows = []
        for start in range(0, len(images), self.batch_size):
            batch = self.processor.image_processor(
                images=[writable(crop) for crop in images[start : start + self.batch_size]],
                input_data_format="channels_last",  # a crop 3 px high is not channels-first
                return_tensors="pt",
            )
            pixels = batch["pixel_values"].to(self.device, self.dtype)
            rows.append(_normalised(_features(self.model.get_image_features(pixel_values=pixels))))
        if not rows:
            return np.zeros((0, self.model.config.projection_dim), np.float32)
        return np.concatenate(rows)


def load_clip(
    folder: Path, model_id: str, device: torch.device, dtype: torch.dtype
) -> ClipEmbedder:
    """A CLIP from a save_pretrained folder or cache snapshot (see `load_pretrained`)."""
    from transformers import CLIPModel, CLIPProcessor

    model, processor = load_pretrained("CLIP", folder, model_id, CLIPModel, CLIPProcessor)
    return ClipEmbedder(model.to(device=device, dtype=dtype).eval(), processor, device, dtype)


def get_clip(models: ModelStore) -> tuple[str, ClipEmbedder]:
    """The preferred installed CLIP and its id, loaded once and kept warm."""
    model_id = preferred_model(CLIP_MODEL_IDS, models.settings)
    folder = require_model(model_id, models.settings)
    device = pick_device(models.settings)
    dtype = pick_dtype(device, models.settings)
    key = f"{model_id}@{device}/{dtype}"
    return model_id, models.get(key, lambda: load_clip(folder, model_id, device, dtype))
