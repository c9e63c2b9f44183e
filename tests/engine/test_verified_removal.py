"""Verified removal: the real OpenCV remover with a re-find whose answer is known
(the controlled embedder of the SegCLIP tests over colour blobs), then the whole job
through the engine with the tiny SegCLIP models."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from paintnoise_desktop.core.jobs import CancelToken, InpaintJob
from paintnoise_desktop.engine.find.segclip import describe_photo, rank_candidates
from paintnoise_desktop.engine.inpaint.replace import replace
from paintnoise_desktop.engine.inpaint.verified_removal import (
    check_region,
    region_box,
    verified_removal,
)
from paintnoise_desktop.engine.models.model_store import ModelStore
from paintnoise_desktop.engine.runner import Engine
from tests.engine.test_segclip import ControlledEmbedder, fixed_proposals, shapes_photo

SQUARE = (10, 10, 50, 50)  # the red square of shapes_photo


def controlled_refind(crop: np.ndarray, phrase: str, step) -> list:
    """Proposals: each saturated blob and the rest; ranked by the controlled embedder."""
    ink = (np.ptp(crop.astype(int), axis=2) > 60).astype(np.uint8)
    count, labels = cv2.connectedComponents(ink)
    proposals = {f"blob {i}": labels == i for i in range(1, count)}
    if (ink == 0).any():
        proposals["rest"] = ink == 0
    embedder = ControlledEmbedder()
    entry = describe_photo(crop, crop.shape[:2], fixed_proposals(proposals), embedder,
                           lambda fraction, message: None)
    step(1.0, "Ranking")
    return rank_candidates(entry, embedder, phrase)


def inner_mask(border: int) -> np.ndarray:
    """A mask over the red square less `border` pixels on every side (too tight)."""
    mask = np.zeros((120, 160), np.uint8)
    x0, y0, x1, y1 = SQUARE
    mask[y0 + border:y1 - border, x0 + border:x1 - border] = 255
    return mask


class RecordingRemover:
    """The real Replace with the offline remover; remembers each attempt's mask and seed."""

    def __init__(self, settings) -> None:
        self.models = ModelStore(settings)
        self.attempts: list[InpaintJob] = []

    def __call__(self, job: InpaintJob, step) -> list:
        self.attempts.append(job)
        return replace(job, self.models, step, CancelToken())


def removal_job(mask: np.ndarray, retries: int = 2) -> InpaintJob:
    photo, _ = shapes_photo()
    return InpaintJob(1, photo, mask, find_text="red square", inpainter="opencv-telea",
                      seed=7, verify=True, verify_retries=retries)


def run(job: InpaintJob, remover: RecordingRemover):
    progress = []
    variants, verification = verified_removal(
        job, remover, controlled_refind, lambda f, m, preview=None: progress.append(f))
    assert progress == sorted(progress) and progress[-1] == 1.0
    return variants, verification


def test_still_found_repaints_with_a_grown_mask_and_a_new_seed_then_stops_once_gone(settings):
    remover = RecordingRemover(settings)
    variants, verification = run(removal_job(inner_mask(3)), remover)
    first, second = remover.attempts
    assert (second.mask >= first.mask).all() and second.mask.sum() > first.mask.sum()
    assert second.seed != first.seed
    assert verification.attempts == 2 and verification.gone and verification.found_before
    assert verification.before > 0.5 and verification.after[0] > 0.5
    assert verification.after[1] < 1e-6  # only plain background is left in the region
    assert verification.sentence == ("The red square was still found; repainted again with a "
                                     "larger mask, and now it is gone.")
    x0, y0, x1, y1 = SQUARE
    assert np.ptp(variants[0].image[y0:y1, x0:x1].astype(int), axis=2).max() <= 60
    assert verification.before_candidates[0].score == verification.before
    assert all(c.score < 1e-6 for c in verification.after_candidates)


def test_gone_at_the_first_check_paints_once(settings):
    mask = np.zeros((120, 160), np.uint8)
    mask[6:54, 6:54] = 255
    remover = RecordingRemover(settings)
    _, verification = run(removal_job(mask), remover)
    assert len(remover.attempts) == 1
    assert verification.attempts == 1 and verification.gone
    assert verification.sentence == "The red square is gone."


