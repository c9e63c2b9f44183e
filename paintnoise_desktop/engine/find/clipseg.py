"""CLIPSeg: a heatmap of where the words are, cut at a threshold into ranked regions.

CLIPSeg (`CLIPSegForImageSegmentation`) answers a phrase with a probability per pixel of a
352 px square view of the photo. The heatmap is brought to the working copy, excluded
phrases ("cup, not saucer") take away every pixel where they are more likely than the wanted
one (the rule SegCLIP applies to whole proposals), and what clears the threshold is cut
into connected regions, each a candidate. Each phrase's heatmap is kept in the per-photo
cache, so moving the threshold, or asking "cup, not saucer" after "cup", costs no model run.

A region's score is its mean probability as a share of all regions' (they sum to 1: every
region cleared the threshold, so "none of these" has no weight); "All" therefore keeps
every region, since the threshold never goes below `heat_threshold.MIN_THRESHOLD`, above the
share `ranking.select` asks of the best.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from ...core.errors import PaintNoiseError
from ...core.jobs import CancelToken, FindJob, MaskCandidate, StepCallback
from ...core.photo_pixels import writable
from ..models.model_store import ModelStore
from ..models.pretrained import OnDevice, get_pretrained
from .heat_threshold import clamp_threshold
from .photo_cache import PhotoCache, photo_key
from .proposals import working_copy
from .regions import connected_regions
from .segclip import ALL_MODE_CANDIDATES, MAX_CANDIDATES, full_resolution_box

CLIPSEG_ID = "clipseg-rd64-refined"


@dataclass(frozen=True)
class Heatmap:
    """One phrase's probabilities at the model's square size, and the photo's working size."""

    probability: np.ndarray  # s x s float16, 0..1
    working_shape: tuple[int, int]  # (h, w) the candidates' masks have

    @property
    def nbytes(self) -> int:
        return self.probability.nbytes


class ClipSeg(OnDevice):
    @torch.inference_mode()
    def heatmaps(self, image: np.ndarray, phrases: list[str]) -> np.ndarray:
        """Each phrase's probabilities (len(phrases) x s x s float32) for one RGB photo."""
        pixels = self.processor.image_processor(images=writable(image),
                                                return_tensors="pt")["pixel_values"]
        longest = self.model.config.text_config.max_position_embeddings
        tokens = self.processor.tokenizer(phrases, padding=True, truncation=True,
                                          max_length=longest, return_tensors="pt").to(self.device)
        pixels = pixels.to(self.device, self.dtype).expand(len(phrases), -1, -1, -1)
        logits = self.model(pixel_values=pixels, **tokens).logits
        return torch.sigmoid(logits.float()).reshape(len(phrases), *logits.shape[-2:]).cpu().numpy()


def get_clipseg(models: ModelStore) -> ClipSeg:
    return get_pretrained(models, CLIPSEG_ID, "CLIPSeg", "CLIPSegForImageSegmentation",
                          "CLIPSegProcessor", ClipSeg)


def wanted_heat(wanted: np.ndarray, excluded: list[np.ndarray],
                working_shape: tuple[int, int]) -> np.ndarray:
    """The wanted phrase's probabilities at the working size, zero wherever an excluded phrase
    is more likely."""
    if excluded:
        wanted = np.where(wanted >= np.max(excluded, axis=0), wanted, 0)
    h, w = working_shape
    return cv2.resize(wanted.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)


def heat_candidates(heat: np.ndarray, threshold: float, full_size: tuple[int, int],
                    label: str, limit: int = MAX_CANDIDATES) -> list[MaskCandidate]:
    """The regions where `heat` (working size) clears `threshold`, the most certain first;
    `full_size` is the photo's (h, w) for the boxes."""
    masks, boxes, certainty = connected_regions(heat >= threshold, limit=limit, weight=heat)
    shares = certainty / max(float(certainty.sum()), 1e-12)
    return [
        MaskCandidate(mask.astype(np.uint8) * np.uint8(255), float(share),
                      full_resolution_box(tuple(box), heat.shape, full_size), "clipseg", label)
        for mask, box, share in zip(masks, boxes, shares)
    ]


def find_clipseg(
    job: FindJob, models: ModelStore, step: StepCallback, cancel: CancelToken
) -> list[MaskCandidate]:
    text = job.text.strip()
    if not text:
        raise PaintNoiseError("Type what to find, for example: red car.")
    step(0.0, "Loading CLIPSeg")
    clipseg = get_clipseg(models)
    cache = models.get("photo-cache", PhotoCache)
    photo = photo_key(job.image, CLIPSEG_ID)
    phrases = list(dict.fromkeys([text, *job.exclude]))
    maps = {phrase: cache.get(f"{photo}/{phrase}") for phrase in phrases}
    unknown = [phrase for phrase, heatmap in maps.items() if heatmap is None]
    if unknown:
        step(0.1, "Reading the photo")
        working = working_copy(job.image)
        for phrase, probability in zip(unknown, clipseg.heatmaps(working, unknown)):
            maps[phrase] = Heatmap(probability.astype(np.float16), working.shape[:2])
            cache.put(f"{photo}/{phrase}", maps[phrase])
    step(0.9, "Cutting the heatmap")
    shape = maps[text].working_shape
    heat = wanted_heat(maps[text].probability,
                       [maps[phrase].probability for phrase in phrases[1:]], shape)
    limit = ALL_MODE_CANDIDATES if job.mode == "all" else MAX_CANDIDATES
    return heat_candidates(heat, clamp_threshold(job.threshold), job.image.shape[:2], text, limit)
