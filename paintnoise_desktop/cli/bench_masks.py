"""`paintnoise bench masks`: every installed mask method on the same photos and phrases.

The founding report's comparison, reproducible: each method runs the same Find job as the
window, first cold (the first photo's includes loading its models) and then again on the
same photo (what its cache saves). The time of each stage is read from the job's own
progress messages ("Proposing objects", "Reading the objects", "Ranking", ...), so the
stages are those each method really has, as in the report's Table 5.2; the chosen
candidates' union, post-processed as the window does it, is the method's mask. The table
(CSV and Markdown) gives, per photo and phrase, each method's times, stages and mask area,
and the IoU of every pair of methods' masks; the contact sheet shows the photo and each
method's mask (the report's Figure 4.9).
"""

from __future__ import annotations

import argparse
import itertools
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.errors import PaintNoiseError
from ..core.imagefile import load_image
from ..core.jobs import FindJob, Progress
from ..engine.find.finder import METHODS
from ..engine.find.found import Chosen
from ..engine.find.ranking import parse_query
from ..engine.models.needs import find_needs, not_installed
from ..engine.runner import Engine
from .bench_tables import markdown, write_csv, write_report
from .jobs import JobFailed, TextProgress, add_engine_options, engine_for, run_job
from .mask import mask_settings

KIND = "masks"
BENCH_JOB_ID = 5
#: Methods that find by words; "points" needs clicks, so it has no phrase to compare on.
WORD_METHODS = tuple(method for method in METHODS if method != "points")
COLUMNS = ("photo", "phrase", "method", "first s", "again s", "post-process s", "mask area %",
           "candidates", "stages of the first run (s)", "note")
PAIR_COLUMNS = ("photo", "phrase", "method A", "method B", "IoU")
TABLE_CSV, PAIRS_CSV, TABLE_MD, SHEET_PNG = ("masks.csv", "masks-iou.csv", "masks.md",
                                             "masks-sheet.png")


class StageClock(TextProgress):
    """A progress line that also times each stage: from one message to the next. What comes
    before the first message (importing the method's libraries, checking its models) is the
    stage "Starting"."""

    def __init__(self) -> None:
        super().__init__()
        self.stages: list[tuple[str, float]] = [("Starting", 0.0)]
        self._since = time.perf_counter()

    def __call__(self, progress: Progress) -> None:
        if progress.message != self.stages[-1][0]:
            self._lap()
            self.stages.append((progress.message, 0.0))
        super().__call__(progress)

    def _lap(self) -> None:
        now = time.perf_counter()
        message, seconds = self.stages[-1]
        self.stages[-1] = (message, seconds + now - self._since)
        self._since = now

    def stop(self) -> list[tuple[str, float]]:
        self._lap()
        return self.stages


def installed_methods(engine: Engine) -> list[str]:
    return [method for method in WORD_METHODS
            if not not_installed(find_needs(method, engine.settings), engine.settings)]


@dataclass
class Run:
    """One method on one photo and phrase."""

    photo: str
    phrase: str
    method: str
    mask: np.ndarray | None = None  # full size, post-processed; None when the job failed
    first: float = 0.0
    again: float = 0.0
    post_process: float = 0.0
    candidates: int = 0
    stages: tuple[tuple[str, float], ...] = ()
    note: str = ""

    def cells(self) -> list[str]:
        area = "" if self.mask is None else f"{100 * np.mean(self.mask > 127):.1f}"
        stages = "; ".join(f"{message} {seconds:.3f}" for message, seconds in self.stages)
        return [self.photo, self.phrase, self.method, f"{self.first:.3f}", f"{self.again:.3f}",
                f"{self.post_process:.3f}", area, str(self.candidates), stages, self.note]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two masks (inside = above half); 1 when both are empty."""
    a, b = a > 127, b > 127
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else np.count_nonzero(a & b) / union


def run_method(engine: Engine, photo: np.ndarray, name: str, phrase: str, method: str,
               args: argparse.Namespace) -> Run:
    wanted, excluded = parse_query(phrase)
    mode = "all" if args.all else "best"
    job = FindJob(BENCH_JOB_ID, photo, wanted, excluded, mode, method=method,
                  threshold=args.threshold)
    run = Run(name, phrase, method)
    clock = StageClock()
    start = time.perf_counter()
    try:
        result = run_job(engine, job, clock)
    except JobFailed as failure:
        run.note = str(failure)
        return run
    run.first = time.perf_counter() - start
    run.stages = tuple(clock.stop())
    start = time.perf_counter()
    run_job(engine, job, TextProgress())
    run.again = time.perf_counter() - start
    run.candidates = len(result.candidates)
    height, width = photo.shape[:2]
    start = time.perf_counter()
    if result.candidates:
        chosen = Chosen.pick(wanted, result.candidates, mode)
        run.mask = chosen.full_size_mask(width, height, mask_settings(args))
    else:
        run.mask = np.zeros((height, width), np.uint8)
        run.note = "nothing found"
    run.post_process = time.perf_counter() - start
    return run


def pair_lines(runs: list[Run]) -> list[list[str]]:
    """The IoU of every two methods' masks on each photo and phrase."""
    lines = []
    for (photo, phrase), group in itertools.groupby(runs, lambda run: (run.photo, run.phrase)):
        done = [run for run in group if run.mask is not None]
        for a, b in itertools.combinations(done, 2):
            lines.append([photo, phrase, a.method, b.method, f"{iou(a.mask, b.mask):.3f}"])
    return lines


