"""Kill -9 at random moments while the real window edits a photo; measure what recovery gives back.

    python benchmarks/kill_recovery.py [--runs 100] [--minutes 10] [--seed 0]

Each run starts the real app (`run_app`, offscreen) on a photo in a process of its own, which
plays an editing script (mask steps, repaints and undos with the pauses a person makes,
through the editing session as the tools do), printing the state's digest after each step.
The run is killed with SIGKILL at a random moment, then the app is started again on the same
recovery folder: the result says whether recovery was offered, which step it gave back
(matched by digest, so "exactly" is checked), how many steps were lost, whether the snapshot
was damaged, and whether undoing everything gives back the photo's original bytes.

`drive` and `recover` are the two child modes (tests/ui/test_recovery.py uses them too).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from paintnoise_desktop.core.recovery import DEBOUNCE_S, RECOVERY_DIR_ENV

#: (seconds to wait before the step, the step): pauses of a person between bursts of work
SCRIPT = ((0.3, "brush"), (0.3, "brush"), (0.4, "paint"), (3.6, "brush"), (0.3, "undo"),
          (0.3, "paint"), (3.7, "brush"), (0.4, "paint"), (0.3, "brush"))
SCRIPT_S = sum(wait for wait, _ in SCRIPT)


def digest(document) -> str:
    return hashlib.sha256(document.rgb.tobytes() + document.mask.tobytes()).hexdigest()[:16]


def _step(session, number: int, kind: str) -> None:
    rng = np.random.default_rng(number)
    height, width = session.document.mask.shape
    x0, y0 = int(rng.integers(0, width - 64)), int(rng.integers(0, height - 64))
    box = (x0, y0, x0 + 64, y0 + 48)
    if kind == "undo":
        session.undo()
    elif kind == "brush":
        session.apply(f"Brush {number}", box, mask=np.full((48, 64), 255, np.uint8))
    else:
        session.apply(f"Paint {number}", box,
                      rgb=rng.integers(0, 256, (48, 64, 3), np.uint8))


def _window():
    from PySide6.QtWidgets import QApplication

    from paintnoise_desktop.ui.main_window import MainWindow

    windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    return windows[0] if windows else None


def _scripted_dialogs():
    from paintnoise_desktop.ui.dialogs import Dialogs, UnsavedChoice
    from paintnoise_desktop.ui.recovery_dialog import RecoveryAnswer

    class Answers(Dialogs):
        def __init__(self) -> None:
            self.offered: list[int] = []

        def unsaved_changes(self, parent, name):
            return UnsavedChoice.DISCARD

        def offer_recovery(self, parent, offers):
            self.offered.append(len(offers))
            return RecoveryAnswer(tuple(offer.orphan for offer in offers), ())

    return Answers()


def drive(photo: str, steps: int) -> int:
    """Child: open `photo` in the real window and play the first `steps` of SCRIPT, a digest
    line per step."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from paintnoise_desktop.ui.run import run_app

    QApplication(sys.argv[:1])

    def play(number: int = 0) -> None:
        window = _window()
        if window is None or window.session.document is None:
            QTimer.singleShot(20, play)
            return
        if number == 0:
            print(f"ready 0 {digest(window.session.document)}", flush=True)
        if number < steps:
            wait, kind = SCRIPT[number]

            def then() -> None:
                _step(window.session, number + 1, kind)
                print(f"step {number + 1} {digest(window.session.document)}", flush=True)
                play(number + 1)

            QTimer.singleShot(round(wait * 1000), then)
        else:
            print("done", flush=True)

    QTimer.singleShot(0, play)
    return run_app(photo, dialogs=_scripted_dialogs())


