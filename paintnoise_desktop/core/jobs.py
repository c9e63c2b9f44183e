"""What the window (or the command line) asks of the engine, and what comes back.

One typed request in, one typed message stream out: every job is a frozen
dataclass with an id; the engine answers with `Progress` messages while it works
and exactly one `Result` at the end. Results of jobs nobody waits for any more
are dropped by the receiver, never applied.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Literal

import numpy as np

from .box import Box
from .errors import JobCancelled


class CancelToken:
    """A flag the engine checks between model calls and inside every sampling step."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise JobCancelled()


@dataclass(frozen=True)
class Progress:
    job_id: int
    fraction: float  # 0..1
    message: str
    preview: np.ndarray | None = None  # small RGB uint8 image, optional


ProgressCallback = Callable[[Progress], None]

# What engine code calls while it works: step(fraction, message, preview=None).
# Calling it is also the cancel check: it raises JobCancelled once Cancel was pressed.
StepCallback = Callable[..., None]


@dataclass(frozen=True)
class MaskCandidate:
    """One proposal for "what the words mean" and how well it matched.

    `mask` covers the whole photo but may be smaller than it (proposals are made on
    a copy of at most about 1024 px); `core.masks.resize_mask` brings the chosen
    ones to full resolution, so no full-size mask exists per proposal.
    """

    mask: np.ndarray  # h x w uint8, 255 = repaint, same aspect ratio as the photo
    score: float  # 0..1, higher is better; comparable within one query
    box: Box  # in full-resolution photo coordinates
    source: str  # "segclip", "clipseg", "click", ...
    label: str = ""


@dataclass(frozen=True)
class MaskSettings:
    """Post-processing of a found mask. Defaults favour covering the whole object."""

    tight: bool = False  # True: the raw mask, no post-processing
    grow_fraction: float = 0.04  # grow by this fraction of the object's size ...
    grow_min_px: int = 6  # ... and by at least this many pixels
    feather_px: int = 6
    fill_holes: bool = True
    min_speck_fraction: float = 0.002  # drop blobs smaller than this fraction of the object


@dataclass(frozen=True)
class FindJob:
    job_id: int
    image: np.ndarray  # H x W x 3 uint8 RGB
    text: str
    exclude: tuple[str, ...] = ()
    mode: Literal["best", "all"] = "best"
    method: str = "segclip"
    reference: bool = False  # Segment Anything with its library's own settings (slower)
    # CLIPSeg's heatmap cut-off, SAM 3's instance score cut in "all" mode; 0..1; None: the
    # method's default
    threshold: float | None = None
    points: tuple[tuple[float, float, bool], ...] = ()  # clicks: (x, y) photo px, True = positive
    box: Box | None = None  # a dragged box, photo pixels, for the "points" method
    replace_text: str = ""  # what the Replace box says; DiffEdit contrasts it with the text


@dataclass(frozen=True)
class InpaintJob:
    job_id: int
    image: np.ndarray  # H x W x 3 uint8 RGB
    mask: np.ndarray  # H x W uint8, 255 = repaint (already post-processed)
    prompt: str = ""  # empty: remove what is masked
    find_text: str = ""  # what was found, used as negative prompt when removing
    negative_prompt: str = ""
    inpainter: str = "opencv-telea"  # "opencv-telea", "opencv-ns", or a diffusion model id
    steps: int = 25
    guidance: float = 7.5
    strength: float = 1.0
    seed: int | None = None  # None: pick one and report it
    variants: int = 1
    verify: bool = False  # after removing what find_text found, find it again there
    verify_retries: int = 2  # repaints with a larger mask while it is still found
    guidance_mode: Literal["plain", "clip"] = "plain"  # "clip": CLIP-guided (engine/inpaint/guided.py)
    clip_weight: float = 1e3  # CLIP-guided: CLIP loss inside the mask ...
    l2_weight: float = 1e3  # ... L2 and LPIPS against the background outside it
    lpips_weight: float = 1e3
    guide_every: int = 1  # guide every k-th sampling step

    @property
    def verifies(self) -> bool:
        """Whether this job checks its removal: it removes something found by words."""
        return self.verify and not self.prompt.strip() and bool(self.find_text.strip())


#: InpaintJob's fields of CLIP guidance, which the window's settings and recipes keep too.
GUIDANCE_FIELDS = ("guidance_mode", "clip_weight", "l2_weight", "lpips_weight", "guide_every")


@dataclass(frozen=True)
class LoadModelJob:
    job_id: int
    model_id: str


@dataclass(frozen=True)
class DownloadJob:
    job_id: int
    model_id: str


Job = FindJob | InpaintJob | LoadModelJob | DownloadJob


@dataclass(frozen=True)
class InpaintVariant:
    image: np.ndarray  # the whole photo with the region repainted
    box: Box  # the box of pixels that may differ from the input
    seed: int
    note: str = ""  # e.g. "ran out of GPU memory; retried with VAE tiling"


@dataclass(frozen=True)
class Verification:
    """What a verified removal found in the removed region before and after painting.

    Scores are the best of the candidates lying in the region, as Find scores them
    (0 when none lies there); `after` has one per attempt, and the candidates are those
    of the check before painting and of the last check.
    """

    phrase: str
    before: float
    after: tuple[float, ...]
    attempts: int
    gone: bool
    sentence: str  # "the spoon is gone", for the user
    found_before: bool = True  # False: it did not match there even before, so gone says little
    before_candidates: tuple[MaskCandidate, ...] = ()
    after_candidates: tuple[MaskCandidate, ...] = ()


class Status(Enum):
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Result:
    job_id: int
    status: Status
    message: str = ""  # one line for the user
    detail: str = ""  # for the log
    candidates: tuple[MaskCandidate, ...] = ()
    variants: tuple[InpaintVariant, ...] = ()
    missing_models: tuple[str, ...] = ()  # set when the job failed for want of these models
    device_status: str = ""  # e.g. "CPU" or "CUDA 0: 3.1 / 80 GB" after the job, for the status bar
    verification: Verification | None = None  # a verified removal's check

    @property
    def ok(self) -> bool:
        return self.status is Status.FINISHED
