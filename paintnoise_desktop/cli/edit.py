"""`paintnoise edit`: find (or read) a mask and repaint it, without the window.

The photo is read and written by core.imagefile, so EXIF and the colour profile are
kept and the output is written atomically. Every check that can fail fast (output
names, the mask's size) runs before any model is loaded.
"""

from __future__ import annotations

import argparse
from dataclasses import fields

import numpy as np

from ..core.errors import PaintNoiseError
from ..core.imagefile import format_for_path, load_image, save_image
from ..core.jobs import InpaintJob, Verification
from ..core.mask_file import read_mask
from ..engine.inpaint.inpainter import OPENCV_METHODS
from ..engine.models.needs import (
    AUTOMATIC_INPAINTER,
    DIFFUSION_DEFAULTS,
    LEARNED_REMOVERS,
    OFFLINE_INPAINTER,
    REMOVERS,
    automatic_inpainter,
    best_diffusion,
    find_action,
    find_needs,
    inpaint_action,
    not_installed,
    paint_needs,
)
from ..engine.settings import EngineSettings
from .jobs import TextProgress, add_engine_options, check_models, engine_for, run_job
from .mask import add_find_options, find_mask, non_negative_int
from .paths import check_writable, output_paths

INPAINT_JOB_ID = 2
JOB_DEFAULTS = {field.name: field.default for field in fields(InpaintJob)}


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


#: `--removal sd`: the best Stable Diffusion inpainting model installed, with the removal prompts.
DIFFUSION_REMOVER = "sd"


def asked_inpainter(args: argparse.Namespace, settings: EngineSettings) -> str:
    """What the command line asks to paint with: --removal when removing, else --inpainter,
    else "auto"."""
    if args.removal == DIFFUSION_REMOVER and not args.replace.strip():
        return best_diffusion(settings)
    if args.removal and not args.replace.strip():
        return args.removal
    return args.inpainter or AUTOMATIC_INPAINTER


def chosen_inpainter(args: argparse.Namespace, settings: EngineSettings,
                     progress: TextProgress) -> str:
    """--removal or --inpainter, else the best installed (the window's automatic choice too),
    saying so when removing falls back to the offline inpainter."""
    asked = asked_inpainter(args, settings)
    if asked != AUTOMATIC_INPAINTER:
        return asked
    inpainter = automatic_inpainter(args.replace, settings)
    if inpainter == OFFLINE_INPAINTER:
        progress.note(f"note: no learned remover or Stable Diffusion inpainting model is "
                      f"installed; using {OFFLINE_INPAINTER} (paintnoise models download "
                      f"{LEARNED_REMOVERS[0]})")
    return inpainter


def check_edit_models(args: argparse.Namespace, settings: EngineSettings) -> None:
    """Fail before any work when a model the find or the repaint needs is not installed.

    Painting words with no Stable Diffusion model fails too: it never removes instead
    unless --inpainter names the offline inpainter.
    """
    find_models = find_needs(args.method, settings) if args.find else ()
    steps = [(find_action(args.find), find_models)] if args.find else []
    inpainter = asked_inpainter(args, settings)
    steps.append((inpaint_action(args.replace),
                  paint_needs(inpainter, args.replace, args.guidance_mode, settings)))
    # Removing instead is a way out only when the find can run: it needs its models either way.
    instead = (f"add `--inpainter {OFFLINE_INPAINTER}` to remove what is masked instead"
               if args.replace.strip() and inpainter not in OPENCV_METHODS
               and not not_installed(find_models, settings) else "")
    check_models(steps, settings, instead)


def show_verification(verification: Verification, progress: TextProgress) -> None:
    """The scores of what was removed, found again where it was, and what was done."""
    after = ", ".join(f"{score:.3f}" for score in verification.after)
    progress.note(f'check "{verification.phrase}": score there before {verification.before:.3f}, '
                  f"after each attempt {after}")
    progress.note(verification.sentence)


def _shapes_found_mask(args: argparse.Namespace) -> bool:
    return bool(args.all or args.exclude or args.tight or args.reference
                or args.grow is not None or args.feather is not None)


def _run_edit(args: argparse.Namespace) -> int:
    paths = output_paths(args.output, args.variants)
    for path in paths:
        format_for_path(path)  # an unknown suffix fails here, not after the painting
    check_writable(paths, args.photo, args.overwrite)
    engine = engine_for(args)
    check_edit_models(args, engine.settings)

    progress = TextProgress()
    photo = load_image(args.photo)
    for note in photo.notes:
        progress.note(f"note: {note}")
    height, width = photo.rgb.shape[:2]
    if args.mask is not None:
        mask = read_mask(args.mask, width, height)
    else:
        mask = find_mask(engine, photo.rgb, args, progress)
    if not np.any(mask):
        raise PaintNoiseError("The mask is empty, so there is nothing to repaint. "
                              "White marks what to repaint.")

    job = InpaintJob(
        INPAINT_JOB_ID, photo.rgb, mask,
        prompt=args.replace,
        find_text=args.find or "",
        inpainter=chosen_inpainter(args, engine.settings, progress),
        steps=args.steps, guidance=args.guidance, seed=args.seed, variants=args.variants,
        verify=args.verify, verify_retries=args.verify_retries,
        guidance_mode=args.guidance_mode, clip_weight=args.clip_weight, l2_weight=args.l2_weight,
        lpips_weight=args.lpips_weight, guide_every=args.guide_every,
    )
    result = run_job(engine, job, progress)
    if result.verification is not None:
        show_verification(result.verification, progress)
    for path, variant in zip(paths, result.variants):
        save_image(path, variant.image, alpha=photo.alpha, exif=photo.exif,
                   icc_profile=photo.icc_profile)
        note = f"; {variant.note}" if variant.note else ""
        progress.note(f"wrote {path} (seed {variant.seed}{note})")
        print(path)
    return 0


