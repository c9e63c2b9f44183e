"""Segment Anything's "segment everything": object masks proposed from a grid of points.

The image is encoded once; the grid's points go through the mask decoder many at
a time. By default filtering (predicted IoU, stability) and box NMS run on the
decoder's low-resolution logits, so only the surviving masks are ever upsampled, to
the working copy's size (long side at most `WORKING_SIDE`), and on CUDA the image
encoder runs under bf16/fp16 autocast (its embedding is shared, see sam_embedding.py).
`REFERENCE` instead follows
`segment_anything.SamAutomaticMaskGenerator` with its defaults step for step (fp32, a
32 x 32 grid, stability scored on masks upsampled to the image, one NMS over them all, no
cap), so the faster defaults can be measured against it: given the same working copy,
the library returns the same masks (tests/engine/test_sam_reference.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from segment_anything.utils.amg import (
    batched_mask_to_box,
    build_point_grid,
    calculate_stability_score,
    remove_small_regions,
)
from torchvision.ops import batched_nms

from ...core.masks import bounding_box
from .sam_embedding import ImageEmbedding, encode, predictor_for

WORKING_SIDE = 1024
LIBRARY_CROP_NMS_IOU = 0.7  # SamAutomaticMaskGenerator's crop_nms_thresh, used again after tidying

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ProposalSettings:
    points_per_side: int = 24
    points_per_batch: int = 64
    min_predicted_iou: float = 0.80  # 0 turns the filter off, as in the library
    min_stability: float = 0.90  # likewise
    stability_offset: float = 1.0
    nms_iou: float = 0.7
    max_proposals: int | None = 64
    min_keep: int = 8  # when SAM is unsure everywhere, still offer its most confident guesses
    min_region_fraction: float = 0.0005  # holes and islands below this share of the photo go
    library_order: bool = False  # fp32, filter and NMS full-size masks, tidy as the library does


REFERENCE = ProposalSettings(
    points_per_side=32,
    min_predicted_iou=0.88,
    min_stability=0.95,
    max_proposals=None,
    min_keep=0,
    min_region_fraction=0.0,
    library_order=True,
)


@dataclass(frozen=True)
class Proposals:
    masks: np.ndarray  # N x h x w bool, at the working size
    boxes: np.ndarray  # N x 4 int (x0, y0, x1, y1), end-exclusive, working coordinates
    quality: np.ndarray  # N, SAM's predicted IoU


def working_copy(image: np.ndarray, side: int = WORKING_SIDE) -> np.ndarray:
    """`image` with its long side at most `side` (the image itself when already small)."""
    h, w = image.shape[:2]
    scale = side / max(h, w)
    if scale >= 1:
        return image
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _decode(
    model, features: torch.Tensor, points: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    labels = torch.ones(points.shape[:2], dtype=torch.int, device=points.device)
    sparse, dense = model.prompt_encoder(points=(points, labels), boxes=None, masks=None)
    logits, iou = model.mask_decoder(
        image_embeddings=features,
        image_pe=model.prompt_encoder.get_dense_pe(),
        sparse_prompt_embeddings=sparse,
        dense_prompt_embeddings=dense,
        multimask_output=True,
    )
    return logits.flatten(0, 1), iou.flatten()


def _confident(iou: torch.Tensor, settings: ProposalSettings) -> torch.Tensor:
    """Masks whose predicted IoU passes (a threshold of 0 is off, as in the library)."""
    if settings.min_predicted_iou <= 0:
        return torch.ones_like(iou, dtype=torch.bool)
    return iou > settings.min_predicted_iou


def _stable(logits: torch.Tensor, threshold: float, settings: ProposalSettings) -> torch.Tensor:
    """Masks whose stability score passes (likewise)."""
    if settings.min_stability <= 0:
        return torch.ones(len(logits), dtype=torch.bool, device=logits.device)
    stability = calculate_stability_score(logits, threshold, settings.stability_offset)
    return stability >= settings.min_stability


@dataclass
class _Pool:
    """Low-resolution logits of the masks worth keeping so far."""

    logits: list[torch.Tensor]
    scores: list[torch.Tensor]
    passed: list[torch.Tensor]

    def add(
        self, logits: torch.Tensor, scores: torch.Tensor, passed: torch.Tensor, spare: int
    ) -> None:
        """Keep the masks that passed, and the `spare` best of those that did not."""
        failed = torch.nonzero(~passed).flatten()
        spares = failed[scores[failed].argsort(descending=True)[:spare]]
        chosen = torch.cat([torch.nonzero(passed).flatten(), spares])
        self.logits.append(logits[chosen])
        self.scores.append(scores[chosen])
        self.passed.append(passed[chosen])

    def best(self, settings: ProposalSettings) -> tuple[torch.Tensor, torch.Tensor]:
        logits, scores, passed = (
            torch.cat(items) for items in (self.logits, self.scores, self.passed)
        )
        if int(passed.sum()) < settings.min_keep:
            order = (scores + 2.0 * passed).argsort(descending=True)[: settings.min_keep]
        else:
            order = torch.nonzero(passed).flatten()
        return logits[order], scores[order]


def surviving_logits(
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    valid: tuple[int, int],
    threshold: float,
    settings: ProposalSettings,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The low-resolution logits (and predicted IoU) of the decoded masks that pass the
    filters (predicted IoU, stability) and box NMS, best first, at most `max_proposals`.

    `batches` yields (N x h x w logits, N predicted IoUs); only their top-left `valid`
    (h, w) is the image, the rest is the encoder's padding. Any Segment Anything decoder's
    output goes through here, so every proposal model is filtered the same way.
    """
    valid_h, valid_w = valid
    pool = _Pool([], [], [])
    for logits, iou in batches:
        inside = logits[:, :valid_h, :valid_w]
        nonempty = (inside > threshold).flatten(1).any(dim=1)
        passed = _confident(iou, settings) & _stable(inside, threshold, settings)
        keep = torch.nonzero(nonempty).flatten()
        pool.add(logits[keep], iou[keep], passed[keep], settings.min_keep)
    if sum(len(item) for item in pool.logits) == 0:
        return torch.zeros((0, 1, 1)), torch.zeros(0)
    logits, scores = pool.best(settings)
    boxes = batched_mask_to_box(logits[:, :valid_h, :valid_w] > threshold).float()
    kept = batched_nms(boxes, scores, torch.zeros_like(scores), settings.nms_iou)
    kept = kept[: settings.max_proposals]
    return logits[kept], scores[kept]


