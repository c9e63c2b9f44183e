"""Ranking proposals against words, in plain NumPy so the window can use it without torch.

Scores. Each proposal has a cosine similarity `c` between its crop's embedding
and the phrase's. Scores are a softmax over the shown candidates plus one
"none of these" entry that sits at the cosine `MATCH_FLOOR`:

    score_i = exp(SCALE * c_i) / (exp(SCALE * MATCH_FLOOR) + sum_j exp(SCALE * c_j))

so `1 - sum(scores)` is the chance that nothing shown is the thing, and a score
says both how the candidate compares with the others and whether it clears the
floor. `SCALE` is CLIP's trained logit scale (100, the cap CLIP training reaches
for ViT-B/32 and ViT-L/14); it is fixed rather than read from each model so the
rules below mean the same cosine margins whatever CLIP is installed.

Rules, in cosine terms, all decidable from the scores alone:
  - weak match: the best cosine is below `MATCH_FLOOR` (score below "none of these").
  - "all" mode selects every candidate within `ALL_MARGIN` of the best cosine
    (score >= exp(-SCALE * ALL_MARGIN) x best score) that also clears the floor;
    the best candidate is always selected, so a weak match still shows the closest.
  - exclusions ("pole, not person"): a proposal is dropped when its cosine to any
    excluded phrase beats its cosine to the wanted one.

`MATCH_FLOOR` = 0.20 and `ALL_MARGIN` = 0.02 suit CLIP's embedding space, where a
crop of the named object scores about 0.25-0.33 against its phrase and unrelated
crops about 0.10-0.20; tests pin the rules down with embedders whose cosines are known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np

SCALE = 100.0
MATCH_FLOOR = 0.20
ALL_MARGIN = 0.02
ALL_RATIO = float(np.exp(-SCALE * ALL_MARGIN))

TEMPLATES = ("a photo of a {}.", "a photo of the {}.", "{}")

_SPLIT = re.compile(r"(,|(?<![\w-])(?:not|no|except|without)(?![\w-]))", re.IGNORECASE)


def parse_query(text: str) -> tuple[str, tuple[str, ...]]:
    """Split "pole, not person" into ("pole", ("person",)).

    An exclusion word ("not", "no", "except", "without") makes the words after it,
    up to the next comma, excluded; everything else is wanted.
    """
    wanted: list[str] = []
    excluded: list[str] = []
    excluding = False
    for piece in _SPLIT.split(text):
        if piece == ",":
            excluding = False
        elif _SPLIT.fullmatch(piece):
            excluding = True
        elif piece.strip():
            (excluded if excluding else wanted).append(" ".join(piece.split()))
    return ", ".join(wanted), tuple(excluded)


def prompts(phrase: str) -> list[str]:
    """The phrase in every template; their embeddings are averaged into one."""
    return [template.format(phrase) for template in TEMPLATES]


def phrase_rows(template_rows: np.ndarray, phrases: int) -> np.ndarray:
    """Average each phrase's template embeddings (rows in `prompts` order) and renormalise."""
    rows = template_rows.reshape(phrases, len(TEMPLATES), -1).mean(axis=1)
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


@dataclass(frozen=True)
class Ranking:
    order: np.ndarray  # proposal indices, best first, excluded ones left out
    cosine: np.ndarray  # cosine of each ranked proposal to the wanted phrase
    scores: np.ndarray  # the softmax scores described above, same order


def rank(
    image_rows: np.ndarray,
    wanted_row: np.ndarray,
    excluded_rows: np.ndarray | None = None,
    limit: int | None = None,
) -> Ranking:
    """Rank proposals (rows of unit image embeddings) by their match to the wanted phrase."""
    cosine = image_rows @ wanted_row
    keep = np.ones(len(cosine), bool)
    if excluded_rows is not None and len(excluded_rows):
        keep &= (image_rows @ excluded_rows.T).max(axis=1) <= cosine
    order = np.flatnonzero(keep)
    order = order[np.argsort(-cosine[order], kind="stable")][:limit]
    return Ranking(order, cosine[order], softmax_with_floor(cosine[order]))


def softmax_with_floor(cosine: np.ndarray) -> np.ndarray:
    logits = SCALE * np.append(cosine.astype(np.float64), MATCH_FLOOR)
    weights = np.exp(logits - logits.max())
    return (weights / weights.sum())[:-1]


def none_score(scores) -> float:
    """The score of "none of these", left over by the candidates' scores."""
    return max(0.0, 1.0 - float(np.sum(scores)))


def is_weak(scores) -> bool:
    """True when even the best candidate is below the match floor (or there is none)."""
    scores = np.asarray(scores, np.float64)
    return scores.size == 0 or scores[0] < none_score(scores)


def select(scores, mode: Literal["best", "all"]) -> list[int]:
    """Indices of the ranked candidates to use: the best one, or all that match about as well."""
    scores = np.asarray(scores, np.float64)
    if scores.size == 0:
        return []
    if mode == "best":
        return [0]
    best = scores[0]
    floor = none_score(scores)
    chosen = [int(i) for i in np.flatnonzero((scores >= ALL_RATIO * best) & (scores >= floor))]
    return chosen if 0 in chosen else [0]
