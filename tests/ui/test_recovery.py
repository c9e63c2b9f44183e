"""Kill -9 the real app while it edits, start it again: the session is offered and comes back.

The app runs in processes of its own (benchmarks/kill_recovery.py's `drive` and `recover`
modes: the real `run_app`, offscreen, with the recovery dialog answered "recover all").
"""

from __future__ import annotations

import importlib.util
import signal
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from paintnoise_desktop.core.recovery import DEBOUNCE_S

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "kill_recovery.py"


def _bench():
    spec = importlib.util.spec_from_file_location("kill_recovery", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="kill -9 is POSIX")
def test_a_session_killed_after_its_autosave_is_recovered_exactly(tmp_path):
    bench = _bench()
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (240, 320, 3), np.uint8)).save(photo)
    steps = 3  # two brush steps and a repaint, 1 s in all
    result = bench.one_run(photo, tmp_path / "run", 1.0 + DEBOUNCE_S + 1.5, steps=steps)
    assert result["offered"] and result["recovered"], result
    assert result["step_recovered"] == steps and result["lost"] == 0, result  # digest matched
    assert result["index"] == steps
    assert result["undo_gives_original"], result
    assert result["damaged_snapshots"] == 0
    # The recovered session was closed cleanly (discarded): nothing is left to offer.
    assert list((tmp_path / "run" / "recovery").iterdir()) == []