def _run_bench_masks(args: argparse.Namespace) -> int:
    engine = engine_for(args)
    methods = args.methods.split(",") if args.methods else installed_methods(engine)
    unknown = [method for method in methods if method not in WORD_METHODS]
    if unknown:
        raise PaintNoiseError(f"There is no way to find things called '{unknown[0]}'. "
                              f"Use some of: {', '.join(WORD_METHODS)}.")
    if not methods:
        raise PaintNoiseError("No mask method is installed. Download the models of one, e.g. "
                              "paintnoise models download clipseg-rd64-refined")
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    progress = TextProgress()
    runs: list[Run] = []
    sheet = []
    for path in args.photos:
        photo, name = load_image(path).rgb, Path(path).name
        for phrase in args.find:
            cells = [(f"{name}: {phrase}", photo)]
            for method in methods:
                run = run_method(engine, photo, name, phrase, method, args)
                runs.append(run)
                label = f"{method} {run.first:.2f} s" if run.mask is not None else \
                    f"{method}: failed"
                cells.append((label, run.mask if run.mask is not None else
                              np.zeros(photo.shape[:2], np.uint8)))
            sheet.append(cells)

    from ..engine.models.device import pick_device  # torch: only once a bench really runs

    lines, pairs = [run.cells() for run in runs], pair_lines(runs)
    write_csv(out / TABLE_CSV, COLUMNS, lines)
    write_csv(out / PAIRS_CSV, PAIR_COLUMNS, pairs)
    table = (f"Mask methods on {len(args.photos)} photo(s), device {pick_device(engine.settings)}"
             f"; first run cold on the first photo (loads the models), again from the cache.\n\n"
             f"{markdown(COLUMNS, lines)}\nAgreement between methods (IoU of their masks):\n\n"
             f"{markdown(PAIR_COLUMNS, pairs)}")
    write_report(out, TABLE_MD, table, SHEET_PNG, sheet, progress, (TABLE_CSV, PAIRS_CSV))
    return 0


def add_bench_masks_command(kinds: argparse._SubParsersAction,
                            common: argparse.ArgumentParser) -> None:
    parser = kinds.add_parser(
        KIND, parents=[common], help="compare the installed mask methods on the same photos",
        description="Run every installed mask method (or those --methods names) on each PHOTO "
                    "for each --find phrase, and write in OUT a table of times per method and "
                    f"stage, mask areas ({TABLE_CSV}, {TABLE_MD}), the IoU between every two "
                    f"methods' masks ({PAIRS_CSV}) and a contact sheet ({SHEET_PNG}).",
    )
    parser.add_argument("photos", nargs="+", metavar="PHOTO")
    parser.add_argument("--find", required=True, action="append", metavar="TEXT",
                        help="what to find (may be repeated)")
    parser.add_argument("--methods", metavar="A,B,...",
                        help=f"the methods to compare (default: those of "
                             f"{', '.join(WORD_METHODS)} that are installed)")
    parser.add_argument("--all", action="store_true",
                        help="mask every candidate scoring close to the best, not just the best")
    parser.add_argument("--tight", action="store_true",
                        help="compare the masks as found: no hole filling, growing or feathering")
    parser.add_argument("--threshold", type=float, metavar="P",
                        help="clipseg's heatmap cut-off (default 0.4)")
    parser.set_defaults(grow=None, feather=None)  # mask_settings: the window's defaults
    add_engine_options(parser)
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="the folder to write the tables and the sheet in")
    parser.set_defaults(func=_run_bench_masks)
