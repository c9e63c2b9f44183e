"""Connected regions of a mask, each with its box: what a heatmap or a label map offers.

CLIPSeg's thresholded heatmap and each of SegFormer's classes are cut into the regions
that touch (8-connected); specks below a share of the photo are noise, not candidates.
A noisy heatmap has hundreds of regions, so they are ranked from the label image's
statistics and only the kept ones become masks.
"""

from __future__ import annotations

import cv2
import numpy as np

MIN_REGION_FRACTION = 0.0005  # of the working copy, as Segment Anything's proposals are tidied


def connected_regions(
    mask: np.ndarray, min_fraction: float = MIN_REGION_FRACTION, limit: int | None = None,
    weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The `limit` first regions of a boolean mask: (N x h x w bool masks, N x 4 int boxes x0,
    y0, x1, y1 end-exclusive, N means of `weight` over each), the highest mean first, or with
    no `weight` the largest first."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        mask.astype(np.uint8), connectivity=8)
    area = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    means = np.bincount(labels.ravel(), weights=None if weight is None else weight.ravel(),
                        minlength=count) / np.maximum(area, 1)
    kept = np.flatnonzero(area >= max(1.0, min_fraction * mask.size))
    kept = kept[kept > 0]  # 0 is the background
    rank = -means[kept] if weight is not None else -area[kept]
    kept = kept[np.argsort(rank, kind="stable")][:limit]
    masks = np.stack([labels == index for index in kept]) if len(kept) else \
        np.zeros((0, *mask.shape), bool)
    left, top = stats[kept, cv2.CC_STAT_LEFT], stats[kept, cv2.CC_STAT_TOP]
    boxes = np.stack([left, top, left + stats[kept, cv2.CC_STAT_WIDTH],
                      top + stats[kept, cv2.CC_STAT_HEIGHT]], axis=1).astype(np.int64)
    return masks, boxes.reshape(-1, 4), means[kept]
