"""SegCLIP: Segment Anything proposes objects, CLIP says which one the words mean.

Each proposal becomes a crop (the object alone on neutral grey, cropped to its
box plus a margin, padded square) and all crops are embedded in a few batched
CLIP calls. What a photo yields this way is cached under a hash of its pixels,
so asking again about the same photo costs one text encoding and a matrix product.
On the CPU the proposals come from SAM 2.1 Hiera-tiny when it is installed
(sam2_proposals.py), filtered the same way, so they are ranked the same way.
"""

from __future__ import annotations

import numpy as np

from ...core.box import Box
from ...core.errors import PaintNoiseError
from ...core.jobs import CancelToken, FindJob, MaskCandidate, StepCallback
from ..models.model_store import ModelStore
from . import proposals
from .clip_model import Embedder, get_clip
from .photo_cache import PhotoCache, PhotoEntry, photo_key
from .ranking import phrase_rows, prompts, rank
from .sam2_proposals import CPU_SETTINGS as FAST_SETTINGS
from .sam2_proposals import fast_proposer
from .sam_embedding import photo_embedding
from .sam_model import get_sam

GREY = 127
CROP_MARGIN = 0.15  # of the object's longer side, on every side
MAX_CANDIDATES = 12  # the strip shows a handful; the scores' "none of these" covers the rest
ALL_MODE_CANDIDATES = 48  # "all the bicycles" may need many
CPU_POINTS_PER_SIDE = 16  # the CPU decodes a 16 x 16 grid in a quarter of the time of 32 x 32


def object_crop(
    image: np.ndarray, mask: np.ndarray, box: Box, margin: float = CROP_MARGIN
) -> np.ndarray:
    """The masked object on grey, cut to its box plus `margin`, padded to a square."""
    x0, y0, x1, y1 = box
    pad = max(2, round(margin * max(x1 - x0, y1 - y0)))
    h, w = mask.shape
    x0, y0, x1, y1 = max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad), min(h, y1 + pad)
    region = np.where(mask[y0:y1, x0:x1, None], image[y0:y1, x0:x1], np.uint8(GREY))
    side = max(y1 - y0, x1 - x0)
    square = np.full((side, side, 3), GREY, np.uint8)
    top, left = (side - (y1 - y0)) // 2, (side - (x1 - x0)) // 2
    square[top : top + y1 - y0, left : left + x1 - x0] = region
    return square


def full_resolution_box(box: Box, working: tuple[int, int], full: tuple[int, int]) -> Box:
    """A working-copy box scaled out to the photo, rounded outwards. Sizes are (h, w)."""
    sy, sx = full[0] / working[0], full[1] / working[1]
    return (
        int(np.floor(box[0] * sx)),
        int(np.floor(box[1] * sy)),
        min(full[1], int(np.ceil(box[2] * sx))),
        min(full[0], int(np.ceil(box[3] * sy))),
    )


def describe_photo(
    working: np.ndarray,
    full_size: tuple[int, int],
    found: proposals.Proposals,
    embedder: Embedder,
    step: proposals.Progress,
    batch: int = 32,
) -> PhotoEntry:
    """Embed every proposal's crop; `full_size` is the photo's (h, w) for the boxes."""
    crops = [object_crop(working, mask, tuple(box)) for mask, box in zip(found.masks, found.boxes)]
    rows = []
    for start in range(0, len(crops), batch):
        step(start / max(1, len(crops)), "Reading the objects")
        rows.append(embedder.encode_images(crops[start : start + batch]))
    image_rows = np.concatenate(rows) if rows else np.zeros((0, 1), np.float32)
    boxes = tuple(
        full_resolution_box(tuple(box), working.shape[:2], full_size) for box in found.boxes
    )
    return PhotoEntry.from_masks(found.masks, boxes, image_rows.astype(np.float32))


def rank_candidates(
    entry: PhotoEntry,
    embedder: Embedder,
    text: str,
    exclude: tuple[str, ...] = (),
    limit: int = MAX_CANDIDATES,
    source: str = "segclip",
) -> list[MaskCandidate]:
    """The proposals best matching `text` (and beating every `exclude` phrase), best first;
    `source` names the method that proposed them."""
    if len(entry.boxes) == 0:
        return []
    phrases = [text, *exclude]
    text_rows = phrase_rows(
        embedder.encode_text([p for phrase in phrases for p in prompts(phrase)]), len(phrases)
    )
    ranking = rank(entry.image_rows, text_rows[0], text_rows[1:], limit=limit)
    return [
        MaskCandidate(
            entry.mask(int(index)), float(score), entry.boxes[int(index)], source, text
        )
        for index, score in zip(ranking.order, ranking.scores)
    ]


def _within(step: StepCallback, start: float, end: float) -> proposals.Progress:
    return lambda fraction, message: step(start + (end - start) * fraction, message)


def find_segclip(
    job: FindJob, models: ModelStore, step: StepCallback, cancel: CancelToken
) -> list[MaskCandidate]:
    text = job.text.strip()
    if not text:
        raise PaintNoiseError("Type what to find, for example: red car.")
    step(0.0, "Loading Segment Anything")
    fast = None if job.reference else fast_proposer(models)
    sam_id, sam = fast or get_sam(models)
    step(0.05, "Loading CLIP")
    clip_id, embedder = get_clip(models)
    settings = proposals.ProposalSettings()
    if job.reference:
        settings = proposals.REFERENCE
    elif fast is not None:
        settings = FAST_SETTINGS
    elif sam.device.type == "cpu":
        settings = proposals.ProposalSettings(points_per_side=CPU_POINTS_PER_SIDE)
    cache = models.get("photo-cache", PhotoCache)
    key = photo_key(job.image, sam_id, clip_id, repr(settings))
    entry = cache.get(key)
    if entry is None:
        working = proposals.working_copy(job.image)
        if fast is not None:
            found = sam.propose(working, _within(step, 0.1, 0.75), settings)
        else:
            embedding = photo_embedding(models, sam_id, sam, working, _within(step, 0.1, 0.25),
                                        half=not settings.library_order)
            found = proposals.generate_proposals(sam, working, _within(step, 0.1, 0.75),
                                                 settings, embedding)
        entry = describe_photo(
            working, job.image.shape[:2], found, embedder, _within(step, 0.75, 0.95)
        )
        cache.put(key, entry)
    step(0.95, "Ranking")
    limit = ALL_MODE_CANDIDATES if job.mode == "all" else MAX_CANDIDATES
    return rank_candidates(entry, embedder, text, tuple(job.exclude), limit)
