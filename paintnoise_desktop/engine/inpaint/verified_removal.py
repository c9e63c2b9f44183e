"""Verified removal: after removing what words found, look for it again where it was.

The phrase is found again, by the same Find, on a crop of the photo around the mask
(its box grown by a margin): once before painting, for comparison, and after each
attempt. Only candidates lying mostly inside the mask count, so a neighbour of the
same kind at the crop's edge is not taken for the removed object (see `overlap_share`). The object is
still there when such a candidate clears the match floor (its cosine to the phrase
is above `ranking.MATCH_FLOOR`, i.e. it outscores "none of these"); then the region
is painted again with another seed and the mask grown once more, the way the
post-processing grows a found mask, up to `InpaintJob.verify_retries` times.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ...core import masks
from ...core.box import Box, clip, expand, slices
from ...core.jobs import (
    CancelToken,
    FindJob,
    InpaintJob,
    InpaintVariant,
    MaskCandidate,
    MaskSettings,
    StepCallback,
    Verification,
)
from ..find.ranking import none_score
from ..models.model_store import ModelStore
from .replace import MAX_VARIANTS

REGION_MARGIN = 0.15  # of the mask box's longer side, on every side of it
MIN_REGION_MARGIN_PX = 8
INSIDE_SHARE = 0.5  # a candidate lies in the region when it overlaps the mask this much
PAINT_SHARE = 0.8  # of each attempt's progress; the check after it takes the rest
SEEDS = 2**31 - MAX_VARIANTS  # seeds stay below this, as `replace` picks them

# refind(crop, phrase, step) -> the phrase's ranked candidates on the crop
Refind = Callable[[np.ndarray, str, StepCallback], Sequence[MaskCandidate]]
# paint(job, step) -> the job's variants
Paint = Callable[[InpaintJob, StepCallback], list[InpaintVariant]]


@dataclass(frozen=True)
class Check:
    """What one look at the region found: the best score there and whether it clears the floor."""

    score: float
    found: bool
    candidates: tuple[MaskCandidate, ...]  # those lying in the region, on its crop


def region_box(mask: np.ndarray) -> Box:
    """The mask's box grown by a margin and cut to the photo: where the check looks."""
    box = masks.bounding_box(mask)
    if box is None:
        raise ValueError("an empty mask has no region")
    longest = max(box[2] - box[0], box[3] - box[1])
    margin = max(MIN_REGION_MARGIN_PX, math.ceil(REGION_MARGIN * longest))
    height, width = mask.shape
    region = clip(expand(box, margin), width, height)
    assert region is not None  # the box lies in the photo
    return region


def overlap_share(candidate: np.ndarray, region_mask: np.ndarray) -> float:
    """How much a candidate and the removal mask (at half or more) overlap, as a share of
    the smaller of the two: most of the candidate lies in the mask, or most of the mask
    in the candidate (an object larger than a too-tight mask)."""
    on = candidate > 0
    h, w = candidate.shape
    covered = masks.resize_mask(region_mask, w, h) >= masks.HALF
    smaller = min(int(on.sum()), int(covered.sum()))
    return float((on & covered).sum() / smaller) if smaller else 0.0


def check_region(image: np.ndarray, mask: np.ndarray, phrase: str, refind: Refind,
                 step: StepCallback) -> Check:
    """Find `phrase` again on the crop around `mask` and judge the candidates inside it."""
    box = region_box(mask)
    candidates = tuple(refind(image[slices(box)], phrase, step))
    floor = none_score([candidate.score for candidate in candidates])
    region_mask = mask[slices(box)]
    inside = tuple(candidate for candidate in candidates
                   if overlap_share(candidate.mask, region_mask) >= INSIDE_SHARE)
    score = max((candidate.score for candidate in inside), default=0.0)
    return Check(score, any(candidate.score > floor for candidate in inside), inside)


def _subject(phrase: str) -> str:
    """"spoon" -> "The spoon", "a red car" -> "A red car": the start of a sentence."""
    first = phrase.split()[0].lower()
    named = phrase if first in ("the", "a", "an", "this", "that") else f"the {phrase}"
    return named[0].upper() + named[1:]


def sentence(phrase: str, before: Check, after: Sequence[Check]) -> str:
    """What the check did, in one sentence for the user."""
    subject = _subject(phrase)
    retries = len(after) - 1
    gone = not after[-1].found
    if retries == 0 and gone and not before.found:
        return (f"{subject} did not match clearly there even before removing, so the check "
                f"cannot tell whether it is gone.")
    if retries == 0:
        return f"{subject} is gone." if gone else f"{subject} is still there."
    times = "" if retries == 1 else f" {retries} times"
    outcome = "now it is gone" if gone else "it is still there"
    return f"{subject} was still found; repainted again with a larger mask{times}, and {outcome}."


def _within(step: StepCallback, start: float, end: float) -> StepCallback:
    def scaled(fraction: float, message: str, preview=None) -> None:
        step(start + (end - start) * fraction, message, preview)

    return scaled


def verified_removal(job: InpaintJob, paint: Paint, refind: Refind,
                     step: StepCallback) -> tuple[list[InpaintVariant], Verification]:
    """Remove, check, and repaint with a larger mask while the phrase is still found there.

    The first variant is the one checked (the one the window applies); every attempt
    paints all of the job's variants, and the last attempt's are returned.
    """
    phrase = job.find_text.strip()
    attempts = 1 + max(0, job.verify_retries)
    share = 1.0 / attempts
    before = check_region(job.image, job.mask, phrase, refind,
                          _within(step, 0.0, 0.1 * share))
    checks: list[Check] = []
    attempt, variants = job, []
    for k in range(attempts):
        start = k * share
        paint_start = start + (0.1 * share if k == 0 else 0.0)
        variants = paint(attempt, _within(step, paint_start, start + PAINT_SHARE * share))
        checks.append(check_region(variants[0].image, attempt.mask, phrase, refind,
                                   _within(step, start + PAINT_SHARE * share, start + share)))
        if not checks[-1].found or k == attempts - 1:
            break
        step(start + share, f"{_subject(phrase)} was still found; repainting with a larger mask")
        grown = masks.grow(attempt.mask, masks.grow_px(attempt.mask, MaskSettings()))
        seed = (variants[-1].seed + 1) % SEEDS
        attempt = replace(attempt, mask=grown, seed=seed)
    step(1.0, "Done")
    verification = Verification(
        phrase=phrase,
        before=before.score,
        after=tuple(check.score for check in checks),
        attempts=len(checks),
        gone=not checks[-1].found,
        sentence=sentence(phrase, before, checks),
        found_before=before.found,
        before_candidates=before.candidates,
        after_candidates=checks[-1].candidates,
    )
    return variants, verification


def verified_replace(job: InpaintJob, models: ModelStore, step: StepCallback,
                     cancel: CancelToken) -> tuple[list[InpaintVariant], Verification]:
    """`verified_removal` with the engine's own Replace and Find (FindJob's default method)."""
    from ..find.finder import find
    from .replace import replace as paint_job

    def paint(attempt: InpaintJob, attempt_step: StepCallback) -> list[InpaintVariant]:
        return paint_job(attempt, models, attempt_step, cancel)

    def refind(crop: np.ndarray, phrase: str, find_step: StepCallback) -> list[MaskCandidate]:
        return find(FindJob(job.job_id, crop, phrase), models, find_step, cancel)

    return verified_removal(job, paint, refind, step)
