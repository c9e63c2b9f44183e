"""`paintnoise mask`, and the mask `paintnoise edit` repaints: found from words, or read from a file.

A found mask is the chosen candidates (the best one, or with --all every one scoring
close to it), post-processed as the window does it (holes filled, grown, feathered,
unless --tight) and brought to the photo's full size.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..core.errors import PaintNoiseError
from ..core.imagefile import load_image
from ..core.jobs import FindJob, MaskSettings
from ..core.mask_file import write_mask_png
from ..engine.find.finder import METHODS
from ..engine.find.found import Chosen
from ..engine.find.ranking import is_weak, parse_query
from ..engine.models.needs import AUTOMATIC_FINDER, CLICK_ACTION, find_action, find_needs
from ..engine.runner import Engine
from .jobs import TextProgress, add_engine_options, check_models, engine_for, run_job
from .paths import check_writable

FIND_JOB_ID = 1


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def add_find_options(parser: argparse.ArgumentParser) -> None:
    """The options that shape a found mask (--find itself is added by the command)."""
    parser.add_argument("--all", action="store_true",
                        help="take every candidate scoring close to the best, not just the best")
    parser.add_argument("--not", dest="exclude", action="append", default=[], metavar="TEXT",
                        help="keep this out of the mask (may be repeated)")
    parser.add_argument("--tight", action="store_true",
                        help="use the mask as found: no hole filling, growing or feathering")
    parser.add_argument("--reference", action="store_true",
                        help="propose with Segment Anything's own settings (32x32 grid, the "
                        "library's thresholds; slower, for comparison)")
    parser.add_argument("--grow", type=non_negative_int, metavar="PX",
                        help="grow the mask by PX pixels (default: a few %% of the object's size)")
    parser.add_argument("--feather", type=non_negative_int, metavar="PX",
                        help=f"soften the mask's edge over PX pixels "
                             f"(default {MaskSettings().feather_px})")
    parser.add_argument("--method", choices=(AUTOMATIC_FINDER, *METHODS), default=AUTOMATIC_FINDER,
                        help="how to find: auto (SAM 3 when installed, else segclip), segclip "
                             "(Segment Anything + CLIP), sam3, clipseg (a heatmap: sky, water, "
                             "many objects), segformer (SegFormer's segments + CLIP: road, wall), "
                             "diffedit (Find text against Replace text), points (--points/--box)")
    parser.add_argument("--threshold", type=float, metavar="P",
                        help="the cut-off of clipseg's heatmap (0.15 to 0.95, default 0.4) "
                             "or of sam3's instance scores")
    parser.set_defaults(points=[], box=None)  # `mask` also takes clicks: add_click_options


def click_point(text: str) -> tuple[float, float, bool]:
    """"X,Y" or "X,Y,+" (a point on the object) or "X,Y,-" (a point off it)."""
    parts = text.split(",")
    sign = parts.pop() if len(parts) == 3 else "+"
    if len(parts) != 2 or sign not in ("+", "-"):
        raise argparse.ArgumentTypeError(f"expected X,Y or X,Y,+ or X,Y,- not {text!r}")
    try:
        x, y = (float(part) for part in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"X and Y must be numbers, not {text!r}") from None
    return x, y, sign == "+"


def click_box(text: str) -> tuple[int, int, int, int]:
    """"X0,Y0,X1,Y1" in photo pixels."""
    try:
        x0, y0, x1, y1 = (round(float(part)) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X0,Y0,X1,Y1 not {text!r}") from None
    if x0 == x1 or y0 == y1:
        raise argparse.ArgumentTypeError(f"the box {text!r} is empty")
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def add_click_options(parser: argparse.ArgumentParser) -> None:
    """--points and --box: Segment Anything masks what was clicked (the "points" method)."""
    parser.add_argument("--points", nargs="+", action="extend", type=click_point,
                        metavar="X,Y[,+/-]",
                        help="points in photo pixels on the object (+, the default) or off it "
                             "(-); Segment Anything masks what they pick out")
    parser.add_argument("--box", type=click_box, metavar="X0,Y0,X1,Y1",
                        help="a box around the object, in photo pixels (with or without --points)")


def clicked(args: argparse.Namespace) -> bool:
    return bool(args.points) or args.box is not None


def mask_settings(args: argparse.Namespace) -> MaskSettings:
    settings = MaskSettings(tight=args.tight)
    if args.grow is not None:
        settings = replace(settings, grow_fraction=0.0, grow_min_px=args.grow)
    if args.feather is not None:
        settings = replace(settings, feather_px=args.feather)
    return settings


def find_mask(engine: Engine, rgb: np.ndarray, args: argparse.Namespace,
              progress: TextProgress) -> np.ndarray:
    """The full-size, post-processed mask of what `args.find` names; scores go to stderr."""
    chosen = find_chosen(engine, rgb, args, progress)
    _show_scores(chosen, progress)
    height, width = rgb.shape[:2]
    return chosen.full_size_mask(width, height, mask_settings(args))


def find_chosen(engine: Engine, rgb: np.ndarray, args: argparse.Namespace,
                progress: TextProgress) -> Chosen:
    if clicked(args):
        job = FindJob(FIND_JOB_ID, rgb, "", method="points", points=tuple(args.points),
                      box=args.box)
        candidates = run_job(engine, job, progress).candidates
        if not candidates:
            raise PaintNoiseError("Segment Anything found nothing at those points. Try other "
                                  "points or a box, or draw a mask and pass it with --mask.")
        return Chosen.pick("the clicked object", candidates, "best")
    wanted, excluded = parse_query(args.find)
    mode = "all" if args.all else "best"
    job = FindJob(FIND_JOB_ID, rgb, wanted, tuple(excluded) + tuple(args.exclude), mode,
                  method=args.method, reference=args.reference, threshold=args.threshold,
                  replace_text=getattr(args, "replace", ""))
    candidates = run_job(engine, job, progress).candidates
    if not candidates:
        raise PaintNoiseError(
            f'Nothing like "{args.find}" was found. Try other words, or draw a mask '
            "and pass it with --mask."
        )
    return Chosen.pick(wanted, candidates, mode)


def _show_scores(chosen: Chosen, progress: TextProgress) -> None:
    for i, candidate in enumerate(chosen.candidates):
        x0, y0, x1, y1 = candidate.box
        mark = "*" if i in chosen.indices else " "
        label = f" {candidate.label}" if candidate.label else ""
        progress.note(f"{mark} {i + 1:2d}. score {candidate.score:.3f}  "
                      f"box ({x0}, {y0})-({x1}, {y1})  {candidate.source}{label}")
    if is_weak([candidate.score for candidate in chosen.candidates]):
        progress.note(f'note: nothing matched "{chosen.wanted}" well; '
                      "using the closest candidate")


def _run_mask(args: argparse.Namespace) -> int:
    output = Path(args.output)
    if output.suffix.lower() != ".png":
        raise PaintNoiseError(f"Masks are written as PNG files: name the output {output.stem}.png.")
    check_writable([output], args.photo, args.overwrite)
    if clicked(args) == bool(args.find):
        raise PaintNoiseError("Say what to mask: --find TEXT, or --points and/or --box.")
    engine = engine_for(args)
    if clicked(args):
        check_models([(CLICK_ACTION, find_needs("points", engine.settings))], engine.settings)
    else:
        check_models([(find_action(args.find), find_needs(args.method, engine.settings))],
                     engine.settings)
    progress = TextProgress()
    photo = load_image(args.photo)
    mask = find_mask(engine, photo.rgb, args, progress)
    write_mask_png(output, mask)
    print(output)
    return 0


def add_mask_command(commands: argparse._SubParsersAction,
                     common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "mask", parents=[common], help="write the mask of what words name, as a PNG",
        description="Find what TEXT names in PHOTO (or what --points and --box pick out, with "
                    "Segment Anything) and write its post-processed, full-size mask "
                    "as an 8-bit grayscale PNG (white = repaint). The candidates' scores are "
                    "printed on stderr; the chosen ones are marked with *.",
    )
    parser.add_argument("photo", metavar="PHOTO")
    parser.add_argument("--find", metavar="TEXT", help="what to find")
    add_find_options(parser)
    add_click_options(parser)
    add_engine_options(parser)
    parser.add_argument("-o", "--output", required=True, metavar="MASK.png")
    parser.add_argument("--overwrite", action="store_true",
                        help="allow writing over an existing file")
    parser.set_defaults(func=_run_mask)