def non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of 0 or more, got {text}")
    return value


def add_guidance_options(parser: argparse.ArgumentParser) -> None:
    """CLIP-guided replacement (engine/inpaint/guided.py) and its three loss weights."""
    parser.add_argument("--guidance-mode", choices=("plain", "clip"), default="plain",
                        help="clip: steer Stable Diffusion with CLIP inside the mask and L2 + "
                             "LPIPS outside it, for replacements that must follow the words "
                             "closely (slower; default %(default)s)")
    for name, what in (("clip", "the CLIP loss inside the mask"),
                       ("l2", "the L2 distance to the background outside it"),
                       ("lpips", "the LPIPS distance to the background outside it")):
        parser.add_argument(f"--{name}-weight", type=non_negative_float,
                            default=JOB_DEFAULTS[f"{name}_weight"], metavar="N",
                            help=f"with --guidance-mode clip, the weight of {what} "
                                 "(default %(default)g)")
    parser.add_argument("--guide-every", type=positive_int, default=JOB_DEFAULTS["guide_every"],
                        metavar="K", help="with --guidance-mode clip, guide every K-th sampling "
                                          "step (default %(default)s)")


def add_edit_command(commands: argparse._SubParsersAction,
                     common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "edit", parents=[common], help="find (or take a mask) and repaint, without the window",
        description="Repaint part of PHOTO and write the result to OUT. The region is what "
                    "--find names (found with Segment Anything + CLIP) or what --mask marks "
                    "(white = repaint, same size as the photo). Pixels outside the mask keep "
                    "their values; EXIF and the colour profile are kept.",
    )
    parser.add_argument("photo", metavar="PHOTO")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--mask", metavar="MASK.png", help="repaint what this image marks white")
    source.add_argument("--find", metavar="TEXT", help="repaint what these words name")
    source.add_argument("--recipe", metavar="PROJECT.paintnoise",
                        help="make a project's Find, mask and Replace/Remove steps again on "
                             "PHOTO, with their recorded settings and seeds (brush strokes are "
                             "skipped)")
    add_find_options(parser)
    parser.add_argument("--replace", default="", metavar="TEXT",
                        help="what to paint there (default: nothing, remove what is masked)")
    parser.add_argument(
        "--inpainter", metavar="NAME",
        help=f"opencv-telea, opencv-ns (no weights needed; they can only remove), or an "
             f"installed model id such as {DIFFUSION_DEFAULTS[0]}. Default: "
             f"{' or '.join(DIFFUSION_DEFAULTS)} when installed; to remove, else "
             f"{OFFLINE_INPAINTER}")
    parser.add_argument(
        "--removal", metavar="NAME", choices=(*REMOVERS, DIFFUSION_REMOVER),
        help=f"what removes when --replace is empty: {', '.join(REMOVERS)}, or "
             f"{DIFFUSION_REMOVER} (the best Stable Diffusion inpainting model installed). "
             f"Default: auto, "
             f"the first installed of {' and '.join(LEARNED_REMOVERS)}, else Stable Diffusion "
             f"with the removal prompts, else {OFFLINE_INPAINTER}")
    parser.add_argument("--verify", action="store_true",
                        help="after removing what --find names, find it again there and, while "
                             "it is still found, repaint with a larger mask; prints the scores")
    parser.add_argument("--verify-retries", type=non_negative_int,
                        default=JOB_DEFAULTS["verify_retries"], metavar="N",
                        help="with --verify, repaint at most N more times (default %(default)s)")
    parser.add_argument("--seed", type=int, help="random seed (default: a new one, printed)")
    parser.add_argument("--steps", type=positive_int, default=JOB_DEFAULTS["steps"],
                        help="diffusion sampling steps (default %(default)s)")
    parser.add_argument("--guidance", type=float, default=JOB_DEFAULTS["guidance"],
                        help="how closely to follow the text (default %(default)s)")
    parser.add_argument("--variants", type=positive_int, default=1, metavar="N",
                        help="paint N variants, written as OUT-1, OUT-2, ... (default 1)")
    add_guidance_options(parser)
    add_engine_options(parser)
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="the file to write (.jpg, .png, .webp or .tif)")
    parser.add_argument("--overwrite", action="store_true",
                        help="allow writing over an existing file or the input photo")

    def run(args: argparse.Namespace) -> int:
        if args.recipe is not None:
            from .recipe import run_recipe

            return run_recipe(args)
        if args.mask is not None and _shapes_found_mask(args):
            parser.error("--all, --not, --tight, --reference, --grow and --feather shape a found "
                         "mask; "
                         "with --mask the mask is used as it is")
        if args.removal and args.replace.strip():
            parser.error("--removal chooses what removes; with --replace, choose the painter "
                         "with --inpainter")
        if args.verify and (args.mask is not None or args.replace.strip()):
            parser.error("--verify checks a removal of what --find names: use it with --find "
                         "and without --replace")
        if args.guidance_mode == "clip" and not args.replace.strip():
            parser.error("--guidance-mode clip steers a replacement toward its words: give "
                         "--replace TEXT")
        return _run_edit(args)

    parser.set_defaults(func=run)
