"""How well a removal removed: the CLIP measures of the CLIPAway and Inst-Inpaint studies.

The removed region is the mask's box, cut from the photo before and after, as
Inst-Inpaint's evaluation crops the object's box (abyildirim/inst-inpaint,
eval/clip_accuracy.py, which CLIPAway's CLIP@N column follows):

- CLIP@N: the region before removal is classified by CLIP over a list of class names
  ("a photo of a {class}"); the removal scores 1 when that top class is not among the
  N best classes of the region after removal, else 0. Averaged over photos it is the
  share of removals that CLIP no longer recognises (higher is better).
- CLIP distance: 1 - cosine between the CLIP image embeddings of the region before and
  after; the further the result from the object, the larger (higher is better).
- Outside change: the number of pixels outside the mask whose bytes differ, which the
  crop -> paint -> blend path keeps at 0.

The classes are the 80 COCO object categories (the studies' test set is COCO 2017) and
the found phrase, so the object is classifiable whatever it is. No torch here: any
`Embedder` (CLIP in the app, a controlled one in tests) gives the vectors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..core.box import Box, box_of_mask, slices

if TYPE_CHECKING:  # clip_model imports torch
    from .find.clip_model import Embedder

TOP_N = (1, 3, 5)
TEMPLATE = "a photo of a {}"
COCO_CLASSES = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat",
    "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack",
    "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball",
    "kite", "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket",
    "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair",
    "couch", "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse",
    "remote", "keyboard", "cell phone", "microwave", "oven", "toaster", "sink",
    "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier",
    "toothbrush",
)


def class_names(phrase: str) -> tuple[str, ...]:
    """The found phrase, then the COCO classes, each once."""
    return tuple(dict.fromkeys((phrase.strip(), *COCO_CLASSES)))


def removed_region(mask: np.ndarray) -> Box:
    box = box_of_mask(mask)
    if box is None:
        raise ValueError("an empty mask removes nothing")
    return box


def outside_change(before: np.ndarray, after: np.ndarray, mask: np.ndarray) -> int:
    """Pixels where the mask is 0 whose bytes differ between `before` and `after`."""
    changed = (before != after).any(axis=2)
    return int((changed & (mask == 0)).sum())


@dataclass(frozen=True)
class ClassRows:
    """The class names' text embeddings, computed once per phrase."""

    names: tuple[str, ...]
    rows: np.ndarray  # len(names) x d, unit rows

    @classmethod
    def of(cls, embedder: Embedder, phrase: str) -> ClassRows:
        names = class_names(phrase)
        return cls(names, embedder.encode_text([TEMPLATE.format(name) for name in names]))


@dataclass(frozen=True)
class RemovalScores:
    before_class: str  # what CLIP took the region for before removal
    after_classes: tuple[str, ...]  # its best classes after, best first (max(TOP_N) of them)
    clip_at: dict[int, float]  # N -> 1.0 when before_class is not in the N best after, else 0.0
    clip_distance: float
    outside_change: int


def removal_scores(embedder: Embedder, classes: ClassRows, before: np.ndarray,
                   after: np.ndarray, mask: np.ndarray) -> RemovalScores:
    """The CLIP measures of one removal (see the module doc) and its change outside the mask."""
    region = slices(removed_region(mask))
    image_rows = embedder.encode_images([before[region], after[region]])
    before_row, after_row = image_rows[0], image_rows[1]
    top_before = int(np.argmax(classes.rows @ before_row))
    ranked_after = np.argsort(-(classes.rows @ after_row), kind="stable")
    clip_at = {n: float(top_before not in ranked_after[:n]) for n in TOP_N}
    return RemovalScores(
        before_class=classes.names[top_before],
        after_classes=tuple(classes.names[int(i)] for i in ranked_after[:max(TOP_N)]),
        clip_at=clip_at,
        clip_distance=float(1.0 - before_row @ after_row),
        outside_change=outside_change(before, after, mask),
    )
