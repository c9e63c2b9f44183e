"""Click to mask: Segment Anything's prompt decoder on the photo's cached image embedding.

Clicked points (positive or negative) and a dragged box, in photo pixels, are scaled to
the working copy that SegCLIP encodes too, so the first click on a photo pays for the
image encoder (or reuses SegCLIP's embedding) and every later click is one decoder call.
SAM answers a prompt with several masks (the whole, a part, a subpart); all of them come
back as candidates ranked by SAM's predicted IoU, so the window can cycle through them.
Given the same working copy, the masks are `SamPredictor.predict`'s
(tests/engine/test_points.py).
"""

from __future__ import annotations

import numpy as np
import torch

from ...core.box import Box
from ...core.errors import PaintNoiseError
from ...core.jobs import CancelToken, FindJob, MaskCandidate, StepCallback
from ...core.masks import bounding_box
from ..models.model_store import ModelStore
from . import proposals
from .sam_embedding import photo_embedding, predictor_for
from .sam_model import get_sam
from .segclip import full_resolution_box

SOURCE = "click"
NEED_PROMPT = "Click on the object (or drag a box around it) to mask it."


def prompt_arrays(
    points: tuple[tuple[float, float, bool], ...], box: Box | None, scale: tuple[float, float]
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """SamPredictor's point_coords, point_labels and box, scaled by (sx, sy) into the
    working copy."""
    sx, sy = scale
    coords = labels = box_array = None
    if points:
        coords = np.array([(x * sx, y * sy) for x, y, _ in points], np.float32)
        labels = np.array([1 if positive else 0 for _, _, positive in points], np.int64)
    if box is not None:
        x0, y0, x1, y1 = box
        box_array = np.array(
            [min(x0, x1) * sx, min(y0, y1) * sy, max(x0, x1) * sx, max(y0, y1) * sy], np.float32
        )
    return coords, labels, box_array


def click_candidates(
    masks: np.ndarray, quality: np.ndarray, full_size: tuple[int, int]
) -> list[MaskCandidate]:
    """SAM's masks for one prompt (N x h x w bool, working size) as candidates, best
    predicted IoU first; empty ones are left out. `full_size` is the photo's (h, w)."""
    candidates = []
    for index in np.argsort(-quality, kind="stable"):
        mask = masks[index].astype(np.uint8) * np.uint8(255)
        box = bounding_box(mask)
        if box is None:
            continue
        candidates.append(MaskCandidate(
            mask, float(np.clip(quality[index], 0.0, 1.0)),
            full_resolution_box(box, mask.shape, full_size), SOURCE,
        ))
    return candidates


def find_points(
    job: FindJob, models: ModelStore, step: StepCallback, cancel: CancelToken
) -> list[MaskCandidate]:
    if not job.points and job.box is None:
        raise PaintNoiseError(NEED_PROMPT)
    step(0.0, "Loading Segment Anything")
    sam_id, sam = get_sam(models)
    working = proposals.working_copy(job.image)
    height, width = job.image.shape[:2]
    embedding = photo_embedding(
        models, sam_id, sam, working,
        lambda fraction, message: step(0.05 + 0.85 * fraction, message),
    )
    step(0.9, "Masking what was clicked")
    coords, labels, box = prompt_arrays(
        job.points, job.box, (working.shape[1] / width, working.shape[0] / height)
    )
    with torch.inference_mode():
        masks, quality, _ = predictor_for(sam, embedding).predict(
            point_coords=coords, point_labels=labels, box=box, multimask_output=True
        )
    return click_candidates(masks, quality, (height, width))
