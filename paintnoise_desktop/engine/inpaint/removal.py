"""Prompts for removing what was found (an empty "replace with").

Asked to fill a hole with nothing in particular, an inpainting model tends to paint
a new object there, often the one that was removed. Removal therefore asks for the
background and names the found object, and the usual culprits, in the negative prompt.
"""

from __future__ import annotations

from ...core.jobs import InpaintJob
from .inpainter import PaintRequest

REMOVAL_PROMPT = "empty background, natural continuation of the surroundings, seamless, photo"
REMOVAL_NEGATIVE = "object, person, text, watermark, artifacts"


def is_removal(job: InpaintJob) -> bool:
    return not job.prompt.strip()


def removal_negative_prompt(find_text: str, negative_prompt: str = "") -> str:
    """The found object's words, the usual intruders, then the user's own negative prompt."""
    parts = [find_text.strip(), REMOVAL_NEGATIVE, negative_prompt.strip()]
    return ", ".join(part for part in parts if part)


def paint_request(job: InpaintJob) -> PaintRequest:
    """What the inpainter is asked for: the user's prompt, or the removal prompts."""
    if is_removal(job):
        prompt = REMOVAL_PROMPT
        negative = removal_negative_prompt(job.find_text, job.negative_prompt)
    else:
        prompt, negative = job.prompt.strip(), job.negative_prompt.strip()
    return PaintRequest(prompt, negative, job.steps, job.guidance, job.strength)
