"""Ranking rules in cosine terms, checked on hand-made embeddings with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from paintnoise_desktop.engine.find.ranking import (
    ALL_MARGIN,
    MATCH_FLOOR,
    TEMPLATES,
    is_weak,
    none_score,
    parse_query,
    phrase_rows,
    prompts,
    rank,
    select,
)


def rows_with_cosines(cosines: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Unit image rows whose cosines to the returned unit text row are exactly `cosines`."""
    text = np.zeros(len(cosines) + 1)
    text[0] = 1.0
    rows = np.zeros((len(cosines), len(cosines) + 1))
    for i, c in enumerate(cosines):
        rows[i, 0] = c
        rows[i, i + 1] = np.sqrt(1 - c * c)
    return rows, text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("pole, not person", ("pole", ("person",))),
        ("square not red", ("square", ("red",))),
        ("car, not red, not blue", ("car", ("red", "blue"))),
        ("bikes except the red one", ("bikes", ("the red one",))),
        ("a no-parking sign", ("a no-parking sign", ())),
        ("  green   bin ", ("green bin", ())),
        ("Tree WITHOUT leaves", ("Tree", ("leaves",))),
    ],
)
def test_parse_query(text, expected):
    assert parse_query(text) == expected


def test_templates_are_averaged_per_phrase():
    assert prompts("cat") == [t.format("cat") for t in TEMPLATES]
    rows = np.array([[1.0, 0, 0], [0, 1.0, 0], [1.0, 0, 0], [0, 0, 1.0], [0, 0, 1.0], [0, 0, 1.0]])
    averaged = phrase_rows(rows, 2)
    np.testing.assert_allclose(averaged[0], np.array([2, 1, 0]) / np.sqrt(5))
    np.testing.assert_allclose(averaged[1], [0, 0, 1])


def test_rank_orders_by_cosine_and_scores_follow():
    rows, text = rows_with_cosines([0.22, 0.31, 0.05, 0.28])
    ranking = rank(rows, text)
    assert ranking.order.tolist() == [1, 3, 0, 2]
    np.testing.assert_allclose(ranking.cosine, [0.31, 0.28, 0.22, 0.05])
    assert np.all(np.diff(ranking.scores) < 0)
    assert 0 < none_score(ranking.scores) < ranking.scores[0]
    # the ratio of two scores is the softmax of their cosine gap
    assert ranking.scores[1] / ranking.scores[0] == pytest.approx(np.exp(-100 * 0.03))


def test_rank_limit_keeps_the_best():
    rows, text = rows_with_cosines([0.1, 0.3, 0.2])
    assert rank(rows, text, limit=2).order.tolist() == [1, 2]


def test_exclusion_drops_proposals_closer_to_the_excluded_phrase():
    wanted = np.array([1.0, 0.0, 0.0])
    excluded = np.array([[0.0, 1.0, 0.0]])
    rows = np.array([[0.3, 0.1, 0.95], [0.25, 0.3, 0.92], [0.2, 0.0, 0.98]])
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    assert rank(rows, wanted, excluded).order.tolist() == [0, 2]
    assert rank(rows, wanted).order.tolist() == [0, 1, 2]


def test_weak_when_the_best_is_below_the_floor():
    rows, text = rows_with_cosines([MATCH_FLOOR - 0.03, MATCH_FLOOR - 0.05])
    assert is_weak(rank(rows, text).scores)
    rows, text = rows_with_cosines([MATCH_FLOOR + 0.03, MATCH_FLOOR - 0.05])
    assert not is_weak(rank(rows, text).scores)
    assert is_weak([])


def test_best_mode_takes_the_first():
    assert select([0.5, 0.4], "best") == [0]
    assert select([], "best") == [] and select([], "all") == []


def test_all_mode_takes_near_ties_above_the_floor():
    gap = ALL_MARGIN / 2
    rows, text = rows_with_cosines([0.30, 0.30 - gap, 0.30 - 2.5 * ALL_MARGIN, 0.12])
    scores = rank(rows, text).scores
    assert select(scores, "all") == [0, 1]


def test_all_mode_skips_near_ties_below_the_floor():
    rows, text = rows_with_cosines([MATCH_FLOOR + 0.005, MATCH_FLOOR - 0.01])
    assert select(rank(rows, text).scores, "all") == [0]


def test_all_mode_with_a_weak_best_shows_only_the_closest():
    rows, text = rows_with_cosines([0.10, 0.10, 0.095])
    scores = rank(rows, text).scores
    assert is_weak(scores)
    assert select(scores, "all") == [0]


def test_many_equal_matches_are_all_selected():
    rows, text = rows_with_cosines([0.28] * 10)
    scores = rank(rows, text).scores
    assert select(scores, "all") == list(range(10))
    assert not is_weak(scores)
