"""A CLIP-guided step's recipe keeps its mode, weights and interval, so a replay guides alike."""

from __future__ import annotations

import json

from paintnoise_desktop.core.recipe import Recipe


def test_a_guided_recipe_round_trips_and_gives_back_the_jobs_guidance_fields():
    recipe = Recipe("replace", prompt="an orange", inpainter="sd2-inpainting",
                    guidance_mode="clip", clip_weight=1e4, l2_weight=10.0, lpips_weight=1e3,
                    guide_every=2)
    again = Recipe.from_json(json.loads(json.dumps(recipe.to_json())))
    assert again == recipe
    assert again.guidance_fields() == {"guidance_mode": "clip", "clip_weight": 1e4,
                                       "l2_weight": 10.0, "lpips_weight": 1e3, "guide_every": 2}


def test_a_plain_recipe_and_one_from_before_guidance_add_nothing_to_the_job():
    assert Recipe("replace", prompt="a fork").guidance_fields() == {}
    older = Recipe("replace", prompt="a fork").to_json()
    for name in ("guidance_mode", "clip_weight", "l2_weight", "lpips_weight", "guide_every"):
        del older[name]
    assert Recipe.from_json(older).guidance_fields() == {}
