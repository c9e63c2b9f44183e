"""The GUI-stall benchmark runs end to end on a small photo and reports every action.

The figures themselves are a benchmark's (benchmarks/bench_stall.py), not a test's: this
checks only that the harness drives the real window through every action and that its
numbers are measurements (no timing is asserted).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "bench_stall.py"
ACTIONS = ["open", "20 brush strokes", "grow", "invert", "undo x5", "redo x5", "find",
           "replace", "variant hover", "save"]


@pytest.mark.slow
def test_the_stall_benchmark_reports_every_action_on_a_small_photo(tiny_models_dir, tmp_path):
    out = tmp_path / "stalls.json"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--size", "600x400", "--models", str(tiny_models_dir),
         "--json", str(out)],
        check=False, capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads(out.read_text())
    assert [row["action"] for row in rows] == ACTIONS
    for row in rows:
        # A stall is a gap between heartbeats inside the action: at most the action's time.
        assert 0 < row["stall_ms"] <= 1000 * row["wall_s"] + 1, row
    lines = done.stdout.splitlines()
    assert lines[0].startswith("GUI-thread stalls, 600 x 400")
    assert [line.split("  ")[0].strip() for line in lines[2:]] == ACTIONS
    # The actions really happened: the history names them, and Replace made variants.
    assert "Grow mask" in done.stderr and "Replace with: a blue van" in done.stderr
    assert "variants: 2" in done.stderr
