"""benchmarks/gpu_check.sh: it parses, refuses a machine without CUDA, passes only flags
its benchmarks accept, fits in 8 minutes, and its table is built from what the steps print.

The GPU run itself cannot happen here; these checks make its first run likely to work.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.sh"
TABLE = ROOT / "benchmarks" / "gpu_table.py"
CUDA_MARK = "@pytest.mark." + "cuda"  # spelled apart, so this file is not one of them


def _run(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        args,
        check=False,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHON": sys.executable, **env},
        timeout=120,
    )


def _steps() -> list[tuple[str, int, list[str]]]:
    result = _run("bash", str(SCRIPT), "--dry-run")
    assert result.returncode == 0, result.stderr
    steps = []
    for line in result.stdout.splitlines():
        found = re.fullmatch(r"step (.+) \(limit (\d+) s\): (.+)", line)
        assert found, line
        steps.append((found[1], int(found[2]), shlex.split(found[3])))
    return steps


def test_the_script_is_valid_bash():
    result = _run("bash", "-n", str(SCRIPT))
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_without_cuda_it_says_so_and_exits_2(tmp_path):
    result = _run("bash", str(SCRIPT), GPU_CHECK_LOGS=str(tmp_path / "logs"))
    assert result.returncode == 2
    assert result.stdout.strip() == "no CUDA GPU: nothing to check"
    assert not (tmp_path / "logs").exists()  # no step ran


def test_unknown_arguments_are_refused():
    result = _run("bash", str(SCRIPT), "--tiny")
    assert result.returncode == 64 and "usage" in result.stderr


def test_the_steps_fit_in_eight_minutes_and_cover_the_issue():
    steps = _steps()
    assert sum(limit for _, limit, _ in steps) <= 8 * 60
    commands = {name: command for name, _, command in steps}
    tests, find, replace, guided = commands.values()
    assert tests[1:4] == ["-m", "pytest", "-q"] and "-m" in tests[4:] and "cuda" in tests
    assert find[1:] == ["benchmarks/bench_find.py", "--full", "--repeats", "3"]
    assert replace[1] == "benchmarks/bench_replace.py" and "--full" in replace
    assert replace[replace.index("--steps") + 1] == "25"
    assert replace[replace.index("--profile") + 1] == "keep,offload"
    assert guided[1:] == ["benchmarks/bench_guided.py", "--full", "--steps", "10"]


def test_the_cuda_step_runs_every_file_with_cuda_marked_tests():
    tests = _steps()[0][2]
    files = sorted(word for word in tests if word.endswith(".py"))
    marked = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "tests").rglob("test_*.py")
        if CUDA_MARK in path.read_text()
    )
    assert files == marked and len(files) >= 2


@pytest.mark.parametrize("step", [1, 2, 3], ids=["find", "replace", "guided"])
def test_every_flag_a_benchmark_step_passes_exists(step):
    command = _steps()[step][2]
    script, args = command[1], command[2:]
    # argparse reads (and type-checks) the flags before it reaches --help and exits
    result = _run(sys.executable, script, *args, "--help")
    assert result.returncode == 0, result.stderr
    for flag in (word for word in args if word.startswith("--")):
        assert re.search(rf"(^|\s){re.escape(flag)}\b", result.stdout), flag


FIND_LOG = """\
device cuda, full-size models (loaded in 31.2 s), photo 1600x1200, working 1024x768, app \
defaults 24x24 points, reference 32x32 in the library's order, 8 proposals (+40 of the photo's \
objects), threads 16, median of 3
  stage                                               ours
  proposals (SAM encode + decode + filter)          95.1 ms  8 proposals
  CLIP image embeddings                             20.4 ms  48 crops
  re-query (cached photo)                            1.9 ms
  proposals, reference settings                    410.0 ms  0 proposals
  first query: baseline / ours = 4.1x; re-query: baseline / ours = 350x
  match, reference settings: library kept no mask, ours 0: no match rate
"""
REPLACE_LOG = """\
SD 2 inpainting (full size, random weights); device cuda (torch.float16), 25 steps, best of 1
512 px  diffusion, ours, keep    :              1575.2 ms  peak GPU 4.1 GB
512 px  diffusers padding_mask_crop:              502.1 ms  (0.32x ours)
"""
PYTEST_LOG = "sss\n3 passed, 2 skipped, 512 deselected in 41.20s\n"


def _write_steps(folder: Path, steps: list[tuple[str, int, float, str]]) -> None:
    lines = []
    for number, (name, status, seconds, text) in enumerate(steps):
        log = folder / f"step{number}.log"
        log.write_text(text)
        lines.append(f"{name}\t{status}\t{seconds}\t240\t{log}")
    (folder / "steps.tsv").write_text("\n".join(lines) + "\n")


def test_the_table_has_a_row_per_timed_line_and_per_step(tmp_path):
    _write_steps(
        tmp_path,
        [
            ("CUDA tests", 0, 44.0, PYTEST_LOG),
            ("find", 0, 120.5, FIND_LOG),
            ("replace", 0, 200.0, REPLACE_LOG),
        ],
    )
    result = _run(sys.executable, str(TABLE), str(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["stage", "setting", "time"] and set(lines[1]) == {"-"}
    rows = [re.split(r"\s{2,}", line.strip()) for line in lines[2:]]
    assert rows == [
        ["CUDA tests", "3 passed, 2 skipped, 512 deselected", "41.2 s"],
        ["CUDA tests", "whole step", "44.0 s"],
        ["find", "proposals (SAM encode + decode + filter) (8 proposals)", "95.1 ms"],
        ["find", "CLIP image embeddings (48 crops)", "20.4 ms"],
        ["find", "re-query (cached photo)", "1.9 ms"],
        ["find", "proposals, reference settings (0 proposals)", "410.0 ms"],
        ["find", "match, reference settings: library kept no mask, ours 0: no match rate", "-"],
        ["find", "whole step", "120.5 s"],
        ["replace", "512 px diffusion, ours, keep (peak GPU 4.1 GB)", "1575.2 ms"],
        ["replace", "512 px diffusers padding_mask_crop (0.32x ours)", "502.1 ms"],
        ["replace", "whole step", "200.0 s"],
    ]


def test_a_failed_or_timed_out_step_shows_in_the_table_and_the_exit_status(tmp_path):
    _write_steps(
        tmp_path,
        [("CUDA tests", 1, 30.0, "1 failed in 29.0s\n"), ("replace", 124, 240.1, REPLACE_LOG)],
    )
    result = _run(sys.executable, str(TABLE), str(tmp_path))
    assert result.returncode == 1
    assert "whole step: FAILED (exit 1), see its log" in result.stdout
    assert "whole step: TIMED OUT at its 240 s limit" in result.stdout
    assert "1575.2 ms" in result.stdout  # what finished before the limit is still reported
