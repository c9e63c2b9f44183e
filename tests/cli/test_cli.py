"""The command line, run in-process (`cli.main`) and once as the installed command."""

from __future__ import annotations

import _thread
import hashlib
import io
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from paintnoise_desktop import __version__
from paintnoise_desktop.cli import main as cli
from paintnoise_desktop.cli.jobs import TextProgress

W, H = 96, 64
SQUARE = (slice(20, 44), slice(30, 62))  # rows, columns of the red square the mask covers


def _photo_pixels() -> np.ndarray:
    """A smooth gradient with a red square: something an inpainter visibly removes."""
    y, x = np.mgrid[0:H, 0:W]
    rgb = np.stack([x * 2, y * 3, 120 + (x + y) // 2], axis=-1).astype(np.uint8)
    rgb[SQUARE] = (230, 20, 20)
    return rgb


def _mask_pixels() -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    rows, cols = SQUARE
    mask[rows.start - 2:rows.stop + 2, cols.start - 2:cols.stop + 2] = 255
    return mask


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "photo.png"
    Image.fromarray(_photo_pixels(), "RGB").save(path)
    return path


@pytest.fixture
def mask(tmp_path) -> Path:
    path = tmp_path / "mask.png"
    Image.fromarray(_mask_pixels(), "L").save(path)
    return path


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def _assert_error(code: int, stderr: str, *words: str) -> None:
    """Exit 1; the last line is the error, the lines before it only progress; no traceback."""
    assert code == 1
    *before, last = _error_lines(stderr)
    assert last.startswith("paintnoise: error: "), stderr
    assert all(line.startswith("[") for line in before), stderr
    assert "Traceback" not in stderr
    for word in words:
        assert word in last


def _assert_one_line_error(code: int, stderr: str, *words: str) -> None:
    """An error found before any work: the error line is all there is."""
    _assert_error(code, stderr, *words)
    assert len(_error_lines(stderr)) == 1, stderr


# --- version and usage ---------------------------------------------------------------------


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"paintnoise {__version__}"


def test_edit_needs_a_mask_or_words(photo, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["edit", str(photo), "-o", str(tmp_path / "out.png")])
    assert exit_info.value.code == 2
    assert "--mask" in capsys.readouterr().err


def test_mask_file_with_find_options_is_a_usage_error(photo, mask, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["edit", str(photo), "--mask", str(mask), "--grow", "4",
                  "-o", str(tmp_path / "out.png")])
    assert exit_info.value.code == 2
    assert "with --mask the mask is used as it is" in capsys.readouterr().err
    assert not (tmp_path / "out.png").exists()


def test_a_photo_alone_means_open(monkeypatch, photo):
    opened = []
    monkeypatch.setattr("paintnoise_desktop.app.open_window", lambda path: opened.append(path) or 0)
    assert cli.main([str(photo)]) == 0
    assert cli.main([]) == 0
    assert cli.main(["--debug", str(photo)]) == 0
    assert opened == [str(photo), None, str(photo)]


# --- edit with a mask file, OpenCV ------------------------------------------------------------


def test_edit_with_mask_repaints_inside_and_keeps_outside(photo, mask, tmp_path, capsys):
    out = tmp_path / "out.png"
    before = _digest(photo)
    code = cli.main(["edit", str(photo), "--mask", str(mask), "--inpainter", "opencv-telea",
                     "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    assert capsys.readouterr().out.strip() == str(out)
    assert _digest(photo) == before
    result = np.asarray(Image.open(out).convert("RGB"))
    original = _photo_pixels()
    outside = _mask_pixels() == 0
    assert np.array_equal(result[outside], original[outside])
    red = result[SQUARE][..., 0].astype(int) - result[SQUARE][..., 1]
    assert red.mean() < 100  # the red square is gone (it was 210)


def test_default_inpainter_without_models_is_opencv(photo, mask, tmp_path, capsys):
    code = cli.main(["edit", str(photo), "--mask", str(mask), "-o", str(tmp_path / "out.png")])
    assert code == 0
    assert "opencv-telea" in capsys.readouterr().err


def test_edit_keeps_exif_and_colour_profile(tmp_path, mask, capsys):
    photo = tmp_path / "photo.jpg"
    exif = Image.Exif()
    exif[0x010F] = "PaintNoise Test Camera"  # Make
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(_photo_pixels()).save(photo, quality=95, exif=exif, icc_profile=icc)
    out = tmp_path / "out.jpg"
    assert cli.main(["edit", str(photo), "--mask", str(mask), "-o", str(out)]) == 0
    with Image.open(out) as image:
        assert image.getexif()[0x010F] == "PaintNoise Test Camera"
        assert image.info["icc_profile"] == icc


def test_edit_keeps_transparency(tmp_path, mask, capsys):
    photo = tmp_path / "photo.png"
    alpha = np.tile(np.linspace(0, 255, W).astype(np.uint8), (H, 1))
    Image.fromarray(np.dstack([_photo_pixels(), alpha]), "RGBA").save(photo)
    out = tmp_path / "out.png"
    assert cli.main(["edit", str(photo), "--mask", str(mask), "-o", str(out)]) == 0
    assert np.array_equal(np.asarray(Image.open(out))[..., 3], alpha)


def test_the_offline_inpainter_makes_one_variant_and_says_so(photo, mask, tmp_path, capsys):
    out = tmp_path / "out.png"
    code = cli.main(["edit", str(photo), "--mask", str(mask), "--variants", "2", "-o", str(out)])
    assert code == 0
    assert (tmp_path / "out-1.png").is_file()
    assert not (tmp_path / "out-2.png").exists() and not out.exists()
    assert "made one variant" in capsys.readouterr().err


# --- refusing to write over things ----------------------------------------------------------


def test_refuses_to_write_over_the_input(photo, mask, capsys):
    before = _digest(photo)
    code = cli.main(["edit", str(photo), "--mask", str(mask), "-o", str(photo)])
    _assert_one_line_error(code, capsys.readouterr().err, "input photo", "--overwrite")
    assert _digest(photo) == before


def test_overwrite_allows_writing_over_the_input(photo, mask, capsys):
    before = _digest(photo)
    assert cli.main(["edit", str(photo), "--mask", str(mask), "-o", str(photo),
                     "--overwrite"]) == 0
    assert _digest(photo) != before


def test_refuses_an_existing_output(photo, mask, tmp_path, capsys):
    out = tmp_path / "out-2.png"
    out.write_bytes(b"keep me")
    code = cli.main(["edit", str(photo), "--mask", str(mask), "--variants", "2",
                     "-o", str(tmp_path / "out.png")])
    _assert_one_line_error(code, capsys.readouterr().err, "already exists")
    assert out.read_bytes() == b"keep me"
    assert not (tmp_path / "out-1.png").exists()


# --- errors: one line, exit 1, traceback only with --debug -------------------------------------


def test_missing_photo(mask, tmp_path, capsys):
    code = cli.main(["edit", str(tmp_path / "nope.jpg"), "--mask", str(mask),
                     "-o", str(tmp_path / "out.png")])
    _assert_one_line_error(code, capsys.readouterr().err, "nope.jpg")


def test_broken_photo(mask, tmp_path, capsys):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG" * 10)
    code = cli.main(["edit", str(broken), "--mask", str(mask), "-o", str(tmp_path / "out.png")])
    _assert_one_line_error(code, capsys.readouterr().err, "broken.jpg")


def test_mask_of_the_wrong_size(photo, tmp_path, capsys):
    small = tmp_path / "small-mask.png"
    Image.new("L", (W // 2, H // 2), 255).save(small)
    code = cli.main(["edit", str(photo), "--mask", str(small), "-o", str(tmp_path / "out.png")])
    _assert_one_line_error(code, capsys.readouterr().err, f"{W // 2} x {H // 2}", f"{W} x {H}")
    assert not (tmp_path / "out.png").exists()


def test_empty_mask(photo, tmp_path, capsys):
    empty = tmp_path / "empty.png"
    Image.new("1", (W, H), 0).save(empty)
    code = cli.main(["edit", str(photo), "--mask", str(empty), "-o", str(tmp_path / "out.png")])
    _assert_one_line_error(code, capsys.readouterr().err, "empty")


def test_missing_model_says_how_to_get_it(photo, mask, tmp_path, capsys):
    code = cli.main(["edit", str(photo), "--mask", str(mask), "--inpainter", "sd2-inpainting",
                     "-o", str(tmp_path / "out.png")])
    _assert_error(code, capsys.readouterr().err, "paintnoise models download sd2-inpainting")


def test_debug_shows_the_traceback(mask, tmp_path, capsys):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a photo at all")
    code = cli.main(["edit", str(broken), "--mask", str(mask), "-o", str(tmp_path / "out.png"),
                     "--debug"])
    assert code == 1
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert err.strip().splitlines()[-1].startswith("paintnoise: error: ")


def test_ctrl_c_cancels_the_job_and_exits_130(photo, mask, tmp_path, monkeypatch, capsys):
    """Ctrl-C arrives (as in a terminal) while the job reports progress; nothing is written."""
    report = TextProgress.__call__
    interrupted = []

    def interrupt_once(self, progress):
        report(self, progress)
        if not interrupted:
            interrupted.append(progress.message)
            _thread.interrupt_main()
            time.sleep(1.0)  # the job's next step then finds the cancel flag set

    monkeypatch.setattr(TextProgress, "__call__", interrupt_once)
    out = tmp_path / "out.png"
    code = cli.main(["edit", str(photo), "--mask", str(mask), "-o", str(out)])
    assert code == 130
    assert interrupted
    assert not out.exists()
    assert "cancelled" in capsys.readouterr().err


def test_text_progress_writes_a_line_per_new_message():
    from paintnoise_desktop.core.jobs import Progress

    stream = io.StringIO()
    progress = TextProgress(stream)
    for fraction, message in [(0.0, "Loading"), (0.5, "Painting"), (0.7, "Painting")]:
        progress(Progress(1, fraction, message))
    assert stream.getvalue().splitlines() == ["[  0%] Loading", "[ 50%] Painting"]


# --- with the tiny models: find by words ----------------------------------------------------


def test_mask_command_writes_a_full_size_mask(models_env, photo, tmp_path, capsys):
    out = tmp_path / "found.png"
    code = cli.main(["mask", str(photo), "--find", "red square", "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    with Image.open(out) as image:
        assert image.mode == "L" and image.size == (W, H)
        assert np.asarray(image).any()
    assert "score" in captured.err
    assert "*" in captured.err  # the chosen candidate is marked


def test_mask_command_tight_mask_is_binary(models_env, photo, tmp_path, capsys):
    out = tmp_path / "found.png"
    assert cli.main(["mask", str(photo), "--find", "square", "--all", "--tight",
                     "-o", str(out)]) == 0
    values = set(np.unique(np.asarray(Image.open(out))).tolist())
    assert values <= {0, 255}


def test_edit_find_replace_with_diffusion_variants(models_env, photo, tmp_path, capsys):
    out = tmp_path / "out.png"
    code = cli.main(["edit", str(photo), "--find", "red square", "--replace", "a blue circle",
                     "--inpainter", "sd2-inpainting", "--steps", "2", "--seed", "1",
                     "--variants", "2", "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    for k in (1, 2):
        with Image.open(tmp_path / f"out-{k}.png") as image:
            assert image.size == (W, H)
    assert "seed 1" in captured.err and "seed 2" in captured.err


def test_bench_times_every_stage(models_env, photo, capsys):
    # The tiny random SAM proposes the whole photo, which only a diffusion model can repaint.
    code = cli.main(["bench", str(photo), "--find", "red square",
                     "--inpainter", "sd2-inpainting", "--steps", "1"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    lines = captured.out.splitlines()
    assert lines[0].startswith(f"photo {W} x {H}, device cpu, inpainter sd2-inpainting")
    stages = [line.rsplit(None, 2) for line in lines[1:]]
    assert [stage[0] for stage in stages] == [
        "open the photo", "find, first (loads models)", "find again (same photo, from its cache)",
        "full-size mask (resize, post-process)", "replace, first (loads sd2-inpainting)",
        "replace again"]
    assert all(float(seconds) >= 0 and unit == "s" for _, seconds, unit in stages)


# --- the installed command ------------------------------------------------------------------


def _run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=300)


def _paintnoise_command() -> list[str]:
    script = Path(sys.executable).with_name("paintnoise")
    if script.exists():
        return [str(script)]
    found = shutil.which("paintnoise")
    return [found] if found else [sys.executable, "-m", "paintnoise_desktop"]


def test_installed_command_edits_and_reports_errors(photo, mask, tmp_path):
    out = tmp_path / "out.png"
    done = _run([*_paintnoise_command(), "edit", str(photo), "--mask", str(mask),
                 "--inpainter", "opencv-ns", "-o", str(out)])
    assert done.returncode == 0, done.stderr
    assert out.is_file()
    done = _run([*_paintnoise_command(), "edit", str(tmp_path / "missing.png"),
                 "--mask", str(mask), "-o", str(tmp_path / "x.png")])
    _assert_one_line_error(done.returncode, done.stderr, "missing.png")


def test_python_dash_m_prints_the_version():
    done = _run([sys.executable, "-m", "paintnoise_desktop", "--version"])
    assert done.returncode == 0
    assert done.stdout.strip() == f"paintnoise {__version__}"


def test_installed_command_opens_the_sample_in_the_window():
    """`paintnoise PHOTO` starts the real window (offscreen), which closes itself when asked."""
    sample = Path(__file__).resolve().parents[2] / "resources" / "sample.jpg"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PAINTNOISE_QUIT_AFTER_MS": "500"}
    done = subprocess.run([*_paintnoise_command(), str(sample)], check=False, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "PAINTNOISE_QUIT_AFTER_MS: closing ['sample.jpg" in done.stderr


def test_a_smoke_run_ends_even_while_it_asks_about_a_crashed_session(tmp_path):
    """PAINTNOISE_QUIT_AFTER_MS ends the app while the recovery question is open (it used to
    wait for an answer forever), and answers "later": the session stays to be offered again."""
    from paintnoise_desktop.core.project import state_of, write_project
    from paintnoise_desktop.core.recovery import RECOVERY_DIR_ENV, orphans
    from tests.core.test_project import _edited

    folder = tmp_path / "recovery"
    folder.mkdir()
    document, original = _edited()
    write_project(folder / "0123456789abcdef.paintnoise", state_of(document, original))
    (folder / "0123456789abcdef.lock").write_text("1\n")  # a lock nobody holds: a crash
    assert len(orphans(folder)) == 1
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PAINTNOISE_QUIT_AFTER_MS": "500",
           RECOVERY_DIR_ENV: str(folder)}
    done = subprocess.run([*_paintnoise_command()], check=False, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "PAINTNOISE_QUIT_AFTER_MS: closing" in done.stderr
    assert len(orphans(folder)) == 1


def test_reference_proposals_are_asked_for_by_the_find_job(models_env, photo, tmp_path, capsys,
                                                           monkeypatch):
    from paintnoise_desktop.cli import mask as mask_command

    jobs = []
    real_run_job = mask_command.run_job

    def recording_run_job(engine, job, progress):
        jobs.append(job)
        return real_run_job(engine, job, progress)

    monkeypatch.setattr(mask_command, "run_job", recording_run_job)
    cli.main(["mask", str(photo), "--find", "red square", "--reference",
              "-o", str(tmp_path / "found.png")])
    assert [job.reference for job in jobs] == [True]


def test_reference_with_a_given_mask_is_a_usage_error(photo, tmp_path, capsys):
    mask = tmp_path / "mask.png"
    Image.fromarray(np.full((H, W), 255, np.uint8)).save(mask)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["edit", str(photo), "--mask", str(mask), "--reference",
                  "-o", str(tmp_path / "out.png")])
    assert exit_info.value.code == 2
    assert "--reference" in capsys.readouterr().err
