"""The threshold that cuts a heatmap (CLIPSeg's) into regions: its default and range.

No torch here: the window's slider takes its range from these. The range's floor stays
above `ranking.ALL_RATIO`, so "All" keeps every region that clears the threshold (see
clipseg.py for why).
"""

from __future__ import annotations

from .ranking import ALL_RATIO

DEFAULT_THRESHOLD = 0.4
MIN_THRESHOLD, MAX_THRESHOLD = 0.15, 0.95
assert MIN_THRESHOLD > ALL_RATIO


def clamp_threshold(threshold: float | None) -> float:
    """A threshold inside the range the slider offers; None: the default."""
    if threshold is None:
        return DEFAULT_THRESHOLD
    return float(min(MAX_THRESHOLD, max(MIN_THRESHOLD, threshold)))
