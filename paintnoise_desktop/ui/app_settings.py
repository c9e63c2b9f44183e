"""What the window remembers between runs, kept in QSettings under typed names."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Literal

from PySide6.QtCore import QByteArray, QSettings

from ..core.jobs import MaskSettings
from ..engine.inpaint.replace import AUTOMATIC_INPAINTER

MAX_RECENT = 10
DEFAULT_BRUSH_SIZE = 40
AUTOMATIC_INPAINTER_LABEL = "Automatic (best installed)"
DEFAULT_INPAINTER = AUTOMATIC_INPAINTER
MAX_VARIANTS = 8


class AppSettings:
    def __init__(self, settings: QSettings | None = None) -> None:
        self._qs = settings or QSettings("PaintNoise", "PaintNoise Desktop")

    @property
    def qsettings(self) -> QSettings:
        """The store itself, for dialogs that keep their own keys beside these."""
        return self._qs

    def sync(self) -> None:
        self._qs.sync()

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
        return [str(item) for item in value or []]

    # Brush, mask and inpainting ----------------------------------------
    @property
    def brush_size(self) -> int:
        return self._int("brush/size", DEFAULT_BRUSH_SIZE)

    @brush_size.setter
    def brush_size(self, size: int) -> None:
        self._qs.setValue("brush/size", int(size))

    @property
    def mask_settings(self) -> MaskSettings:
        defaults = MaskSettings()
        return replace(
            defaults,
            tight=self._bool("mask/tight", defaults.tight),
            grow_fraction=self._float("mask/grow_fraction", defaults.grow_fraction),
            grow_min_px=self._int("mask/grow_min_px", defaults.grow_min_px),
            feather_px=self._int("mask/feather_px", defaults.feather_px),
        )

    @mask_settings.setter
    def mask_settings(self, settings: MaskSettings) -> None:
        self._qs.setValue("mask/tight", bool(settings.tight))
        self._qs.setValue("mask/grow_fraction", float(settings.grow_fraction))
        self._qs.setValue("mask/grow_min_px", int(settings.grow_min_px))
        self._qs.setValue("mask/feather_px", int(settings.feather_px))

    @property
    def find_mode(self) -> Literal["best", "all"]:
        """Whether Find uses the best match only or every candidate about as good."""
        return "all" if self._qs.value("find/mode", "best") == "all" else "best"

    @find_mode.setter
    def find_mode(self, mode: Literal["best", "all"]) -> None:
        self._qs.setValue("find/mode", mode)

    @property
    def inpainter(self) -> str:
        """An inpainter name, or AUTOMATIC_INPAINTER to pick the best installed at each Replace."""
        return str(self._qs.value("inpaint/inpainter", DEFAULT_INPAINTER))

    @inpainter.setter
    def inpainter(self, inpainter: str) -> None:
        self._qs.setValue("inpaint/inpainter", inpainter)

    @property
    def variants(self) -> int:
        """How many versions one Replace paints, to compare and choose from."""
        return max(1, min(MAX_VARIANTS, self._int("inpaint/variants", 1)))

    @variants.setter
    def variants(self, count: int) -> None:
        self._qs.setValue("inpaint/variants", int(count))

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

    def _int(self, key: str, default: int) -> int:
        try:
            return int(self._qs.value(key, default))
        except (TypeError, ValueError):
            return default

    def _bool(self, key: str, default: bool) -> bool:
        value = self._qs.value(key, default)
        if isinstance(value, str):  # an INI file hands booleans back as text
            return value.lower() in ("true", "1")
        return bool(value)

    def _float(self, key: str, default: float) -> float:
        try:
            return float(self._qs.value(key, default))
        except (TypeError, ValueError):
            return default
