"""The removal measures with an embedder whose answers are known (the SegCLIP tests' one)."""

from __future__ import annotations

import numpy as np

from paintnoise_desktop.engine.removal_metrics import (
    COCO_CLASSES,
    TEMPLATE,
    ClassRows,
    class_names,
    outside_change,
    removal_scores,
)
from tests.engine.test_segclip import COLOURS, ControlledEmbedder

NAMES = ("red square", "green square", "blue circle")


def photo_with(colour: str) -> np.ndarray:
    photo = np.full((60, 80, 3), 235, np.uint8)
    photo[20:40, 30:50] = COLOURS[colour]
    return photo


def square_mask() -> np.ndarray:
    mask = np.zeros((60, 80), np.uint8)
    mask[20:40, 30:50] = 255
    return mask


def scores_after(colour: str):
    embedder = ControlledEmbedder()
    classes = ClassRows(NAMES, embedder.encode_text([TEMPLATE.format(n) for n in NAMES]))
    return removal_scores(embedder, classes, photo_with("red"), photo_with(colour), square_mask())


def test_a_region_still_showing_the_object_scores_zero_everywhere():
    scores = scores_after("red")
    assert scores.before_class == "red square" and scores.after_classes[0] == "red square"
    assert scores.clip_at == {1: 0.0, 3: 0.0, 5: 0.0}
    assert abs(scores.clip_distance) < 1e-6 and scores.outside_change == 0


def test_clip_at_n_asks_whether_the_class_before_is_among_the_n_best_after():
    scores = scores_after("green")  # a green square: "red square" is second, by its shape
    assert scores.after_classes == ("green square", "red square", "blue circle")
    assert scores.clip_at == {1: 1.0, 3: 0.0, 5: 0.0}
    assert abs(scores.clip_distance - (1 - 1.8 / 2.44)) < 1e-5  # (0.6² + 1.2²) / (0.8² + 0.6² + 1.2²)


def test_the_classes_are_the_phrase_then_coco_once_each():
    assert class_names("spoon") == COCO_CLASSES[44:45] + COCO_CLASSES[:44] + COCO_CLASSES[45:]
    assert class_names("wheelie bin")[0] == "wheelie bin" and len(COCO_CLASSES) == 80


def test_outside_change_counts_pixels_outside_the_mask_only():
    before, mask = photo_with("red"), square_mask()
    after = before.copy()
    after[25, 35] = 0  # inside: not counted
    after[0, 0, 2] = 1  # outside, one channel
    after[59, 79] = 9
    assert outside_change(before, after, mask) == 2