def recover(photo: str) -> int:
    """Child: start the app again, recover whatever is offered, print what came back."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from paintnoise_desktop.core.imagefile import load_image
    from paintnoise_desktop.ui.run import run_app

    app = QApplication(sys.argv[:1])
    dialogs = _scripted_dialogs()
    started = time.monotonic()

    def report() -> None:
        window = _window()
        document = window.session.document if window is not None else None
        waited = time.monotonic() - started
        if document is None and dialogs.offered and waited < 30:
            QTimer.singleShot(20, report)
            return
        result = {"offered": bool(dialogs.offered), "recovered": document is not None}
        if document is not None:
            result.update(digest=digest(document), index=document.history.index,
                          steps=len(document.history.names))
            while document.history.can_undo:
                window.session.undo()
            result["undo_gives_original"] = (
                document.rgb.tobytes() == load_image(photo).rgb.tobytes()
                and not document.mask.any())
        print("result " + json.dumps(result), flush=True)
        app.closeAllWindows()
        app.quit()

    QTimer.singleShot(0, report)
    return run_app(None, dialogs=dialogs)


def child_env(folder: Path) -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(folder / "config"),
               XDG_DATA_HOME=str(folder / "data"), PAINTNOISE_MODELS_DIR=str(folder / "models"),
               PYTHONPATH=str(ROOT))
    env[RECOVERY_DIR_ENV] = str(folder / "recovery")
    return env


def start(mode: str, photo: Path, folder: Path, steps: int = len(SCRIPT)) -> subprocess.Popen:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{mode}.stderr", "w") as stderr:  # the child keeps its own copy
        return subprocess.Popen([sys.executable, str(Path(__file__).resolve()), mode,
                                 str(photo), "--steps", str(steps)],
                                stdout=subprocess.PIPE, stderr=stderr, text=True,
                                env=child_env(folder))


def one_run(photo: Path, folder: Path, kill_after_s: float, steps: int = len(SCRIPT)) -> dict:
    """Drive, kill -9 `kill_after_s` after the photo is shown, recover; what came back."""
    states: list[tuple[float, str]] = []  # (when, digest) of each state reached, from "ready"
    driver = start("drive", photo, folder, steps)
    ready = threading.Event()

    def read() -> None:
        for line in driver.stdout:
            words = line.split()
            if words and words[0] in ("ready", "step"):
                states.append((time.monotonic(), words[2]))
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if not ready.wait(60):
        driver.kill()
        driver.wait()
        lines = (folder / "drive.stderr").read_text().strip().splitlines()
        return {"started": False, "error": lines[-1] if lines else "no photo shown in 60 s"}
    time.sleep(kill_after_s)
    killed_at = time.monotonic()
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    reader.join(5)
    snapshots = list((folder / "recovery").glob("*.paintnoise"))
    damaged = 0
    if snapshots:
        from paintnoise_desktop.core.errors import PaintNoiseError
        from paintnoise_desktop.core.project import read_project

        for snapshot in snapshots:
            try:
                read_project(snapshot)
            except PaintNoiseError:
                damaged += 1
    recovering = start("recover", photo, folder)
    out, _ = recovering.communicate(timeout=120)
    lines = [line for line in out.splitlines() if line.startswith("result ")]
    if not lines:  # the second start itself failed: a fault of the run, not of recovery
        errors = (folder / "recover.stderr").read_text().strip().splitlines()
        return {"started": False, "error": errors[-1] if errors else "no answer from recover"}
    result = json.loads(lines[-1][len("result "):])
    digests = [d for _, d in states]
    reached = len(digests) - 1  # steps made before the kill (reported ones)
    got = digests.index(result["digest"]) if result.get("digest") in digests else (
        0 if not result.get("recovered") else None)
    # The longest a step was left alone before the next one (or the kill): autosave writes the
    # first unsaved step at once, later ones DEBOUNCE_S after a step that is left alone, plus
    # the time the write takes.
    times = [when for when, _ in states[1:]] + [killed_at]
    rest = max((later - when for when, later in itertools.pairwise(times)), default=0.0)
    return {**result, "kill_after_s": round(kill_after_s, 2), "steps_made": reached,
            "step_recovered": got, "lost": None if got is None else reached - got,
            "longest_rest_s": round(rest, 2), "snapshot_written": bool(snapshots),
            "damaged_snapshots": damaged}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", nargs="?", default="bench", choices=("bench", "drive", "recover"))
    parser.add_argument("photo", nargs="?")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--steps", type=int, default=len(SCRIPT),
                        help="drive: play only the first STEPS steps of the script")
    parser.add_argument("--minutes", type=float, default=10.0,
                        help="stop starting runs after this long (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="FILE", help="also write every run's result here")
    parser.add_argument("--results", metavar="FILE", action="append", default=[],
                        help="summarise the runs these files hold (a --json file, or a log's "
                             "result lines) instead of running; may be repeated")
    args = parser.parse_args()
    if args.results:
        runs = [json.loads(line) for path in args.results
                for line in Path(path).read_text().splitlines() if line.startswith("{")]
        summarise(runs, 0.0)
        return 0
    if args.mode == "drive":
        return drive(args.photo, args.steps)
    if args.mode == "recover":
        return recover(args.photo)
    return run_bench(args)


def run_bench(args: argparse.Namespace) -> int:
    from PIL import Image

    rng = random.Random(args.seed)
    results = []
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch:
        photo = Path(scratch) / "photo.png"
        pixels = np.random.default_rng(args.seed).integers(0, 256, (480, 640, 3), np.uint8)
        Image.fromarray(pixels).save(photo)
        for run in range(args.runs):
            if time.monotonic() - began > args.minutes * 60:
                break
            folder = Path(scratch) / f"run{run}"
            result = one_run(photo, folder, rng.uniform(0.0, SCRIPT_S + DEBOUNCE_S + 1.0))
            results.append(result)
            print(json.dumps(result), flush=True)
    summarise(results, time.monotonic() - began)
    if args.json:
        Path(args.json).write_text("".join(json.dumps(r) + "\n" for r in results))
    return 0


def summarise(results: list[dict], seconds: float) -> None:
    failed = [r for r in results if r.get("started") is False or r.get("offered") is None]
    results = [r for r in results if r not in failed]
    print(f"runs: {len(results)} in {seconds:.0f} s")
    if failed:
        print(f"runs in which an app start failed (not counted): {len(failed)}")
    offered = [r for r in results if r["offered"]]
    print(f"recovery offered: {len(offered)} of {len(results)} runs")
    written = [r for r in results if r.get("snapshot_written")]
    if written:
        print(f"  in {sum(bool(r['offered']) for r in written)} of the {len(written)} runs that "
              "left a snapshot")
    missed = [r for r in results if not r["offered"] and r["steps_made"] > 0]
    print(f"not offered: {len(missed)} runs with steps made; their steps had been left alone at "
          f"most {max((r['longest_rest_s'] for r in missed), default=0):.2f} s (autosave writes the "
          f"first change at once, then {DEBOUNCE_S:.0f} s after the last), those of the offered "
          f"ones at least "
          f"{min((r['longest_rest_s'] for r in offered), default=0):.2f} s")
    exact = [r for r in offered if r["step_recovered"] is not None]
    print(f"recovered exactly (the digest of a state the editing reached): {len(exact)} of "
          f"{len(offered)}")
    lost = [r["lost"] for r in exact]
    print(f"steps lost when recovered: at most {max(lost, default=0)}, mean "
          f"{np.mean(lost) if lost else 0:.2f}; in all runs (not offered: all its steps) at most "
          f"{max((r['lost'] for r in results if r['lost'] is not None), default=0)}")
    print(f"undo to the start gave the original bytes: "
          f"{sum(bool(r.get('undo_gives_original')) for r in offered)} of {len(offered)}")
    print(f"damaged recovery files: {sum(r['damaged_snapshots'] for r in results)}")


if __name__ == "__main__":
    sys.exit(main())
