"""`paintnoise bench removal`: every installed remover on the same found masks, side by side.

The mask of what --find names is found once per photo, as `paintnoise edit` finds it;
each remover then removes it through the same engine job as a removal in the window.
Each result is timed and scored with the removal measures of engine/removal_metrics.py
(CLIP@1/3/5, CLIP distance, change outside the mask), and the table is written as CSV
and Markdown beside a contact sheet: per photo, the photo, its mask and each result.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.errors import PaintNoiseError
from ..core.imagefile import load_image
from ..core.jobs import InpaintJob
from ..engine.find.ranking import parse_query
from ..engine.inpaint.inpainter import OPENCV_METHODS
from ..engine.models.needs import (
    DIFFUSION_DEFAULTS,
    find_action,
    find_needs,
    inpaint_action,
    inpaint_needs,
    not_installed,
)
from ..engine.removal_metrics import TOP_N, RemovalScores
from ..engine.settings import EngineSettings
from .bench_tables import markdown, write_csv, write_report
from .edit import JOB_DEFAULTS, positive_int
from .jobs import JobFailed, TextProgress, add_engine_options, check_models, engine_for, run_job
from .mask import add_find_options, find_mask

KIND = "removal"
BENCH_JOB_ID = 4
#: The removers compared, in the table's order: the offline one, the fast learned ones,
#: Stable Diffusion with the removal prompts, CLIPAway. Those not installed are left out.
REMOVERS = ("opencv-telea", "lama", "deepfill-v2", *DIFFUSION_DEFAULTS, "clipaway")
COLUMNS = ("photo", "remover", "seconds", *(f"CLIP@{n}" for n in TOP_N), "CLIP distance",
           "changed outside", "note")
TABLE_CSV, TABLE_MD, SHEET_PNG = "removal.csv", "removal.md", "removal-sheet.png"


def installed_removers(settings: EngineSettings) -> list[str]:
    """The removers of REMOVERS that can run here: OpenCV, and those whose models are all in."""
    runnable = []
    for name in REMOVERS:
        needed = inpaint_needs(name, "", settings)
        if name in OPENCV_METHODS or (needed and not not_installed(needed, settings)):
            runnable.append(name)
    return runnable


@dataclass(frozen=True)
class Row:
    photo: str
    remover: str
    seconds: float | None = None
    scores: RemovalScores | None = None
    note: str = ""

    def cells(self) -> list[str]:
        if self.scores is None:
            return [self.photo, self.remover, _number(self.seconds), "", "", "", "", "",
                    self.note]
        scores = self.scores
        return [self.photo, self.remover, _number(self.seconds),
                *(f"{scores.clip_at[n]:.2f}" for n in TOP_N), f"{scores.clip_distance:.4f}",
                str(scores.outside_change), self.note]


def _number(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds:.3f}"


def mean_rows(rows: list[Row], removers: list[str], photos: int) -> list[list[str]]:
    """Per remover, the mean of each measure over the photos it removed from."""
    means = []
    for remover in removers:
        done = [row for row in rows if row.remover == remover and row.scores is not None]
        if not done:
            continue
        scores = [row.scores for row in done]
        means.append([
            f"mean of {len(done)}/{photos}", remover,
            f"{np.mean([row.seconds for row in done]):.3f}",
            *(f"{np.mean([s.clip_at[n] for s in scores]):.2f}" for n in TOP_N),
            f"{np.mean([s.clip_distance for s in scores]):.4f}",
            str(sum(s.outside_change for s in scores)), ""])
    return means


def _check_bench_models(args: argparse.Namespace, removers: list[str],
                        settings: EngineSettings) -> None:
    steps = [(find_action(args.find), find_needs("segclip", settings))]
    steps += [(inpaint_action(""), inpaint_needs(name, "", settings)) for name in removers]
    check_models(steps, settings)


def _run_bench_removal(args: argparse.Namespace) -> int:
    engine = engine_for(args)
    removers = args.removers.split(",") if args.removers else installed_removers(engine.settings)
    _check_bench_models(args, removers, engine.settings)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    progress = TextProgress()
    wanted = parse_query(args.find)[0]

    from ..engine.find.clip_model import get_clip  # torch: only once a bench really runs
    from ..engine.models.device import pick_device
    from ..engine.removal_metrics import ClassRows, removal_scores

    clip_id, embedder = get_clip(engine.models)
    classes = ClassRows.of(embedder, wanted)
    rows: list[Row] = []
    sheet = []
    for number, path in enumerate(args.photos):
        photo = load_image(path).rgb
        name = Path(path).name
        mask = find_mask(engine, photo, args, progress)
        if not mask.any():
            raise PaintNoiseError(f"Nothing to remove was found in {name}.")
        cells = [(name, photo), ("mask", mask)]
        for remover in removers:
            job = InpaintJob(BENCH_JOB_ID, photo, mask, prompt="", find_text=wanted,
                             inpainter=remover, steps=args.steps, seed=args.seed)
            if args.warm and number == 0:
                run_job(engine, job, progress)  # load the model: the times are warm ones
            start = time.perf_counter()
            try:
                result = run_job(engine, job, progress)
            except JobFailed as failure:
                rows.append(Row(name, remover, note=str(failure)))
                cells.append((f"{remover}: failed", photo))
                continue
            seconds = time.perf_counter() - start
            removed = result.variants[0].image
            rows.append(Row(name, remover, seconds,
                            removal_scores(embedder, classes, photo, removed, mask)))
            cells.append((f"{remover} {seconds:.2f} s", removed))
        sheet.append(cells)

    lines = [row.cells() for row in rows]
    if len(args.photos) > 1:
        lines += mean_rows(rows, removers, len(args.photos))
    write_csv(out / TABLE_CSV, COLUMNS, lines)
    header = (f"Removing \u201c{wanted}\u201d, device {pick_device(engine.settings)}, "
              f"CLIP measures with {clip_id}, {args.steps} diffusion steps, seed {args.seed}"
              f"{', warm' if args.warm else ' (first photo includes loading each model)'}.")
    write_report(out, TABLE_MD, f"{header}\n\n{markdown(COLUMNS, lines)}", SHEET_PNG, sheet,
                 progress, (TABLE_CSV,))
    return 0


def add_bench_removal_command(kinds: argparse._SubParsersAction,
                              common: argparse.ArgumentParser) -> None:
    parser = kinds.add_parser(
        KIND, parents=[common], help="compare the installed removers on the same found masks",
        description="Find what --find names in each PHOTO once, remove it with each installed "
                    "remover (or those --removers names) and write, in OUT, a table "
                    f"({TABLE_CSV}, {TABLE_MD}: seconds; CLIP@1/3/5 and CLIP distance on the "
                    "removed region, higher is better; pixels changed outside the mask, "
                    f"which should be 0) and a contact sheet ({SHEET_PNG}).",
    )
    parser.add_argument("photos", nargs="+", metavar="PHOTO")
    parser.add_argument("--find", required=True, metavar="TEXT", help="what to remove")
    add_find_options(parser)
    parser.add_argument("--removers", metavar="A,B,...",
                        help=f"the removers to compare (default: those of {', '.join(REMOVERS)} "
                             "that are installed)")
    parser.add_argument("--steps", type=positive_int, default=JOB_DEFAULTS["steps"],
                        help="diffusion sampling steps (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")
    parser.add_argument("--warm", action="store_true",
                        help="remove once from the first photo before timing, so no time "
                             "includes loading a model")
    add_engine_options(parser)
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="the folder to write the table and the sheet in")
    parser.set_defaults(func=_run_bench_removal)
