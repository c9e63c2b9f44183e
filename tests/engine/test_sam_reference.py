"""With `REFERENCE` settings the app's proposals are `SamAutomaticMaskGenerator`'s.

Both sides run the same tiny Segment Anything (the real classes, loaded through the
app's loader) on the same 160 x 120 photo, so both see one image size: the transform
resizes it to the model's 128 px input and the masks come back at 160 x 120, with the
padded rows cropped, exactly as at the working size of a real photo.

A freshly initialised SAM proposes nothing useful: its random transposed convolutions
print a checkerboard over every mask, its masks hardly depend on the clicked point, its
logits are a few hundredths wide (so the library's stability offset of 1.0 scores every
mask 0) and its predicted IoUs sit near 0.1. `decisive` changes four of its weights and
one attribute so that it proposes a few dozen distinct, point-dependent masks whose
scores straddle the thresholds; every comparison then runs the SAME settings on both
sides, some lowered from the library's defaults (stated in each test) because at the
defaults this model keeps one mask.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np
import pytest
import torch

from paintnoise_desktop.engine.find import proposals
from paintnoise_desktop.engine.find.proposals import REFERENCE, generate_proposals
from paintnoise_desktop.engine.find.sam_model import load_sam
from tests.engine.sam_reference import library_masks, matched_fraction

H, W = 120, 160


def decisive(sam):
    """`sam` made to give distinct masks (see the module's docstring)."""
    from segment_anything import SamPredictor
    from segment_anything.utils.amg import build_point_grid

    decoder = sam.mask_decoder
    with torch.no_grad():
        for layer in decoder.output_upscaling:
            if isinstance(layer, torch.nn.ConvTranspose2d):  # one kernel tap for all four
                layer.weight.copy_(layer.weight[:, :, :1, :1].expand_as(layer.weight))
        for mlp in decoder.output_hypernetworks_mlps:  # steep logits: stability means something
            mlp.layers[-1].weight.mul_(1000.0)
        decoder.mask_tokens.weight.mul_(0.01)  # the point's embedding dominates each mask token
        decoder.iou_prediction_head.layers[-1].bias.add_(0.9)  # IoUs around 0.86
    predictor = SamPredictor(sam)
    predictor.set_image(gradient_photo())
    points = predictor.transform.apply_coords(build_point_grid(8) * np.array([W, H]), (H, W))
    logits, _, _ = predictor.predict_torch(
        torch.as_tensor(points, dtype=torch.float)[:, None],
        torch.ones(len(points), 1, dtype=torch.int),
        return_logits=True,
    )
    sam.mask_threshold = float(logits.flatten()[::5].quantile(0.6))  # masks of ~40% of pixels
    return sam


def gradient_photo() -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W]
    return np.stack(
        [x * 255 // W, y * 255 // H, 255 - (x + y) * 255 // (W + H)], -1
    ).astype(np.uint8)


@pytest.fixture(scope="module")
def sam(tiny_models_dir):
    return decisive(load_sam(tiny_models_dir / "sam-vit-b", "sam-vit-b", torch.device("cpu")))


@cache
def _ours(sam, settings) -> np.ndarray:
    return generate_proposals(sam, gradient_photo(), lambda fraction, message: None, settings).masks


@cache
def _library(sam, settings) -> np.ndarray:
    return library_masks(sam, gradient_photo(), settings)


def _assert_same(sam, settings, at_least: int) -> None:
    library = _library(sam, settings)
    ours = _ours(sam, settings)
    assert len(library) >= at_least and len(ours) >= at_least, (len(library), len(ours))
    assert matched_fraction(library, ours) >= 0.95
    assert matched_fraction(ours, library) >= 0.95


def test_reference_preset_is_the_librarys_defaults():
    from segment_anything import SamAutomaticMaskGenerator

    generator = SamAutomaticMaskGenerator.__init__.__defaults__
    names = SamAutomaticMaskGenerator.__init__.__code__.co_varnames[2 : 2 + len(generator)]
    defaults = dict(zip(names, generator))
    assert (
        REFERENCE.points_per_side,
        REFERENCE.points_per_batch,
        REFERENCE.min_predicted_iou,
        REFERENCE.min_stability,
        REFERENCE.stability_offset,
        REFERENCE.nms_iou,
        round(REFERENCE.min_region_fraction * H * W),
    ) == tuple(
        defaults[name]
        for name in (
            "points_per_side",
            "points_per_batch",
            "pred_iou_thresh",
            "stability_score_thresh",
            "stability_score_offset",
            "box_nms_thresh",
            "min_mask_region_area",
        )
    )
    assert defaults["crop_n_layers"] == 0 and REFERENCE.library_order
    assert REFERENCE.max_proposals is None and REFERENCE.min_keep == 0
    assert proposals.ProposalSettings() != REFERENCE  # the faster settings stay the default


def test_at_the_librarys_defaults_both_keep_the_same_masks(sam):
    _assert_same(sam, REFERENCE, at_least=1)


def test_with_lowered_filters_both_keep_the_same_dozen_masks(sam):
    # IoU 0.75 and stability 0.5 instead of 0.88 and 0.95, so that a dozen masks survive.
    _assert_same(sam, replace(REFERENCE, min_predicted_iou=0.75, min_stability=0.5), at_least=10)


def test_with_a_looser_nms_both_keep_the_same_masks(sam):
    # Box NMS at 0.9 on both sides as well: more near-duplicates reach the ordering.
    settings = replace(REFERENCE, min_predicted_iou=0.75, min_stability=0.5, nms_iou=0.9)
    _assert_same(sam, settings, at_least=20)


def test_removing_small_regions_is_tidied_as_the_library_does(sam):
    # min_mask_region_area 1920 px (a tenth of the photo; exact as a fraction) on both sides.
    loose = replace(REFERENCE, min_predicted_iou=0.75, min_stability=0.5, nms_iou=0.9)
    tidy = replace(loose, min_region_fraction=1920 / (H * W))
    assert tidy.min_region_fraction * H * W == 1920
    untidied, tidied = _ours(sam, loose), _ours(sam, tidy)
    assert matched_fraction(untidied, tidied, min_iou=1.0) < 1.0  # tidying changed something
    _assert_same(sam, tidy, at_least=10)


def test_this_photo_tells_the_fast_order_from_the_librarys(sam):
    """Filtering on the decoder's low-resolution logits keeps other masks here, so the
    tests above would notice if the reference settings fell back to the fast order."""
    settings = replace(REFERENCE, min_predicted_iou=0.75, min_stability=0.5)
    fast = _ours(sam, replace(settings, library_order=False))
    assert matched_fraction(_library(sam, settings), fast) < 0.95
