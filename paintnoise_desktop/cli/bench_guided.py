"""`paintnoise bench guided`: the text-based editing study's ablation of CLIP guidance's weights.

The mask of what --find names is found once; the replacement is painted once with plain
Stable Diffusion and then CLIP-guided with each weight swept over 1, 10^2 ... 10^6 while the
other two stay at 10^3 (the run with all three at 10^3 is shared by the three sweeps). Each
run is timed (also per sampling step, to compare with plain SD) and scored on the crop the
model painted, before it is blended into the photo: the CLIP score (cosine of the prompt
and the crop inside the mask) and the L2 and LPIPS distances of the crop's background to the
photo's. Blending keeps every byte outside the mask, so measured on the finished photo the
background distances would be 0 whatever the weights; the raw crop shows what the study's
Figure 7 shows. Writes a table (CSV and Markdown) and a contact sheet: the photo, the mask and
the plain result, then one row per swept weight.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..core.imagefile import load_image
from ..core.jobs import CancelToken, InpaintJob
from ..engine.models.needs import (
    automatic_inpainter,
    find_action,
    find_needs,
    inpaint_action,
    paint_needs,
)
from .bench_tables import markdown, write_csv, write_report
from .edit import JOB_DEFAULTS, non_negative_float, positive_int
from .jobs import TextProgress, add_engine_options, check_models, engine_for
from .mask import add_find_options, find_mask

KIND = "guided"
BENCH_JOB_ID = 5
SWEEP = (1.0, 1e2, 1e3, 1e4, 1e5, 1e6)
WEIGHTS = ("clip", "l2", "lpips")
COLUMNS = ("run", "clip weight", "l2 weight", "lpips weight", "seconds", "seconds per step",
           "CLIP score inside", "L2 outside", "LPIPS outside")
TABLE_CSV, TABLE_MD, SHEET_PNG = "guided.csv", "guided.md", "guided-sheet.png"


@dataclass
class Recorder:
    """An inpainter that keeps every crop it painted, before blending, for scoring."""

    inner: object
    crops: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)

    @property
    def native_size(self):
        return self.inner.native_size

    @property
    def name(self) -> str:
        return self.inner.name

    def paint(self, crop_rgb, crop_mask, request, seed, on_step, cancel):
        painted = self.inner.paint(crop_rgb, crop_mask, request, seed, on_step, cancel)
        self.crops.append((crop_rgb, crop_mask, painted))
        return painted

    def take_notes(self) -> list[str]:
        return self.inner.take_notes()


def swept(weight: str, value: float) -> dict[str, float]:
    """The three weights with `weight` set to `value` and the others at their defaults."""
    values = {f"{name}_weight": JOB_DEFAULTS[f"{name}_weight"] for name in WEIGHTS}
    values[f"{weight}_weight"] = value
    return values


def sweep_jobs(job: InpaintJob, sweep: tuple[float, ...] = SWEEP
               ) -> dict[tuple[float, ...], tuple[str, InpaintJob]]:
    """Plain SD (key ()), then each weight over `sweep`, each set of weights once, by its values."""
    runs = {(): ("plain", replace(job, guidance_mode="plain"))}
    for weight in WEIGHTS:
        for value in sweep:
            values = swept(weight, value)
            runs.setdefault(tuple(values.values()), (
                f"{weight}={value:g}", replace(job, guidance_mode="clip", **values)))
    return runs


def _run_bench_guided(args: argparse.Namespace) -> int:
    engine = engine_for(args)
    settings = engine.settings
    inpainter_name = args.inpainter or automatic_inpainter(args.replace, settings)
    check_models([(find_action(args.find), find_needs("segclip", settings)),
                  (inpaint_action(args.replace),
                   paint_needs(inpainter_name, args.replace, "clip", settings))],
                 settings)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    progress = TextProgress()
    photo = load_image(args.photo).rgb
    mask = find_mask(engine, photo, args, progress)

    from ..engine.find.clip_model import get_clip  # torch: only once a bench really runs
    from ..engine.inpaint.diffusion import DiffusionInpainter
    from ..engine.inpaint.guided import Guide, GuideWeights, guided_inpainter
    from ..engine.inpaint.lpips_model import get_lpips
    from ..engine.inpaint.replace import replace_with
    from ..engine.models.device import pick_device

    clip_id, clip = get_clip(engine.models)
    scorer = Guide(clip, get_lpips(engine.models, clip.device, clip.dtype), GuideWeights())
    base = InpaintJob(BENCH_JOB_ID, photo, mask, prompt=args.replace, find_text=args.find,
                      inpainter=inpainter_name, steps=args.steps, seed=args.seed)
    runs = sweep_jobs(base, args.values)
    results: dict[tuple[float, ...], np.ndarray] = {}
    lines = []
    for key, (label, job) in runs.items():
        if job.guidance_mode == "clip":
            inpainter = guided_inpainter(inpainter_name, job, engine.models)
        else:
            inpainter = DiffusionInpainter.for_model(inpainter_name, engine.models)
        recorder = Recorder(inpainter)
        progress.note(f"painting: {label}")
        start = time.perf_counter()
        variants = replace_with(job, recorder, lambda *a, **k: None, CancelToken())
        seconds = time.perf_counter() - start
        scores = [scorer.scores(crop, painted, hole, args.replace)
                  for crop, hole, painted in recorder.crops]
        mean = {key: float(np.mean([score[key] for score in scores])) for key in scores[0]}
        results[key] = variants[0].image
        weights = [f"{getattr(job, f'{name}_weight'):g}" if job.guidance_mode == "clip" else "-"
                   for name in WEIGHTS]
        lines.append([label, *weights, f"{seconds:.3f}",
                      f"{seconds / (job.steps * len(recorder.crops)):.4f}",
                      f"{mean['clip score']:.4f}", f"{mean['l2']:.5f}", f"{mean['lpips']:.5f}"])

    write_csv(out / TABLE_CSV, COLUMNS, lines)
    header = (f"Replacing \u201c{args.find}\u201d with \u201c{args.replace}\u201d, "
              f"{inpainter_name}, device {pick_device(settings)}, CLIP {clip_id}, "
              f"{args.steps} steps, seed {args.seed}.")
    table = f"{header}\n\n{markdown(COLUMNS, lines)}"
    rows = [[("photo", photo), ("mask", mask), ("plain SD", results[()])]]
    for weight in WEIGHTS:
        keys = [tuple(swept(weight, value).values()) for value in args.values]
        rows.append([(f"{weight}={value:g}", results[key])
                     for value, key in zip(args.values, keys)])
    write_report(out, TABLE_MD, table, SHEET_PNG, rows, progress, (TABLE_CSV,))
    return 0


def weight_values(text: str) -> tuple[float, ...]:
    return tuple(non_negative_float(part) for part in text.split(","))


def add_bench_guided_command(kinds: argparse._SubParsersAction,
                             common: argparse.ArgumentParser) -> None:
    parser = kinds.add_parser(
        KIND, parents=[common], help="sweep CLIP guidance's weights on one replacement",
        description="Find what --find names in PHOTO, replace it with --replace by plain "
                    "Stable Diffusion and CLIP-guided with each weight (clip, l2, lpips) swept "
                    "over 1, 1e2 ... 1e6, the others at 1e3, and write, in OUT, a table "
                    f"({TABLE_CSV}, {TABLE_MD}: seconds, seconds per step, CLIP score inside "
                    "the mask, L2 and LPIPS outside it, on the painted crop) and a contact "
                    f"sheet ({SHEET_PNG}).",
    )
    parser.add_argument("photo", metavar="PHOTO")
    parser.add_argument("--find", required=True, metavar="TEXT", help="what to replace")
    add_find_options(parser)
    parser.add_argument("--replace", required=True, metavar="TEXT", help="what to paint there")
    parser.add_argument("--inpainter", metavar="NAME",
                        help="the Stable Diffusion inpainting model (default: the best installed)")
    parser.add_argument("--steps", type=positive_int, default=JOB_DEFAULTS["steps"],
                        help="diffusion sampling steps (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")
    parser.add_argument("--values", type=weight_values, default=SWEEP, metavar="A,B,...",
                        help="the values each weight is swept over (default "
                             f"{','.join(f'{value:g}' for value in SWEEP)})")
    add_engine_options(parser)
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="the folder to write the table and the sheet in")
    parser.set_defaults(func=_run_bench_guided)
