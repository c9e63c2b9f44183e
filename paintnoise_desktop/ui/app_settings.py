"""What the window remembers between runs: observable settings kept in QSettings.

Each setting is defined once below with its key, default and range (see properties.py),
announces changes on its `<name>_changed` signal, and is clamped the same way when it is
set and when it is read back, so a corrupt settings file never breaks the window.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from PySide6.QtCore import QByteArray, QObject, QSettings, Signal

from ..core.jobs import GUIDANCE_FIELDS, InpaintJob, MaskSettings
from ..engine.find.heat_threshold import DEFAULT_THRESHOLD, MAX_THRESHOLD, MIN_THRESHOLD
from ..engine.inpaint.replace import MAX_VARIANTS
from ..engine.models.needs import AUTOMATIC_FINDER, AUTOMATIC_INPAINTER, REMOVERS
from .properties import (
    Colour,
    Flag,
    FloatRange,
    IntRange,
    Name,
    OneOf,
    OptionalInt,
    Setting,
    Text,
)

MAX_RECENT = 10
#: The brush is a diameter in photo pixels.
MIN_BRUSH, MAX_BRUSH = 1, 2000
DEFAULT_BRUSH_SIZE = 40
AUTOMATIC_INPAINTER_LABEL = "Automatic (best installed)"
DEFAULT_INPAINTER = AUTOMATIC_INPAINTER
#: Variant k of a Replace uses seed + k, so a seed leaves room for every variant below 2**31.
MAX_SEED = 2**31 - 1 - MAX_VARIANTS
FIND_MODES = ("best", "all")
#: The ways to find by words the selector beside Find offers ("points" is the Select tool's).
FIND_METHODS = (AUTOMATIC_FINDER, "segclip", "sam3", "clipseg", "segformer", "diffedit")
_MASK = MaskSettings()


@dataclass(frozen=True)
class InpaintDefaults:
    """The generation settings a Replace job is made with."""

    steps: int = 25
    guidance: float = 7.5
    strength: float = 1.0
    negative_prompt: str = ""
    seed: int | None = None  # None: a new random seed each time


_INPAINT = InpaintDefaults()
GUIDANCE_MODES = ("plain", "clip")
MAX_WEIGHT = 1e7  # past the study's largest (10^6), which already spreads the edit


class AppSettings(QObject):
    brush_size_changed = Signal(int)
    brush_share_changed = Signal(float)
    find_mode_changed = Signal(str)
    find_method_changed = Signal(str)
    clipseg_threshold_changed = Signal(float)
    tight_changed = Signal(bool)
    grow_fraction_changed = Signal(float)
    grow_min_px_changed = Signal(int)
    feather_px_changed = Signal(int)
    mask_settings_changed = Signal(object)  # MaskSettings, once per change of any of its four
    inpainter_changed = Signal(str)
    remover_changed = Signal(str)
    steps_changed = Signal(int)
    guidance_changed = Signal(float)
    strength_changed = Signal(float)
    negative_prompt_changed = Signal(str)
    seed_changed = Signal(object)  # int, or None for random
    variants_changed = Signal(int)
    guidance_mode_changed = Signal(str)
    clip_weight_changed = Signal(float)
    l2_weight_changed = Signal(float)
    lpips_weight_changed = Signal(float)
    guide_every_changed = Signal(int)
    generation_panel_open_changed = Signal(bool)
    verify_removal_changed = Signal(bool)
    verify_retries_changed = Signal(int)
    overlay_colour_changed = Signal(str)
    overlay_opacity_changed = Signal(float)
    overlay_outline_changed = Signal(bool)

    brush_size = Setting("brush/size", DEFAULT_BRUSH_SIZE, IntRange(MIN_BRUSH, MAX_BRUSH),
                         "The brush's diameter in photo pixels, as last used.")
    brush_share = Setting("brush/share", 0.0, FloatRange(0.0, 1.0),
                          "The brush's diameter as a share of the photo's longer side, as last "
                          "set on a photo (0: not yet), so it scales from photo to photo "
                          "(Canvas.remember_brush_in keeps both).")
    find_mode = Setting("find/mode", "best", OneOf(FIND_MODES),
                        "Whether Find masks the best match only or every one about as good.")
    find_method = Setting("find/method", AUTOMATIC_FINDER, OneOf(FIND_METHODS),
                          "How Find finds: automatic (SAM 3 when installed, else SegCLIP) or a "
                          "method by name.")
    clipseg_threshold = Setting("find/clipseg_threshold", DEFAULT_THRESHOLD,
                                FloatRange(MIN_THRESHOLD, MAX_THRESHOLD),
                                "Where CLIPSeg's heatmap is cut: what is likelier is masked.")
    tight = Setting("mask/tight", _MASK.tight, Flag())
    grow_fraction = Setting("mask/grow_fraction", _MASK.grow_fraction, FloatRange(0.0, 0.3))
    grow_min_px = Setting("mask/grow_min_px", _MASK.grow_min_px, IntRange(0, 200))
    feather_px = Setting("mask/feather_px", _MASK.feather_px, IntRange(0, 100))
    inpainter = Setting("inpaint/inpainter", DEFAULT_INPAINTER, Name(),
                        "An inpainter name, or AUTOMATIC_INPAINTER: the best installed.")
    remover = Setting("inpaint/remover", AUTOMATIC_INPAINTER, OneOf(REMOVERS),
                      "What removes when the replacement is empty (\"Remove with\"); "
                      "AUTOMATIC_INPAINTER: the first learned remover installed.")
    steps = Setting("inpaint/steps", _INPAINT.steps, IntRange(1, 150))
    guidance = Setting("inpaint/guidance", _INPAINT.guidance, FloatRange(1.0, 20.0))
    strength = Setting("inpaint/strength", _INPAINT.strength, FloatRange(0.05, 1.0))
    negative_prompt = Setting("inpaint/negative_prompt", _INPAINT.negative_prompt, Text(1000))
    seed = Setting("inpaint/seed", _INPAINT.seed, OptionalInt(IntRange(0, MAX_SEED)),
                   "The first variant's seed; None: a new random one each Replace.")
    variants = Setting("inpaint/variants", 1, IntRange(1, MAX_VARIANTS),
                       "How many versions one Replace paints, to compare and choose from.")
    guidance_mode = Setting("inpaint/guidance_mode", InpaintJob.guidance_mode,
                            OneOf(GUIDANCE_MODES),
                            "\"clip\": replacements are CLIP-guided (CLIP inside the mask, L2 "
                            "and LPIPS outside); \"plain\": Stable Diffusion alone.")
    clip_weight = Setting("inpaint/clip_weight", InpaintJob.clip_weight, FloatRange(0.0, MAX_WEIGHT))
    l2_weight = Setting("inpaint/l2_weight", InpaintJob.l2_weight, FloatRange(0.0, MAX_WEIGHT))
    lpips_weight = Setting("inpaint/lpips_weight", InpaintJob.lpips_weight,
                           FloatRange(0.0, MAX_WEIGHT))
    guide_every = Setting("inpaint/guide_every", InpaintJob.guide_every, IntRange(1, 50),
                          "CLIP guidance on every k-th sampling step (fewer is faster).")
    generation_panel_open = Setting("panels/generation_open", False, Flag())
    verify_removal = Setting("inpaint/verify_removal", False, Flag(),
                             "Check that removals worked: after removing something found by "
                             "words, find it again there, and repaint while it is still found.")
    verify_retries = Setting("inpaint/verify_retries", InpaintJob.verify_retries, IntRange(0, 5),
                             "How many times a checked removal may repaint with a larger mask.")
    overlay_colour = Setting("mask/overlay_colour", "#ff2020", Colour(),
                             "The mask's tint over the photo (pick another on objects of it).")
    overlay_opacity = Setting("mask/overlay_opacity", 0.45, FloatRange(0.05, 1.0))
    overlay_outline = Setting("mask/overlay_outline", False, Flag(),
                              "Whether the mask's edge is drawn as an opaque line too.")

    def __init__(self, settings: QSettings | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._qs = settings or QSettings("PaintNoise", "PaintNoise Desktop")
        self._mask_batch = False
        for name in ("tight", "grow_fraction", "grow_min_px", "feather_px"):
            getattr(self, f"{name}_changed").connect(self._mask_field_changed)

    @property
    def qsettings(self) -> QSettings:
        """The store itself, for dialogs that keep their own keys beside these."""
        return self._qs

    def sync(self) -> None:
        self._qs.sync()

    # Mask -------------------------------------------------------------------
    @property
    def mask_settings(self) -> MaskSettings:
        return MaskSettings(tight=self.tight, grow_fraction=self.grow_fraction,
                            grow_min_px=self.grow_min_px, feather_px=self.feather_px,
                            fill_holes=_MASK.fill_holes,
                            min_speck_fraction=_MASK.min_speck_fraction)

    @mask_settings.setter
    def mask_settings(self, settings: MaskSettings) -> None:
        before = self.mask_settings
        self._mask_batch = True
        try:
            self.tight = bool(settings.tight)
            self.grow_fraction = settings.grow_fraction
            self.grow_min_px = settings.grow_min_px
            self.feather_px = settings.feather_px
        finally:
            self._mask_batch = False
        if self.mask_settings != before:
            self.mask_settings_changed.emit(self.mask_settings)

    def _mask_field_changed(self, _value: object) -> None:
        if not self._mask_batch:
            self.mask_settings_changed.emit(self.mask_settings)

    # Replace ----------------------------------------------------------------
    def inpaint_defaults(self) -> InpaintDefaults:
        return InpaintDefaults(**{field.name: getattr(self, field.name)
                                  for field in fields(InpaintDefaults)})

    def reset_generation(self) -> None:
        """Every generation setting back to its default (the inpainter, remover and variants
        too)."""
        for name in (*(field.name for field in fields(InpaintDefaults)), "inpainter", "remover",
                     "variants", *GUIDANCE_FIELDS):
            type(self).__dict__[name].reset(self)

    # Recent files -------------------------------------------------------
    def recent_files(self) -> list[str]:
        """Recently opened photos, newest first, without files that no longer exist."""
        stored = self._list("recent/files")
        present = [path for path in stored if Path(path).is_file()]
        if present != stored:
            self._qs.setValue("recent/files", present)
        return present

    def add_recent_file(self, path: str | Path) -> None:
        path = str(Path(path).resolve())
        files = [path] + [p for p in self._list("recent/files") if p != path]
        self._qs.setValue("recent/files", files[:MAX_RECENT])

    def clear_recent_files(self) -> None:
        self._qs.setValue("recent/files", [])

    def _list(self, key: str) -> list[str]:
        value = self._qs.value(key, [])
        if isinstance(value, str):  # QSettings hands back a one-item list as a plain string
            return [value] if value else []
        if not isinstance(value, (list, tuple)):
            return []
        return [str(item) for item in value]

    # Window ---------------------------------------------------------------
    def window_geometry(self) -> QByteArray | None:
        return self._bytes("window/geometry")

    def window_state(self) -> QByteArray | None:
        return self._bytes("window/state")

    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self._qs.setValue("window/geometry", geometry)
        self._qs.setValue("window/state", state)

    def _bytes(self, key: str) -> QByteArray | None:
        value = self._qs.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None