def _low_resolution_masks(
    predictor, points: torch.Tensor, settings: ProposalSettings, step: Progress
) -> tuple[list[np.ndarray], list[float]]:
    """Filter and NMS on the decoder's logits; upsample only the survivors."""
    model = predictor.model
    h, w = predictor.original_size
    low_size = model.prompt_encoder.mask_input_size[0]
    scale = low_size / model.image_encoder.img_size
    valid = tuple(int(np.ceil(side * scale)) for side in predictor.input_size)

    def batches():
        starts = range(0, len(points), settings.points_per_batch)
        for number, start in enumerate(starts):
            step(0.2 + 0.6 * number / len(starts), "Finding objects")
            yield _decode(
                model, predictor.features, points[start : start + settings.points_per_batch]
            )

    logits, scores = surviving_logits(batches(), valid, model.mask_threshold, settings)
    masks, quality = [], []
    for chunk in torch.arange(len(scores)).split(16):
        upsampled = model.postprocess_masks(logits[chunk][:, None], predictor.input_size, (h, w))
        masks.extend((upsampled[:, 0] > model.mask_threshold).cpu().numpy())
        quality.extend(scores[chunk].tolist())
    return masks, quality


def _full_size_masks(
    predictor, points: torch.Tensor, settings: ProposalSettings, step: Progress
) -> tuple[list[np.ndarray], list[float]]:
    """SamAutomaticMaskGenerator's order: the confident masks upsampled, the stable ones
    boxed, then one NMS over all of them."""
    model = predictor.model
    binary, scores, boxes = [], [], []
    batches = range(0, len(points), settings.points_per_batch)
    for number, start in enumerate(batches):
        step(0.2 + 0.6 * number / len(batches), "Finding objects")
        logits, iou = _decode(
            model, predictor.features, points[start : start + settings.points_per_batch]
        )
        confident = _confident(iou, settings)
        logits, iou = logits[confident], iou[confident]
        if len(iou) == 0:
            continue
        logits = model.postprocess_masks(
            logits[:, None], predictor.input_size, predictor.original_size
        )[:, 0]
        stable = _stable(logits, model.mask_threshold, settings)
        masks = logits[stable] > model.mask_threshold
        binary.append(masks.cpu())
        scores.append(iou[stable])
        boxes.append(batched_mask_to_box(masks))
    if not scores:
        return [], []
    scores_all = torch.cat(scores)
    kept = batched_nms(
        torch.cat(boxes).float(), scores_all, torch.zeros_like(scores_all), settings.nms_iou
    )
    kept = kept[: settings.max_proposals].cpu()
    masks = torch.cat(binary)[kept].numpy()
    return list(masks), scores_all.cpu()[kept].tolist()


