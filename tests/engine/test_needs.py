"""What an action needs: every missing model named at once, and Replace never removes instead."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from paintnoise_desktop.core.jobs import CancelToken, FindJob, InpaintJob, Status
from paintnoise_desktop.engine.models.needs import (
    AUTOMATIC_INPAINTER,
    OFFLINE_INPAINTER,
    automatic_inpainter,
    find_needs,
    inpaint_needs,
    not_installed,
    purpose,
)
from paintnoise_desktop.engine.models.registry import MODEL_MANAGER_MENU
from paintnoise_desktop.engine.runner import Engine
from paintnoise_desktop.engine.settings import EngineSettings


@pytest.fixture
def empty(tmp_path) -> EngineSettings:
    return EngineSettings(models_dir=tmp_path / "models")


def _with(settings: EngineSettings, *model_ids: str, path) -> EngineSettings:
    """`settings` with these models added by path (a path that exists counts as installed)."""
    return replace(settings, model_paths={**settings.model_paths,
                                          **{model_id: str(path) for model_id in model_ids}})


def _photo_and_mask() -> tuple[np.ndarray, np.ndarray]:
    photo = np.full((64, 64, 3), 120, np.uint8)
    photo[20:40, 20:40] = (230, 20, 20)
    mask = np.zeros((64, 64), np.uint8)
    mask[16:44, 16:44] = 255
    return photo, mask


def _run(job, settings: EngineSettings):
    return Engine(settings).run(job, lambda progress: None, CancelToken())


def test_a_find_with_nothing_installed_names_both_models_in_one_sentence(empty):
    photo, _ = _photo_and_mask()
    result = _run(FindJob(1, photo, "red square"), empty)

    assert result.status is Status.FAILED
    assert result.missing_models == ("sam-vit-b", "clip-vit-base-patch32")
    assert result.message == (
        "Finding \u201cred square\u201d needs Segment Anything ViT-B and CLIP ViT-B/32, which are "
        f"not installed: download them from {MODEL_MANAGER_MENU}, or run: "
        "paintnoise models download sam-vit-b clip-vit-base-patch32.")


def test_a_find_names_only_what_is_missing_and_prefers_the_installed_model(empty, tmp_path):
    with_sam_h = _with(empty, "sam-vit-h", path=tmp_path)
    assert find_needs("segclip", with_sam_h) == ("sam-vit-h", "clip-vit-base-patch32")
    photo, _ = _photo_and_mask()
    result = _run(FindJob(1, photo, "cup"), with_sam_h)
    assert result.missing_models == ("clip-vit-base-patch32",)
    assert "needs CLIP ViT-B/32, which is not installed: download it from" in result.message


def test_a_find_with_both_kinds_installed_needs_nothing_more(empty, tmp_path):
    both = _with(empty, "sam-vit-b", "clip-vit-large-patch14", path=tmp_path)
    assert find_needs("segclip", both) == ("sam-vit-b", "clip-vit-large-patch14")
    assert not_installed(find_needs("segclip", both), both) == ()


def test_replacing_with_words_and_no_diffusion_model_fails_and_removes_nothing(empty):
    photo, mask = _photo_and_mask()
    job = InpaintJob(1, photo, mask, prompt="a wooden bench", inpainter=AUTOMATIC_INPAINTER)
    result = _run(job, empty)

    assert result.status is Status.FAILED
    assert result.missing_models == ("sd2-inpainting",)
    assert result.variants == ()
    assert result.message.startswith(
        "Painting \u201ca wooden bench\u201d needs Stable Diffusion 2 inpainting, which is not "
        "installed: download it from ")
    assert result.message.endswith("paintnoise models download sd2-inpainting.")


def test_removing_needs_no_model_and_uses_the_best_installed(empty, tmp_path):
    assert inpaint_needs(AUTOMATIC_INPAINTER, "", empty) == ()
    assert automatic_inpainter("", empty) == OFFLINE_INPAINTER
    photo, mask = _photo_and_mask()
    result = _run(InpaintJob(1, photo, mask, prompt=" ", inpainter=AUTOMATIC_INPAINTER), empty)
    assert result.ok, result.message
    assert not np.array_equal(result.variants[0].image, photo)

    sd15 = _with(empty, "sd15-inpainting", path=tmp_path)
    assert automatic_inpainter("", sd15) == "sd15-inpainting"
    both = _with(sd15, "sd2-inpainting", path=tmp_path)
    assert automatic_inpainter("", both) == automatic_inpainter("a fork", both) == "sd2-inpainting"


def test_painting_words_asks_for_the_installed_model_else_the_default(empty, tmp_path):
    assert automatic_inpainter("a fork", empty) == "sd2-inpainting"
    sd15 = _with(empty, "sd15-inpainting", path=tmp_path)
    assert inpaint_needs(AUTOMATIC_INPAINTER, "a fork", sd15) == ("sd15-inpainting",)
    assert not_installed(inpaint_needs(AUTOMATIC_INPAINTER, "a fork", sd15), sd15) == ()


def test_an_explicit_offline_inpainter_still_removes_with_a_note(empty):
    photo, mask = _photo_and_mask()
    assert inpaint_needs("opencv-ns", "a fork", empty) == ()
    result = _run(InpaintJob(1, photo, mask, prompt="a fork", inpainter="opencv-ns"), empty)
    assert result.ok
    assert "can only remove" in result.variants[0].note


def test_an_explicit_model_that_is_missing_is_named(empty):
    photo, mask = _photo_and_mask()
    result = _run(InpaintJob(1, photo, mask, inpainter="sd15-inpainting"), empty)
    assert result.missing_models == ("sd15-inpainting",)
    assert result.message.startswith("Removing what is masked needs Stable Diffusion 1.5")


def test_every_catalogue_role_has_plain_words():
    assert purpose("sam-vit-b") == "finds the objects in the photo"
    assert purpose("clip-vit-large-patch14") == "matches the objects to your words"
    assert purpose("sd2-inpainting") == "paints what you type into the photo"
    assert purpose("no-such-model") == ""


def test_the_missing_models_are_named_before_any_model_code_runs(tmp_path):
    """The check runs before the finder: no Segment Anything code for a job that cannot run."""
    code = (
        "import sys, numpy as np\n"
        "from paintnoise_desktop.core.jobs import CancelToken, FindJob\n"
        "from paintnoise_desktop.engine.runner import Engine\n"
        "result = Engine().run(FindJob(1, np.zeros((8, 8, 3), np.uint8), 'cup'),\n"
        "                      lambda progress: None, CancelToken())\n"
        "print(result.missing_models, 'segment_anything' in sys.modules,\n"
        "      'paintnoise_desktop.engine.find.segclip' in sys.modules)\n"
    )
    env = {**os.environ, "PAINTNOISE_MODELS_DIR": str(tmp_path / "models")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True)
    assert out.stdout.strip() == "('sam-vit-b', 'clip-vit-base-patch32') False False"
