"""SAM 3 concept prompts: the Find phrase in, every instance of it in the photo out, scored.

transformers' `Sam3Model` detects and segments all instances of a short noun phrase at
once; each instance's score is its detection probability times the model's belief that
the phrase is in the photo at all (as `Sam3Processor.post_process_instance_segmentation`
computes it). Candidates are the instances best first: "best" mode uses the top one (even
when weak, as SegCLIP shows the closest), and in "all" mode only instances scoring at
least the threshold (`FindJob.threshold`, else `SCORE_THRESHOLD`) come back, so every one
returned is selected (each clears `ranking.select`'s margin, a fraction of the best).

Exclusions ("cup, not saucer") are found with the same image features: an instance is
dropped when an instance of an excluded phrase scoring at least as high covers
`EXCLUDE_OVERLAP` of it, as SegCLIP drops a proposal that matches an excluded phrase better.

The image features (the ViT and its pyramid, nearly all of the cost) are kept in the
per-photo cache, so asking about the same photo again costs the text encoder and decoders.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ...core.errors import PaintNoiseError
from ...core.jobs import CancelToken, FindJob, MaskCandidate, StepCallback
from ...core.masks import bounding_box
from ...core.photo_pixels import writable
from ..models.device import pick_device, pick_dtype
from ..models.model_choice import SAM3_MODEL
from ..models.model_store import ModelStore
from ..models.pretrained import load_pretrained
from ..models.registry import require_model
from .photo_cache import PhotoCache, photo_key
from .proposals import working_copy
from .segclip import full_resolution_box

SCORE_THRESHOLD = 0.5  # "all" keeps instances this likely; the processor's default is 0.3
EXCLUDE_OVERLAP = 0.5  # share of an instance an excluded instance covers to drop it
MAX_CANDIDATES = 12


@dataclass(frozen=True)
class Instances:
    """One phrase's instances, best first: masks at the working size and their scores."""

    masks: np.ndarray  # N x h x w bool
    scores: np.ndarray  # N, 0..1


@dataclass(frozen=True)
class VisionFeatures:
    """A photo's `Sam3Model.get_vision_features` output, kept in the per-photo cache."""

    output: object  # Sam3VisionEncoderOutput

    @property
    def nbytes(self) -> int:
        tensors = [*self.output.fpn_hidden_states, *self.output.fpn_position_encoding]
        return sum(t.element_size() * t.nelement() for t in tensors)


class Sam3Finder:
    """A loaded Sam3Model and its processor."""

    def __init__(self, model, processor, device: torch.device, dtype: torch.dtype) -> None:
        self.model = model
        self.processor = processor
        self.device = device
        self.dtype = dtype

    @torch.inference_mode()
    def vision_features(self, image: np.ndarray, step: StepCallback) -> VisionFeatures:
        """Encode `image`, reporting (so checking for Cancel) before every ViT layer."""
        pixels = self.processor(images=writable(image), return_tensors="pt")["pixel_values"]
        layers = self.model.vision_encoder.backbone.layers
        hooks = [
            layer.register_forward_pre_hook(
                lambda module, inputs, number=number: step(
                    0.1 + 0.7 * number / len(layers), "Looking at the photo"
                )
            )
            for number, layer in enumerate(layers)
        ]
        try:
            output = self.model.get_vision_features(
                pixel_values=pixels.to(self.device, self.dtype)
            )
        finally:
            for hook in hooks:
                hook.remove()
        return VisionFeatures(output)

    @torch.inference_mode()
    def instances(self, features: VisionFeatures, phrase: str, size: tuple[int, int]) -> Instances:
        """Every instance of `phrase`, best first, with masks of `size` (h, w)."""
        tokens = self.processor(text=phrase, return_tensors="pt").to(self.device)
        output = self.model(vision_embeds=features.output, input_ids=tokens["input_ids"],
                            attention_mask=tokens["attention_mask"])
        found = self.processor.post_process_instance_segmentation(
            output, threshold=0.0, target_sizes=[size])[0]
        order = found["scores"].float().argsort(descending=True)
        return Instances(found["masks"][order].bool().cpu().numpy(),
                         found["scores"][order].float().cpu().numpy())


def surviving(wanted: Instances, excluded: list[Instances]) -> np.ndarray:
    """Indices of `wanted` instances no excluded instance (scoring at least as high) covers
    `EXCLUDE_OVERLAP` of."""
    keep = []
    for index, (mask, score) in enumerate(zip(wanted.masks, wanted.scores)):
        area = max(1, int(mask.sum()))
        covered = any(
            other_score >= score and (mask & other).sum() / area >= EXCLUDE_OVERLAP
            for phrase in excluded for other, other_score in zip(phrase.masks, phrase.scores)
        )
        if not covered:
            keep.append(index)
    return np.array(keep, int)


def candidates_from(
    wanted: Instances, excluded: list[Instances], mode: str, threshold: float | None,
    full_size: tuple[int, int], label: str,
) -> list[MaskCandidate]:
    """The instances as ranked candidates (see the module's note on modes and exclusions)."""
    order = [i for i in surviving(wanted, excluded) if wanted.masks[i].any()]
    if mode == "all":
        cut = SCORE_THRESHOLD if threshold is None else threshold
        order = [i for i in order if wanted.scores[i] >= cut]
    candidates = []
    for index in order[:MAX_CANDIDATES]:
        mask = wanted.masks[index].astype(np.uint8) * np.uint8(255)
        box = full_resolution_box(bounding_box(mask), mask.shape, full_size)
        candidates.append(MaskCandidate(mask, float(wanted.scores[index]), box, "sam3", label))
    return candidates


def load_sam3(folder: Path, model_id: str, device: torch.device, dtype: torch.dtype) -> Sam3Finder:
    """SAM 3 from a save_pretrained folder or hub snapshot (safetensors; no remote code)."""
    from transformers import Sam3Model, Sam3Processor

    model, processor = load_pretrained("SAM 3", folder, model_id, Sam3Model, Sam3Processor)
    return Sam3Finder(model.to(device=device, dtype=dtype), processor, device, dtype)


def get_sam3(models: ModelStore) -> Sam3Finder:
    """SAM 3, loaded once and kept warm."""
    folder = require_model(SAM3_MODEL, models.settings)
    device = pick_device(models.settings)
    dtype = pick_dtype(device, models.settings)
    key = f"{SAM3_MODEL}@{device}/{dtype}"
    return models.get(key, lambda: load_sam3(folder, SAM3_MODEL, device, dtype))


def find_sam3(
    job: FindJob, models: ModelStore, step: StepCallback, cancel: CancelToken
) -> list[MaskCandidate]:
    text = job.text.strip()
    if not text:
        raise PaintNoiseError("Type what to find, for example: red car.")
    step(0.0, "Loading SAM 3")
    finder = get_sam3(models)
    working = working_copy(job.image)
    cache = models.get("photo-cache", PhotoCache)
    key = photo_key(working, "sam3-features", str(finder.device), str(finder.dtype))
    features = cache.get(key)
    if features is None:
        features = finder.vision_features(working, step)
        cache.put(key, features)
    size = working.shape[:2]
    step(0.85, "Finding every one")
    wanted = finder.instances(features, text, size)
    excluded = [finder.instances(features, phrase, size) for phrase in job.exclude]
    step(0.95, "Ranking")
    return candidates_from(wanted, excluded, job.mode, job.threshold, job.image.shape[:2], text)