def _cleaned(mask: np.ndarray, min_area: float) -> tuple[np.ndarray, bool]:
    mask, holes = remove_small_regions(mask, min_area, mode="holes")
    mask, islands = remove_small_regions(mask, min_area, mode="islands")
    return mask, holes or islands


def _tidied(
    masks: list[np.ndarray], quality: list[float], min_area: float, settings: ProposalSettings
) -> tuple[list[np.ndarray], list[float]]:
    """Holes and islands below `min_area` removed. The library then drops new duplicates,
    preferring masks that needed no tidying; the app drops masks left too small."""
    if min_area <= 0 or not masks:
        return masks, quality
    cleaned, changed = zip(*(_cleaned(mask, min_area) for mask in masks))
    if not settings.library_order:
        pairs = [(mask, score) for mask, score in zip(cleaned, quality) if mask.sum() >= min_area]
        return [mask for mask, _ in pairs], [score for _, score in pairs]
    boxes = batched_mask_to_box(torch.as_tensor(np.stack(cleaned))).float()
    unchanged = torch.tensor([0.0 if flag else 1.0 for flag in changed])
    nms_iou = max(settings.nms_iou, LIBRARY_CROP_NMS_IOU)
    kept = batched_nms(boxes, unchanged, torch.zeros_like(unchanged), nms_iou).tolist()
    return [cleaned[i] for i in kept], [quality[i] for i in kept]


@torch.inference_mode()
def generate_proposals(
    sam, image: np.ndarray, step: Progress, settings: ProposalSettings = ProposalSettings(),
    embedding: ImageEmbedding | None = None,
) -> Proposals:
    """Object masks for `image` (RGB uint8, the working copy), best first by SAM's own score.

    `step(fraction, message)` is called between encoder blocks and decoder batches; it may
    raise to cancel. `embedding`: the image's, encoded before (see sam_embedding.py). Empty
    masks are never returned.
    """
    h, w = image.shape[:2]
    if embedding is None:
        embedding = encode(sam, image, lambda fraction, message: step(0.2 * fraction, message),
                           half=not settings.library_order)
    predictor = predictor_for(sam, embedding)
    grid = build_point_grid(settings.points_per_side) * np.array([w, h])
    points = torch.as_tensor(
        predictor.transform.apply_coords(grid, (h, w)),
        dtype=torch.float,
        device=predictor.model.device,
    )[:, None, :]
    route = _full_size_masks if settings.library_order else _low_resolution_masks
    masks, quality = route(predictor, points, settings, step)

    step(0.85, "Tidying the outlines")
    return tidy_proposals(masks, quality, (h, w), settings)


def tidy_proposals(
    masks: list[np.ndarray], quality: list[float], size: tuple[int, int],
    settings: ProposalSettings,
) -> Proposals:
    """Masks of the working copy's `size` (h, w) with their small holes and islands
    removed, as `Proposals`, empty ones left out."""
    h, w = size
    min_area = settings.min_region_fraction * h * w
    masks, quality = _tidied(masks, quality, min_area, settings)
    pairs = [(mask, score) for mask, score in zip(masks, quality) if mask.any()]
    if not pairs:
        return Proposals(np.zeros((0, h, w), bool), np.zeros((0, 4), int), np.zeros(0, np.float32))
    return Proposals(
        np.stack([mask for mask, _ in pairs]),
        np.array([bounding_box(mask.astype(np.uint8)) for mask, _ in pairs]),
        np.array([score for _, score in pairs], np.float32),
    )
