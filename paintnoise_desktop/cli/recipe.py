"""`paintnoise edit --recipe PROJECT.paintnoise PHOTO -o OUT`: a project's steps on another photo.

Each applied step of the project that has a recipe is made again on PHOTO, in order:
a Find finds its phrase again (same method, mode and mask settings) and its mask becomes the
mask; a mask operation (Grow, Invert ...) runs on the mask; a Replace or Remove repaints the
mask with the recorded inpainter, prompt, seed, steps, guidance and strength. Brush strokes
have no recipe (they were drawn on the other photo): they are listed as skipped. Every model
the steps need is checked before any work.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..core import masks
from ..core.errors import PaintNoiseError
from ..core.imagefile import format_for_path, load_image, save_image
from ..core.jobs import FindJob, InpaintJob, MaskSettings
from ..core.project import read_recipes
from ..core.recipe import Recipe
from ..engine.find.finder import METHODS
from ..engine.find.found import Chosen
from ..engine.find.ranking import parse_query
from ..engine.models.needs import (
    AUTOMATIC_FINDER,
    find_action,
    find_needs,
    inpaint_action,
    paint_needs,
)
from ..engine.runner import Engine
from .jobs import TextProgress, check_models, engine_for, run_job
from .paths import check_writable

FIND_JOB_ID, INPAINT_JOB_ID = 1, 2
_AMOUNT_OPERATIONS = ("grow", "shrink", "feather")  # the mask operations that take pixels


def run_recipe(args: argparse.Namespace) -> int:
    output = Path(args.output)
    format_for_path(output)  # an unknown suffix fails here, not after the painting
    check_writable([output], args.photo, args.overwrite)
    steps = read_recipes(args.recipe)
    engine = engine_for(args)
    check_models([_needs(recipe, engine) for _, recipe in steps if recipe is not None],
                 engine.settings)
    progress = TextProgress()
    photo = load_image(args.photo)
    rgb, mask = photo.rgb.copy(), np.zeros(photo.rgb.shape[:2], np.uint8)
    made = 0
    for number, (name, recipe) in enumerate(steps, 1):
        if recipe is None:
            progress.note(f"step {number} skipped: {name} (drawn by hand on the other photo; "
                          "no recipe)")
            continue
        progress.note(f"step {number}: {name}")
        if recipe.kind == "find":
            mask = _found_mask(engine, rgb, recipe, progress)
        elif recipe.kind == "mask":
            mask = _operated(recipe, mask)
        else:
            rgb = _painted(engine, rgb, mask, recipe, progress)
        made += 1
    if not made:
        raise PaintNoiseError(f"{args.recipe} has no step that can be made again on another "
                              "photo (brush strokes have no recipe).")
    save_image(output, rgb, alpha=photo.alpha, exif=photo.exif,
               icc_profile=photo.icc_profile)
    progress.note(f"wrote {output} ({made} of {len(steps)} steps made again)")
    print(output)
    return 0


def _method(recipe: Recipe) -> str:
    """The recorded find method; a mask source that is no method (a click) finds as usual."""
    return recipe.method if recipe.method in METHODS else AUTOMATIC_FINDER


def _needs(recipe: Recipe, engine: Engine) -> tuple[str, tuple[str, ...]]:
    if recipe.kind == "find":
        return find_action(recipe.find_text), find_needs(_method(recipe), engine.settings)
    if recipe.kind == "mask":
        return recipe.operation, ()
    return inpaint_action(recipe.prompt), paint_needs(recipe.inpainter, recipe.prompt,
                                                      recipe.guidance_mode, engine.settings)


def _found_mask(engine: Engine, rgb: np.ndarray, recipe: Recipe,
                progress: TextProgress) -> np.ndarray:
    wanted, excluded = parse_query(recipe.find_text)
    mode = "all" if recipe.mode == "all" else "best"
    job = FindJob(FIND_JOB_ID, rgb, wanted, tuple(excluded), mode, method=_method(recipe))
    candidates = run_job(engine, job, progress).candidates
    if not candidates:
        raise PaintNoiseError(f"Nothing like \u201c{recipe.find_text}\u201d was found in this "
                              "photo, so the recipe cannot go on.")
    chosen = Chosen.pick(wanted, candidates, mode)
    height, width = rgb.shape[:2]
    return chosen.full_size_mask(width, height, recipe.mask_settings or MaskSettings())


def _operated(recipe: Recipe, mask: np.ndarray) -> np.ndarray:
    if recipe.operation == "clear":
        return masks.clear(mask.shape)
    operate = getattr(masks, recipe.operation)  # grow, shrink, feather, fill_holes, invert
    return operate(mask, recipe.amount_px) if recipe.operation in _AMOUNT_OPERATIONS \
        else operate(mask)


def _painted(engine: Engine, rgb: np.ndarray, mask: np.ndarray, recipe: Recipe,
             progress: TextProgress) -> np.ndarray:
    if not mask.any():
        raise PaintNoiseError("The mask is empty when the recipe repaints, so there is nothing "
                              "to repaint.")
    job = InpaintJob(
        INPAINT_JOB_ID, rgb, mask, prompt=recipe.prompt,
        find_text=parse_query(recipe.find_text)[0], negative_prompt=recipe.negative_prompt,
        inpainter=recipe.inpainter, steps=recipe.steps, guidance=recipe.guidance,
        strength=recipe.strength, seed=recipe.seed, **recipe.guidance_fields())
    variant = run_job(engine, job, progress).variants[0]
    return variant.image
