"""CLIP as an embedder: texts and RGB crops in, unit-length vectors out.

Anything with `encode_text(list[str])` and `encode_images(list[np.ndarray])`
returning L2-normalised rows can rank proposals; `ClipEmbedder` is the real one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import torch

from ...core.errors import ModelError
from ..models.device import pick_device, pick_dtype
from ..models.model_choice import CLIP_MODEL_IDS, preferred_model
from ..models.model_store import ModelStore
from ..models.registry import require_model
from ..models.safe_load import quiet_library_loading


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
    def __init__(
        self,
        model,
        tokenizer,
        image_size: int,
        mean,
        std,
        device: torch.device,
        dtype: torch.dtype,
        batch_size: int = 32,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.image_size = image_size
        self.mean = np.asarray(mean, np.float32) * 255.0
        self.std = np.asarray(std, np.float32) * 255.0
        self.device = device
        self.dtype = dtype
        self.batch_size = batch_size
        self.logit_scale = float(model.logit_scale.exp().item())

    @torch.inference_mode()
    def encode_text(self, texts: list[str]) -> np.ndarray:
        tokens = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=77, return_tensors="pt"
        ).to(self.device)
        return _normalised(_features(self.model.get_text_features(**tokens)))

    def _pixels(self, image: np.ndarray) -> np.ndarray:
        """CLIP's own recipe: short side to the model size, centre crop, normalise."""
        h, w = image.shape[:2]
        scale = self.image_size / min(h, w)
        size = (max(self.image_size, round(w * scale)), max(self.image_size, round(h * scale)))
        resized = cv2.resize(
            image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        )
        y0 = (size[1] - self.image_size) // 2
        x0 = (size[0] - self.image_size) // 2
        crop = resized[y0 : y0 + self.image_size, x0 : x0 + self.image_size].astype(np.float32)
        return ((crop - self.mean) / self.std).transpose(2, 0, 1)

    @torch.inference_mode()
    def encode_images(self, images: list[np.ndarray]) -> np.ndarray:
        rows = []
        for start in range(0, len(images), self.batch_size):
            batch = np.stack(
                [self._pixels(image) for image in images[start : start + self.batch_size]]
            )
            pixels = torch.from_numpy(batch).to(self.device, self.dtype)
            rows.append(_normalised(_features(self.model.get_image_features(pixel_values=pixels))))
        if not rows:
            return np.zeros((0, self.model.config.projection_dim), np.float32)
        return np.concatenate(rows)


def load_clip(
    folder: Path, model_id: str, device: torch.device, dtype: torch.dtype
) -> ClipEmbedder:
    from transformers import CLIPImageProcessor, CLIPModel, CLIPTokenizer

    try:
        with quiet_library_loading():
            model = CLIPModel.from_pretrained(folder, local_files_only=True, use_safetensors=True)
            tokenizer = CLIPTokenizer.from_pretrained(folder, local_files_only=True)
            images = CLIPImageProcessor.from_pretrained(folder, local_files_only=True)
    except Exception as error:  # OS, JSON, safetensors and config errors all mean "unusable folder"
        raise ModelError(
            f"The CLIP model in {folder} could not be loaded; it may be incomplete or damaged. "
            f"Run: paintnoise models verify {model_id}  (or download it again).",
            detail=f"{type(error).__name__}: {error}",
        ) from error
    model = model.to(device=device, dtype=dtype).eval()
    return ClipEmbedder(
        model,
        tokenizer,
        int(images.crop_size["height"]),
        images.image_mean,
        images.image_std,
        device,
        dtype,
    )


def get_clip(models: ModelStore) -> tuple[str, ClipEmbedder]:
    """The preferred installed CLIP and its id, loaded once and kept warm."""
    model_id = preferred_model(CLIP_MODEL_IDS, models.settings)
    folder = require_model(model_id, models.settings)
    device = pick_device(models.settings)
    dtype = pick_dtype(device, models.settings)
    key = f"{model_id}@{device}/{dtype}"
    return model_id, models.get(key, lambda: load_clip(folder, model_id, device, dtype))
