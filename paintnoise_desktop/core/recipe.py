"""How a generated step was made, kept with its history step so it can be made again.

A `Recipe` holds what a Find, a found-mask adjustment, a mask operation or a
Replace/Remove was asked to do (the words, the model, the seed, every setting), not
its pixels: the project file stores it beside the step's patches, and
`paintnoise edit --recipe` replays it on another photo. Brush strokes have none.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from .box import Box
from .jobs import GUIDANCE_FIELDS, MaskSettings

KINDS = ("find", "mask", "replace", "remove")


@dataclass(frozen=True)
class Recipe:
    kind: str  # "find" (a found mask), "mask" (Grow, Invert ...), "replace" or "remove"
    find_text: str = ""  # the phrase as typed ("pole, not person")
    method: str = ""  # the find method ("segclip", ...), for "find"
    mode: str = "best"  # "best" or "all" candidates, for "find"
    mask_settings: MaskSettings | None = None  # the found mask's post-processing, for "find"
    operation: str = ""  # "grow", "invert" ..., for "mask"
    amount_px: int = 0  # the operation's amount, for "mask"
    prompt: str = ""  # what was painted, for "replace"
    negative_prompt: str = ""
    inpainter: str = ""  # the inpainter or catalogue model id asked for
    model_files: tuple[tuple[str, str], ...] = ()  # (file, sha256) where the catalogue knows
    seed: int | None = None  # the seed the applied variant was painted with
    steps: int = 0
    guidance: float = 0.0
    strength: float = 0.0
    crop_box: Box | None = None  # the box of pixels the inpainter changed
    guidance_mode: str = "plain"  # "clip": CLIP-guided, with these weights and interval
    clip_weight: float = 0.0
    l2_weight: float = 0.0
    lpips_weight: float = 0.0
    guide_every: int = 1

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"a recipe's kind is one of {', '.join(KINDS)}, not {self.kind!r}")

    def guidance_fields(self) -> dict[str, Any]:
        """The InpaintJob fields of CLIP guidance, as recorded (none for plain painting)."""
        if self.guidance_mode != "clip":
            return {}
        return {name: getattr(self, name) for name in GUIDANCE_FIELDS}

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["model_files"] = [list(pair) for pair in self.model_files]
        data["crop_box"] = list(self.crop_box) if self.crop_box is not None else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Recipe:
        """The recipe `to_json` wrote; unknown keys (from a newer version) are ignored."""
        known = {field.name for field in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        settings = values.get("mask_settings")
        if settings is not None:
            names = {field.name for field in fields(MaskSettings)}
            values["mask_settings"] = MaskSettings(
                **{key: value for key, value in settings.items() if key in names})
        values["model_files"] = tuple(tuple(pair) for pair in values.get("model_files", ()))
        if values.get("crop_box") is not None:
            values["crop_box"] = tuple(int(v) for v in values["crop_box"])
        return cls(**values)
