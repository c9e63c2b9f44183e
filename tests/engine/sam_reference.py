"""Segment Anything's own automatic mask generator, run with the settings of a
`ProposalSettings`, and a way to say how well two sets of masks agree.

Shared by the reference tests and benchmarks/bench_find.py.
"""

from __future__ import annotations

import numpy as np

from paintnoise_desktop.engine.find.proposals import ProposalSettings


def library_masks(sam, image: np.ndarray, settings: ProposalSettings) -> np.ndarray:
    """`SamAutomaticMaskGenerator(sam, ...)`'s masks for `image` (N x h x w bool), with the
    grid, thresholds and minimum region of `settings` (as pixels of this image)."""
    from segment_anything import SamAutomaticMaskGenerator

    h, w = image.shape[:2]
    generator = SamAutomaticMaskGenerator(
        sam,
        points_per_side=settings.points_per_side,
        points_per_batch=settings.points_per_batch,
        pred_iou_thresh=settings.min_predicted_iou,
        stability_score_thresh=settings.min_stability,
        stability_score_offset=settings.stability_offset,
        box_nms_thresh=settings.nms_iou,
        min_mask_region_area=round(settings.min_region_fraction * h * w),
    )
    records = generator.generate(image)
    if not records:
        return np.zeros((0, h, w), bool)
    return np.stack([record["segmentation"] for record in records])


def best_ious(masks: np.ndarray, others: np.ndarray, chunk: int = 1 << 16) -> np.ndarray:
    """For each of `masks`, its highest IoU with any of `others` (0 when there are none)."""
    if len(masks) == 0 or len(others) == 0:
        return np.zeros(len(masks))
    a = masks.reshape(len(masks), -1)
    b = others.reshape(len(others), -1)
    inter = np.zeros((len(a), len(b)))
    for start in range(0, a.shape[1], chunk):
        inter += a[:, start : start + chunk].astype(np.float32) @ b[
            :, start : start + chunk
        ].astype(np.float32).T
    union = a.sum(1)[:, None] + b.sum(1)[None, :] - inter
    return (inter / np.maximum(union, 1)).max(axis=1)


def matched_fraction(masks: np.ndarray, others: np.ndarray, min_iou: float = 0.95) -> float:
    """The share of `masks` that one of `others` overlaps with IoU >= `min_iou`."""
    if len(masks) == 0:
        return 1.0 if len(others) == 0 else 0.0
    return float((best_ious(masks, others) >= min_iou).mean())
