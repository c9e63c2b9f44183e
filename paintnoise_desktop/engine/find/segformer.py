"""SegFormer + CLIP: the photo's semantic segments, ranked by CLIP as SegCLIP ranks proposals.

SegFormer (`SegformerForSemanticSegmentation`, ADE20K's 150 classes) names every pixel;
each class's connected regions are the proposals. They suit what Segment Anything cuts into
pieces: road, wall, sky, a lawn. From there the path is SegCLIP's own (`describe_photo`,
`rank_candidates`): crops embedded by CLIP once per photo and cached, every query one text
encoding and a matrix product, exclusions as for SegCLIP.
"""

from __future__ import annotations

import numpy as np
import torch

from ...core.errors import PaintNoiseError
from ...core.jobs import CancelToken, FindJob, MaskCandidate, StepCallback
from ...core.photo_pixels import writable
from ..models.model_store import ModelStore
from ..models.pretrained import OnDevice, get_pretrained
from .clip_model import get_clip
from .photo_cache import PhotoCache, photo_key
from .proposals import Proposals, working_copy
from .regions import connected_regions
from .segclip import ALL_MODE_CANDIDATES, MAX_CANDIDATES, describe_photo, rank_candidates

SEGFORMER_ID = "segformer-b5-ade"
MAX_SEGMENTS = 64  # the largest regions; an ADE20K photo has a few dozen at most


class SegFormer(OnDevice):
    @torch.inference_mode()
    def labels(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each pixel's class (h x w int) and its probability (h x w float32), at `image`'s size."""
        pixels = self.processor(images=writable(image), return_tensors="pt")["pixel_values"]
        logits = self.model(pixel_values=pixels.to(self.device, self.dtype)).logits.float()[0]
        # Only the classes that win somewhere are brought to full size (150 would take GBs).
        present = torch.unique(logits.argmax(dim=0))
        probabilities = torch.nn.functional.interpolate(
            logits.softmax(dim=0)[present][None], size=image.shape[:2], mode="bilinear",
            align_corners=False)[0]
        probability, winner = probabilities.max(dim=0)
        return present[winner].cpu().numpy(), probability.cpu().numpy()


def get_segformer(models: ModelStore) -> SegFormer:
    return get_pretrained(models, SEGFORMER_ID, "SegFormer", "SegformerForSemanticSegmentation",
                          "SegformerImageProcessor", SegFormer)


def segments(label: np.ndarray, probability: np.ndarray,
             limit: int = MAX_SEGMENTS) -> Proposals:
    """Every class's connected regions in a label map, the largest first; a region's quality
    is its mean class probability."""
    masks, boxes = [], []
    for value in np.unique(label):
        found, found_boxes, _ = connected_regions(label == value, limit=limit)
        masks.extend(found)
        boxes.extend(found_boxes)
    order = sorted(range(len(masks)), key=lambda i: -int(masks[i].sum()))[:limit]
    h, w = label.shape
    return Proposals(
        np.array([masks[i] for i in order], bool).reshape(-1, h, w),
        np.array([boxes[i] for i in order], np.int64).reshape(-1, 4),
        np.array([float(probability[masks[i]].mean()) for i in order], np.float32),
    )


def find_segformer(
    job: FindJob, models: ModelStore, step: StepCallback, cancel: CancelToken
) -> list[MaskCandidate]:
    text = job.text.strip()
    if not text:
        raise PaintNoiseError("Type what to find, for example: red car.")
    step(0.0, "Loading SegFormer")
    segformer = get_segformer(models)
    step(0.05, "Loading CLIP")
    clip_id, embedder = get_clip(models)
    cache = models.get("photo-cache", PhotoCache)
    key = photo_key(job.image, SEGFORMER_ID, clip_id)
    entry = cache.get(key)
    if entry is None:
        working = working_copy(job.image)
        step(0.1, "Naming the parts of the photo")
        label, probability = segformer.labels(working)
        step(0.5, "Cutting the segments")
        found = segments(label.astype(np.int32), probability)
        entry = describe_photo(working, job.image.shape[:2], found, embedder,
                               lambda fraction, message: step(0.6 + 0.35 * fraction, message))
        cache.put(key, entry)
    step(0.95, "Ranking")
    limit = ALL_MODE_CANDIDATES if job.mode == "all" else MAX_CANDIDATES
    return rank_candidates(entry, embedder, text, tuple(job.exclude), limit, "segformer")
