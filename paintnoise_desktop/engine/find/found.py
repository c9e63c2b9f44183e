"""What a Find's answer makes of the mask, for the window and the command line alike.

A Find returns ranked candidates at a working size; the query's mode picks some of
them (the best one, or every one matching about as well), and their union, post-processed
(holes filled, grown, feathered, unless tight), brought to the photo's full size is the
found mask. No torch here: the window calls it on its own threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ...core import masks
from ...core.jobs import MaskCandidate, MaskSettings
from .ranking import select


def full_size_mask(candidates: Sequence[MaskCandidate], chosen: Sequence[int], width: int,
                   height: int, settings: MaskSettings) -> np.ndarray:
    """The `chosen` candidates' union, post-processed, at the photo's size."""
    picked = [candidates[i].mask for i in chosen]
    return masks.mask_from_candidates(picked, width, height, settings)


@dataclass(frozen=True)
class Chosen:
    """What a find returned, and which of the candidates the query's mode picks."""

    wanted: str
    candidates: tuple[MaskCandidate, ...]
    indices: tuple[int, ...]

    @classmethod
    def pick(cls, wanted: str, candidates: Sequence[MaskCandidate],
             mode: Literal["best", "all"]) -> Chosen:
        indices = select([candidate.score for candidate in candidates], mode)
        return cls(wanted, tuple(candidates), tuple(indices))

    def full_size_mask(self, width: int, height: int, settings: MaskSettings) -> np.ndarray:
        return full_size_mask(self.candidates, self.indices, width, height, settings)