def test_what_did_not_match_even_before_is_not_called_gone(settings):
    mask = np.zeros((120, 160), np.uint8)
    mask[95:110, 120:150] = 255  # plain background: nothing there matches the words
    remover = RecordingRemover(settings)
    _, verification = run(removal_job(mask), remover)
    assert len(remover.attempts) == 1 and not verification.found_before
    assert verification.sentence == ("The red square did not match clearly there even before "
                                     "removing, so the check cannot tell whether it is gone.")


@pytest.mark.parametrize("retries", [0, 1])
def test_the_retry_limit_is_kept(settings, retries):
    remover = RecordingRemover(settings)  # a 10 px rim stays red after one grow
    _, verification = run(removal_job(inner_mask(10), retries), remover)
    assert len(remover.attempts) == verification.attempts == retries + 1
    assert not verification.gone and len(verification.after) == retries + 1
    assert verification.sentence.endswith("still there.")


def test_a_candidate_outside_the_mask_does_not_count():
    photo, _ = shapes_photo()
    mask = np.zeros((120, 160), np.uint8)
    mask[52:60, 20:40] = 255  # a strip under the red square: the square lies in the crop
    assert region_box(mask)[1] < 50
    check = check_region(photo, mask, "red square", controlled_refind, lambda *a, **k: None)
    assert not check.found
    assert [c.box for c in check.candidates] == [(0, 6, 36, 24)]  # the plain rest, not the square


def test_the_engine_checks_with_the_tiny_segclip_and_the_offline_remover(models_env):
    job = removal_job(inner_mask(3))
    progress = []
    result = Engine().run(job, progress.append, CancelToken())
    assert result.ok, result.detail
    verification = result.verification
    assert verification is not None and verification.phrase == "red square"
    assert 1 <= verification.attempts <= 3 and len(verification.after) == verification.attempts
    assert verification.gone or verification.attempts == 3
    assert verification.sentence.startswith("The red square")
    x0, y0, x1, y1 = result.variants[0].box
    outside = np.ones((120, 160), bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(result.variants[0].image[outside], job.image[outside])
    fractions = [p.fraction for p in progress]
    assert fractions == sorted(fractions)


def test_only_a_removal_of_found_words_is_verified(models_env):
    photo, _ = shapes_photo()
    plain = InpaintJob(1, photo, inner_mask(3), find_text="red square",
                       inpainter="opencv-telea")
    assert not plain.verifies
    painting = InpaintJob(1, photo, inner_mask(3), prompt="a cat", find_text="red square",
                          inpainter="opencv-telea", verify=True)
    assert not painting.verifies
    result = Engine().run(plain, lambda p: None, CancelToken())
    assert result.ok and result.verification is None


def test_a_verified_removal_needs_the_find_models(tmp_path, monkeypatch):
    monkeypatch.setenv("PAINTNOISE_MODELS_DIR", str(tmp_path))
    result = Engine().run(removal_job(inner_mask(3)), lambda p: None, CancelToken())
    assert result.missing_models == ("sam-vit-b", "clip-vit-base-patch32")


def test_edit_verify_prints_the_scores_and_what_was_done(models_env, tmp_path, capsys):
    from PIL import Image

    from paintnoise_desktop.cli import main as cli

    photo, _ = shapes_photo()
    path, out = tmp_path / "photo.png", tmp_path / "out.png"
    Image.fromarray(photo).save(path)
    # --tight: grown, the tiny SAM's mask would cover the whole photo, past what OpenCV fills
    code = cli.main(["edit", str(path), "--find", "red square", "--tight", "--verify",
                     "--verify-retries", "1", "--inpainter", "opencv-telea", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    lines = err.splitlines()
    check = next(i for i, line in enumerate(lines) if line.startswith('check "red square"'))
    scores = lines[check].split("after each attempt ")[1].split(", ")
    assert 1 <= len(scores) <= 2 and all(0 <= float(score) <= 1 for score in scores)
    assert "score there before " in lines[check]
    assert lines[check + 1].startswith("The red square")
    assert out.is_file()


def test_edit_verify_is_for_removals_of_found_words(models_env, tmp_path, capsys):
    from paintnoise_desktop.cli import main as cli

    with pytest.raises(SystemExit) as exit_:
        cli.main(["edit", str(tmp_path / "p.png"), "--find", "cup", "--replace", "a fork",
                  "--verify", "-o", str(tmp_path / "o.png")])
    assert exit_.value.code == 2
    assert "--verify checks a removal of what --find names" in capsys.readouterr().err
