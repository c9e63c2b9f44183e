"""Connected regions of a mask, each with its box: what a heatmap or a label map offers.

CLIPSeg's thresholded heatmap and each of SegFormer's classes are cut into the regions
that touch (8-connected); specks below a share of the photo are noise, not candidates.
"""

from __future__ import annotations

import cv2
import numpy as np

MIN_REGION_FRACTION = 0.0005  # of the working copy, as Segment Anything's proposals are tidied


def connected_regions(
    mask: np.ndarray, min_fraction: float = MIN_REGION_FRACTION
) -> tuple[np.ndarray, np.ndarray]:
    """The regions of a boolean mask as (N x h x w bool masks, N x 4 int boxes x0, y0, x1, y1
    end-exclusive), largest first."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        mask.astype(np.uint8), connectivity=8)
    min_area = max(1.0, min_fraction * mask.size)
    kept = [index for index in range(1, count) if stats[index, cv2.CC_STAT_AREA] >= min_area]
    kept.sort(key=lambda index: -stats[index, cv2.CC_STAT_AREA])
    masks = np.stack([labels == index for index in kept]) if kept else \
        np.zeros((0, *mask.shape), bool)
    boxes = np.array([[stats[i, cv2.CC_STAT_LEFT], stats[i, cv2.CC_STAT_TOP],
                       stats[i, cv2.CC_STAT_LEFT] + stats[i, cv2.CC_STAT_WIDTH],
                       stats[i, cv2.CC_STAT_TOP] + stats[i, cv2.CC_STAT_HEIGHT]] for i in kept],
                     np.int64).reshape(-1, 4)
    return masks, boxes
