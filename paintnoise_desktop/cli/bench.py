"""`paintnoise bench`: how long each stage of find and replace takes here, on one photo.

Every stage runs through the same engine and jobs as `paintnoise edit`, so the times
are what a user waits for. The first find and the first replace include loading
their models; the repeats show the warm costs (a second query on a photo is answered
from its cache).

Other benches are kinds of their own (`paintnoise bench masks ...`), each in its own
module and added in `add_bench_command`; a first word that is not a kind is a photo,
for the stage timing above (`paintnoise bench PHOTO --find ...`).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

from ..core.imagefile import load_image
from ..core.jobs import InpaintJob
from .edit import JOB_DEFAULTS, check_edit_models, chosen_inpainter, positive_int
from .jobs import TextProgress, add_engine_options, engine_for, run_job
from .mask import add_find_options, find_chosen, mask_settings

T = TypeVar("T")
BENCH_JOB_ID = 3


class Stopwatch:
    def __init__(self) -> None:
        self.laps: list[tuple[str, float]] = []

    def time(self, name: str, work: Callable[[], T]) -> T:
        start = time.perf_counter()
        value = work()
        self.laps.append((name, time.perf_counter() - start))
        return value


def _run_bench(args: argparse.Namespace) -> int:
    engine = engine_for(args)
    check_edit_models(args, engine.settings)
    progress = TextProgress()
    watch = Stopwatch()
    photo = watch.time("open the photo", lambda: load_image(args.photo))
    height, width = photo.rgb.shape[:2]
    chosen = watch.time("find, first (loads models)",
                        lambda: find_chosen(engine, photo.rgb, args, progress))
    watch.time("find again (same photo, from its cache)",
               lambda: find_chosen(engine, photo.rgb, args, progress))
    mask = watch.time("full-size mask (resize, post-process)",
                      lambda: chosen.full_size_mask(width, height, mask_settings(args)))
    inpainter = chosen_inpainter(args, engine.settings, progress)
    job = InpaintJob(BENCH_JOB_ID, photo.rgb, mask, prompt=args.replace, find_text=args.find,
                     inpainter=inpainter, steps=args.steps, seed=0)
    watch.time(f"replace, first (loads {inpainter})", lambda: run_job(engine, job, progress))
    watch.time("replace again", lambda: run_job(engine, job, progress))

    from ..engine.models.device import pick_device  # torch: only once a bench really runs

    print(f"photo {width} x {height}, device {pick_device(engine.settings)}, "
          f"inpainter {inpainter}, {args.steps} steps")
    for name, seconds in watch.laps:
        print(f"{name:<44} {seconds:9.3f} s")
    return 0


STAGES = "stages"  # the kind `paintnoise bench PHOTO ...` means


def with_bench_kind(argv: list[str], kinds: frozenset[str]) -> list[str]:
    """`bench PHOTO ...` means `bench stages PHOTO ...`; `bench masks ...` stays as it is."""
    at = argv.index("bench") + 1
    first = next((i for i in range(at, len(argv)) if not argv[i].startswith("-")), len(argv))
    if first == len(argv) or argv[first] in kinds:
        return argv
    return argv[:first] + [STAGES] + argv[first:]


def add_bench_command(commands: argparse._SubParsersAction,
                      common: argparse.ArgumentParser) -> frozenset[str]:
    """The `bench` command and its kinds; returns the kinds' names (see `with_bench_kind`)."""
    from .bench_guided import add_bench_guided_command
    from .bench_masks import add_bench_masks_command
    from .bench_removal import add_bench_removal_command

    bench = commands.add_parser(
        "bench", parents=[common], help="time find and replace, or compare the mask methods",
        usage="paintnoise bench [PHOTO --find TEXT ... | KIND ...]",
        description="Time each stage of find and replace on PHOTO, or run another kind of "
                    "bench.",
    )
    kinds = bench.add_subparsers(dest="bench", metavar="KIND", required=True)
    parser = kinds.add_parser(
        STAGES, parents=[common], help="time each stage of find and replace on a photo "
                                       "(the default: `paintnoise bench PHOTO ...`)",
        description="Time each stage of find and replace on PHOTO: opening it, the first and a "
                    "repeated find, the full-size mask, the first and a repeated replace. "
                    "Nothing is written.",
    )
    parser.add_argument("photo", metavar="PHOTO")
    parser.add_argument("--find", required=True, metavar="TEXT", help="what to find")
    add_find_options(parser)
    parser.add_argument("--replace", default="", metavar="TEXT",
                        help="what to paint there (default: remove)")
    parser.add_argument("--inpainter", metavar="NAME",
                        help="as for `paintnoise edit` (default: the same choice)")
    # edit's --removal and --guidance-mode: here --inpainter names the remover, painting is plain
    parser.set_defaults(removal=None, guidance_mode="plain")
    parser.add_argument("--steps", type=positive_int, default=JOB_DEFAULTS["steps"],
                        help="diffusion sampling steps (default %(default)s)")
    add_engine_options(parser)
    parser.set_defaults(func=_run_bench)
    add_bench_masks_command(kinds, common)
    add_bench_removal_command(kinds, common)
    add_bench_guided_command(kinds, common)
    return frozenset(kinds.choices)
