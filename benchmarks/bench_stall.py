"""The longest GUI-thread stall of each user action, in the real window (offscreen).

Drives the window as a user would on one photo: open, 20 brush strokes, grow, invert,
undo x5, redo x5, Find and Replace (the tiny test models, through the app's loaders),
pointing at the variants, save. A 5 ms heartbeat timer runs on the GUI thread all the
while; the longest gap between two beats during an action is the longest time the
window could not answer (the target is 50 ms, 100 ms for open).

Run: python benchmarks/bench_stall.py                 (24 MP: --size 6000x4000)
     python benchmarks/bench_stall.py --size 600x400 --json out.json
     python benchmarks/bench_stall.py --stacks stalls.txt  (what every thread was doing)
With --stacks, whenever no beat comes for STACKS_AFTER_MS the stacks of all threads are
written to that file, under the name of the action, every STACKS_AFTER_MS until the next
beat. faulthandler's watchdog writes them without the interpreter lock, so a worker thread
that holds the lock (and so stalls the GUI thread) is caught in the act.
The tiny models are built into a temporary folder unless --models names one (in another
process either way, so that the first Find imports torch as it does for a user).
"""

from __future__ import annotations

import argparse
import faulthandler
import itertools
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parents[1]
HEARTBEAT_MS = 5
STACKS_AFTER_MS = 40
ACTION_TIMEOUT_S = 600.0
BUILD_MODELS = ("import sys; from pathlib import Path; from tests.tinymodels import build_all; "
                "build_all(Path(sys.argv[1]))")
ACTIONS = ("open", "20 brush strokes", "grow", "invert", "undo x5", "redo x5", "find",
           "replace", "variant hover", "save")


