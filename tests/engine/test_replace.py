"""The replace pipeline through the Engine, with the OpenCV inpainter (no weights)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from paintnoise_desktop.core.jobs import CancelToken, InpaintJob, Status
from paintnoise_desktop.core.masks import feather
from paintnoise_desktop.engine.inpaint.opencv import WHOLE_PHOTO_MASKED
from paintnoise_desktop.engine.inpaint.removal import (
    REMOVAL_NEGATIVE,
    REMOVAL_PROMPT,
    paint_request,
    removal_negative_prompt,
)
from paintnoise_desktop.engine.inpaint.replace import inpainter_title
from paintnoise_desktop.engine.models.needs import (
    AUTOMATIC_INPAINTER,
    OFFLINE_INPAINTER,
    automatic_inpainter,
)
from paintnoise_desktop.engine.runner import Engine
from paintnoise_desktop.engine.settings import EngineSettings


def _photo(height: int, width: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([(x * 7) % 256, (y * 5) % 256, ((x + y) * 3) % 256], axis=-1)
    return rgb.astype(np.uint8)


def _object_mask(height: int, width: int, box, feather_px: int = 4) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    x0, y0, x1, y1 = box
    mask[y0:y1, x0:x1] = 255
    return feather(mask, feather_px)


def _run(job, cancel=None):
    progress = []
    result = Engine().run(job, progress.append, cancel or CancelToken())
    return result, progress


def test_outside_the_feathered_mask_a_large_photo_keeps_its_bytes():
    photo = _photo(2000, 3000)
    photo[1010:1030, 1510:1550] = (255, 0, 255)
    mask = _object_mask(2000, 3000, (1500, 1000, 1560, 1040))
    before = photo.copy()
    result, _ = _run(InpaintJob(1, photo, mask, inpainter="opencv-telea", seed=5))
    assert result.ok, result.detail
    (variant,) = result.variants
    assert np.array_equal(variant.image[mask == 0], photo[mask == 0])
    assert np.array_equal(photo, before), "the job's photo was modified"
    x0, y0, x1, y1 = variant.box
    changed = np.argwhere(np.any(variant.image != photo, axis=-1))
    assert changed.size and (changed.min(0) >= (y0, x0)).all() and (changed.max(0) < (y1, x1)).all()
    assert variant.seed == 5
    # the magenta object is gone: the repainted pixels continue the surroundings
    assert not np.any(np.all(variant.image[1010:1030, 1510:1550] == (255, 0, 255), axis=-1))


def test_fully_masked_pixels_are_repainted_and_unmasked_ones_keep_their_bytes():
    photo = np.full((120, 160, 3), 90, np.uint8)
    photo[50:70, 60:100] = (250, 250, 20)
    mask = _object_mask(120, 160, (55, 45, 105, 75), feather_px=6)
    result, _ = _run(InpaintJob(1, photo, mask))
    image = result.variants[0].image
    full = mask == 255
    assert np.abs(image[full].astype(int) - 90).max() <= 6  # repainted as the grey surroundings
    soft = (mask > 0) & (mask < 255)
    assert soft.any() and np.array_equal(image[mask == 0], photo[mask == 0])


def test_regions_far_apart_are_both_repainted():
    photo = np.full((400, 600, 3), 40, np.uint8)
    photo[20:40, 20:40] = 255
    photo[350:380, 540:580] = 255
    mask = np.zeros((400, 600), np.uint8)
    mask[15:45, 15:45] = 255
    mask[345:385, 535:585] = 255
    result, _ = _run(InpaintJob(1, photo, mask, inpainter="opencv-ns"))
    image = result.variants[0].image
    assert image[20:40, 20:40].max() < 60 and image[350:380, 540:580].max() < 60
    assert result.variants[0].box == (15, 15, 585, 385)


def test_the_offline_inpainter_makes_one_variant_and_says_why():
    # It has no seed; variants with seeds are tested with the tiny diffusion model.
    photo = _photo(64, 64)
    mask = _object_mask(64, 64, (20, 20, 40, 40))
    result, _ = _run(InpaintJob(1, photo, mask, variants=3))
    [variant] = result.variants
    assert "made one variant" in variant.note


def test_the_automatic_inpainter_is_chosen_on_the_engine_thread(tmp_path):
    mask = _object_mask(64, 64, (20, 20, 40, 40))
    job = InpaintJob(1, _photo(64, 64), mask, inpainter=AUTOMATIC_INPAINTER)
    result, progress = _run(job)  # no model installed: the offline inpainter
    assert result.ok, result.detail
    assert progress[0].message == "Preparing the offline inpainter\u2026"


def test_progress_runs_from_start_to_done():
    photo = _photo(400, 600)
    mask = np.zeros((400, 600), np.uint8)
    mask[15:45, 15:45] = 255
    mask[345:385, 535:585] = 255  # far apart: two areas, each reported
    _, progress = _run(InpaintJob(1, photo, mask))
    fractions = [p.fraction for p in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("area 2/2" in p.message for p in progress)


def test_cancel_during_the_job_returns_no_variant_and_leaves_the_photo_alone():
    photo = _photo(300, 300)
    mask = np.zeros((300, 300), np.uint8)
    mask[10:30, 10:30] = 255
    mask[260:290, 260:290] = 255
    before = photo.copy()
    token = CancelToken()
    progress = []

    def report(message):
        progress.append(message)
        if message.message.startswith("Painting"):
            token.cancel()

    result = Engine().run(InpaintJob(1, photo, mask, variants=2), report, token)
    assert result.status is Status.CANCELLED
    assert result.variants == ()
    assert np.array_equal(photo, before)
    assert sum(p.message.startswith("Painting") for p in progress) == 1


@pytest.mark.parametrize(
    "mask, words",
    [
        (np.zeros((64, 64), np.uint8), "Nothing is masked"),
        (np.full((32, 64), 255, np.uint8), "does not match"),
    ],
)
def test_bad_masks_fail_with_a_sentence_for_the_user(mask, words):
    result, _ = _run(InpaintJob(1, _photo(64, 64), mask))
    assert result.status is Status.FAILED
    assert words in result.message


@pytest.mark.parametrize("fields", [{"variants": 0}, {"steps": 0}, {"strength": 0.0}, {"strength": 1.5}])
def test_impossible_settings_fail_with_a_sentence_for_the_user(fields):
    mask = _object_mask(64, 64, (20, 20, 40, 40))
    result, _ = _run(InpaintJob(1, _photo(64, 64), mask, **fields))
    assert result.status is Status.FAILED
    assert result.message.endswith(".") and "went wrong" not in result.message


def test_a_model_that_is_not_installed_is_reported_missing():
    mask = _object_mask(64, 64, (20, 20, 40, 40))
    result, _ = _run(InpaintJob(1, _photo(64, 64), mask, inpainter="sd15-inpainting"))
    assert result.status is Status.FAILED
    assert result.missing_models == ("sd15-inpainting",)


def test_removal_asks_for_background_and_names_the_object_in_the_negative_prompt():
    job = InpaintJob(1, _photo(8, 8), np.zeros((8, 8), np.uint8), prompt="  ",
                     find_text="red car", negative_prompt="blurry", steps=12, guidance=5.0)
    request = paint_request(job)
    assert request.prompt == REMOVAL_PROMPT
    assert request.negative_prompt == f"red car, {REMOVAL_NEGATIVE}, blurry"
    assert (request.steps, request.guidance) == (12, 5.0)
    assert removal_negative_prompt("", "") == REMOVAL_NEGATIVE


def test_replacing_keeps_the_users_prompts():
    job = InpaintJob(1, _photo(8, 8), np.zeros((8, 8), np.uint8), prompt=" a blue van ",
                     find_text="red car", negative_prompt="people")
    request = paint_request(job)
    assert (request.prompt, request.negative_prompt) == ("a blue van", "people")


def test_the_automatic_inpainter_is_the_best_installed_one(tmp_path):
    empty = EngineSettings(models_dir=tmp_path / "models")
    assert automatic_inpainter("", empty) == OFFLINE_INPAINTER == "opencv-telea"
    sd15 = replace(empty, model_paths={"sd15-inpainting": str(tmp_path)})
    assert automatic_inpainter("", sd15) == "sd15-inpainting"
    both = replace(sd15, model_paths={**sd15.model_paths, "sd2-inpainting": str(tmp_path)})
    assert automatic_inpainter("", both) == "sd2-inpainting"


def test_replacing_with_words_automatically_never_removes_instead(tmp_path):
    mask = _object_mask(64, 64, (20, 20, 40, 40))
    job = InpaintJob(1, _photo(64, 64), mask, prompt="a wooden bench",
                     inpainter=AUTOMATIC_INPAINTER)
    result, _ = _run(job)
    assert result.status is Status.FAILED and result.variants == ()
    assert result.missing_models == ("sd2-inpainting",)


def test_progress_names_the_inpainter_as_the_user_knows_it():
    mask = _object_mask(64, 64, (20, 20, 40, 40))
    _, progress = _run(InpaintJob(1, _photo(64, 64), mask, inpainter="opencv-ns"))
    assert progress[0].message == "Preparing the offline inpainter\u2026"
    assert inpainter_title("sd2-inpainting") == "Stable Diffusion 2 inpainting"
    assert not any("opencv" in p.message for p in progress)


def test_the_offline_inpainter_says_it_can_only_remove_when_asked_to_paint_something():
    mask = _object_mask(64, 64, (20, 20, 40, 40))
    asked, _ = _run(InpaintJob(1, _photo(64, 64), mask, prompt="a blue van"))
    assert asked.ok
    note = asked.variants[0].note
    assert "can only remove" in note and "\u201ca blue van\u201d" in note
    removed, _ = _run(InpaintJob(1, _photo(64, 64), mask, prompt=""))
    assert removed.variants[0].note == ""


def test_a_mask_over_the_whole_photo_is_refused_by_the_offline_inpainter():
    photo = _photo(64, 64)
    result, _ = _run(InpaintJob(1, photo, np.full((64, 64), 255, np.uint8)))
    assert result.status is Status.FAILED
    assert result.message == WHOLE_PHOTO_MASKED and result.variants == ()