def synthetic_photo(width: int, height: int):
    """A photo with texture and a bright object in the middle (like the UI tests' photo)."""
    import numpy as np

    ys, xs = np.mgrid[0:height, 0:width].astype(np.int32)
    rgb = np.stack([xs * 255 // width, ys * 255 // height, (xs + ys) % 256], axis=-1)
    rgb = rgb.astype(np.uint8)
    rgb[height // 3: 2 * height // 3, width // 3: 2 * width // 3] = (250, 240, 40)
    return rgb


class Heartbeat:
    """A 5 ms timer on the GUI thread; the gaps between its beats are the stalls."""

    def __init__(self, stacks: TextIO | None = None) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.beats: list[float] = []
        self.stacks = stacks
        self.timer = QTimer(interval=HEARTBEAT_MS, timerType=Qt.PreciseTimer)
        self.timer.timeout.connect(self._beat)
        self.timer.start()

    def _beat(self) -> None:
        self.beats.append(time.perf_counter())
        if self.stacks is not None:  # re-armed by every beat: it fires only in a stall
            faulthandler.dump_traceback_later(STACKS_AFTER_MS / 1000, repeat=True,
                                              file=self.stacks)

    def action(self, name: str) -> None:
        """Head the stacks that follow with the action's name."""
        if self.stacks is not None:
            self.stacks.write(f"\n=== {name}\n")
            self.stacks.flush()

    def stop(self) -> None:
        self.timer.stop()
        if self.stacks is not None:
            faulthandler.cancel_dump_traceback_later()

    def longest_gap_ms(self, start: float, end: float) -> float:
        times = [start] + [t for t in self.beats if start <= t <= end] + [end]
        return 1000 * max(b - a for a, b in itertools.pairwise(times))


def wait_until(done: Callable[[], bool], timeout_s: float = ACTION_TIMEOUT_S) -> None:
    """Run the event loop (heartbeat included) until `done()`; never spins the CPU."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    deadline = time.monotonic() + timeout_s
    check = QTimer(interval=HEARTBEAT_MS)

    def look() -> None:
        if done() or time.monotonic() > deadline:
            loop.quit()

    check.timeout.connect(look)
    check.start()
    loop.exec()
    check.stop()
    if not done():
        raise TimeoutError("the action did not finish in time")


def run(width: int, height: int, models: Path, work: Path,
        stacks: TextIO | None = None) -> list[tuple[str, float, float]]:
    """(action, longest stall in ms, wall seconds) for each action, in order (`stacks`:
    where the threads' stacks go in a stall)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["PAINTNOISE_MODELS_DIR"] = str(models)
    os.environ["PAINTNOISE_SETTINGS"] = str(work / "settings.json")
    os.environ["XDG_CONFIG_HOME"] = str(work / "config")

    from PIL import Image
    from PySide6.QtCore import QPoint, QSettings, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from paintnoise_desktop.ui.app_settings import AppSettings
    from paintnoise_desktop.ui.dialogs import Dialogs, UnsavedChoice
    from paintnoise_desktop.ui.main_window import MainWindow

    class Answers(Dialogs):
        def save_path(self, parent, suggested: str) -> str | None:
            return str(work / "saved.png")

        def unsaved_changes(self, parent, name: str) -> UnsavedChoice:
            return UnsavedChoice.DISCARD

        def offer_model_download(self, parent, model_ids, bridge) -> None:
            print(f"models missing: {model_ids}", file=sys.stderr)

    app = QApplication.instance() or QApplication([])
    photo_path = work / "photo.png"
    Image.fromarray(synthetic_photo(width, height)).save(photo_path, compress_level=1)
    QSettings.setDefaultFormat(QSettings.IniFormat)
    settings = AppSettings(QSettings(str(work / "settings.ini"), QSettings.IniFormat))
    settings.inpainter = "sd2-inpainting"  # the tiny model, so that there are variants
    settings.variants = 2
    settings.qsettings.setValue("inpaint/steps", 2)
    window = MainWindow(settings, dialogs=Answers())
    window.resize(1280, 800)
    window.show()
    QTest.qWaitForWindowExposed(window)
    heartbeat = Heartbeat(stacks)
    rows: list[tuple[str, float, float]] = []

    def measure(name: str, act: Callable[[], None], done: Callable[[], bool]) -> None:
        wait_until(lambda: True)  # let the window settle first
        heartbeat.action(name)
        start = time.perf_counter()
        QTimer.singleShot(0, act)
        wait_until(lambda: time.perf_counter() > start and done())
        end = time.perf_counter()
        rows.append((name, heartbeat.longest_gap_ms(start, end), end - start))

    def idle() -> bool:
        return not (window.files.busy or window.jobs.running or window.mask_steps.busy)

    def in_steps(actions: list[Callable[[], None]]) -> tuple[Callable[[], None],
                                                              Callable[[], bool]]:
        """Actions one per event-loop turn, as a user's clicks come; done when all ran."""
        left = list(actions)

        def next_one() -> None:
            left.pop(0)()
            if left:
                QTimer.singleShot(HEARTBEAT_MS, next_one)

        return next_one, lambda: not left and idle()

    opened = []
    window.files.opened.connect(opened.append)
    measure("open", lambda: window.files.open_photo(photo_path), lambda: bool(opened))
    canvas = window.canvas
    document = window.document
    window.mask_panel.size_slider.setValue(max(4, min(width, height) // 30))

    def stroke(index: int) -> None:
        x0 = (0.15 + 0.035 * index) * width
        points = [canvas.widget_rect_of((int(x0 + dx), int(height * (0.3 + 0.02 * dx / 40)),
                                         int(x0 + dx) + 1, int(height * 0.3) + 1)).center()
                  for dx in range(0, max(2, width // 10), max(1, width // 100))]
        QTest.mousePress(canvas, Qt.LeftButton, Qt.NoModifier, points[0])
        for point in points[1:]:
            QTest.mouseMove(canvas, QPoint(point))
        QTest.mouseRelease(canvas, Qt.LeftButton, Qt.NoModifier, points[-1])

    act, done = in_steps([lambda i=i: stroke(i) for i in range(20)])
    measure("20 brush strokes", act, done)
    px = max(2, min(width, height) // 200)
    measure("grow", lambda: window.mask_steps.operate("grow", px), idle)
    measure("invert", lambda: window.mask_steps.operate("invert", 0), idle)
    act, done = in_steps([window.session.undo] * 5)
    measure("undo x5", act, done)
    act, done = in_steps([window.session.redo] * 5)
    measure("redo x5", act, done)
    measure("find", lambda: window.jobs.find("yellow square"), idle)
    # Repaint a brushed region (the tiny models' found mask is arbitrary).
    window.mask_steps.operate("clear", 0)
    wait_until(idle)
    stroke(5)
    wait_until(idle)
    measure("replace", lambda: window.jobs.replace("", "a blue van"), idle)
    count = window.variants_panel.list.count()
    hover = [lambda i=i: window.variants_panel.previewRequested.emit(i)
             for i in list(range(count)) + [-1]]
    act, done = in_steps(hover)
    measure("variant hover", act, done)
    saved = []
    window.files.saved.connect(saved.append)
    measure("save", lambda: window.files.save_to(work / "saved.png"), lambda: bool(saved))
    heartbeat.stop()
    print(f"photo {document.width} x {document.height}; history: "
          f"{', '.join(document.history.names)}; variants: {count}", file=sys.stderr)
    window.close()
    app.processEvents()
    return rows


def table(rows: list[tuple[str, float, float]]) -> str:
    lines = [f"{'action':<18} {'longest stall ms':>16} {'wall s':>8}"]
    lines += [f"{name:<18} {stall:>16.0f} {wall:>8.2f}" for name, stall, wall in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="6000x4000", help="photo size, WxH (default 24 MP)")
    parser.add_argument("--models", type=Path, help="a models folder (default: build tiny ones)")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--stacks", type=Path,
                        help="write all threads' stacks here during each stall")
    args = parser.parse_args()
    width, height = (int(side) for side in args.size.lower().split("x"))
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="bench-stall-") as folder:
        work = Path(folder)
        models = args.models
        if models is None:  # built in another process: the first job imports torch here
            models = work / "models"
            subprocess.run([sys.executable, "-c", BUILD_MODELS, str(models)], check=True,
                           cwd=ROOT, stdout=subprocess.DEVNULL)
        if args.stacks is None:
            rows = run(width, height, models, work)
        else:
            with args.stacks.open("w") as stacks:
                rows = run(width, height, models, work, stacks)
    print(f"GUI-thread stalls, {width} x {height} ({width * height / 1e6:.1f} MP), "
          f"heartbeat {HEARTBEAT_MS} ms")
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps([
            {"action": name, "stall_ms": stall, "wall_s": wall} for name, stall, wall in rows]))
    return 0 if all(math.isfinite(stall) for _, stall, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
