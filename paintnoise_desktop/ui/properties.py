"""Observable settings: each defined once with its key, default and range, stored in QSettings.

A `Setting` is a descriptor on a QObject that also declares a `<name>_changed` signal
(the pattern of krita-ai-diffusion's `Property`). Reading goes through the same clamp as
writing, so a value edited by hand or written by an older version (nan, 1e9, text) comes
back inside its range or as the default, never as an exception. `bind` ties a widget to
a setting both ways, taking its range from the setting, so no widget has limits of its own.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, QSettings, QSignalBlocker
from PySide6.QtWidgets import (
    QAbstractSlider,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLineEdit,
    QSpinBox,
    QWidget,
)

T = TypeVar("T")
log = logging.getLogger(__name__)
_reported: set[tuple[str, str]] = set()  # bad stored values already logged


def _number(raw: object) -> float:
    """A finite number from what QSettings hands back (numbers, or text in an INI file)."""
    if isinstance(raw, bool):
        raise TypeError("a boolean is not a number")
    value = float(raw.strip() if isinstance(raw, str) else raw)  # type: ignore[arg-type]
    if not math.isfinite(value):
        raise ValueError(f"{raw!r} is not a finite number")
    return value


@dataclass(frozen=True)
class IntRange:
    low: int
    high: int

    def __call__(self, raw: object) -> int:
        return int(min(self.high, max(self.low, round(_number(raw)))))


@dataclass(frozen=True)
class FloatRange:
    low: float
    high: float

    def __call__(self, raw: object) -> float:
        return min(self.high, max(self.low, _number(raw)))


@dataclass(frozen=True)
class OneOf:
    values: tuple[str, ...]

    def __call__(self, raw: object) -> str:
        if raw not in self.values:
            raise ValueError(f"{raw!r} is not one of {self.values}")
        return str(raw)


@dataclass(frozen=True)
class Text:
    max_length: int = 1000

    def __call__(self, raw: object) -> str:
        if not isinstance(raw, str):
            raise TypeError(f"{raw!r} is not text")
        return raw[: self.max_length]


@dataclass(frozen=True)
class Name:
    """Non-empty text without spaces at its ends: an id such as a model's."""

    def __call__(self, raw: object) -> str:
        if not isinstance(raw, str) or not raw.strip():
            raise ValueError(f"{raw!r} is not a name")
        return raw.strip()[:200]


@dataclass(frozen=True)
class Colour:
    """A colour as "#rrggbb"."""

    def __call__(self, raw: object) -> str:
        if not isinstance(raw, str) or not re.fullmatch(r"#[0-9a-fA-F]{6}", raw.strip()):
            raise ValueError(f"{raw!r} is not a colour like #ff2020")
        return raw.strip().lower()


@dataclass(frozen=True)
class Flag:
    def __call__(self, raw: object) -> bool:
        if isinstance(raw, str):  # an INI file hands booleans back as text
            if raw.lower() in ("true", "1"):
                return True
            if raw.lower() in ("false", "0"):
                return False
            raise ValueError(f"{raw!r} is not a boolean")
        if isinstance(raw, bool) or raw in (0, 1):
            return bool(raw)
        raise ValueError(f"{raw!r} is not a boolean")


@dataclass(frozen=True)
class OptionalInt:
    """An integer in range, or None (stored as empty text): e.g. a seed, None = random."""

    range: IntRange

    def __call__(self, raw: object) -> int | None:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        value = _number(raw)
        if not value.is_integer():
            raise ValueError(f"{raw!r} is not a whole number")
        if not self.range.low <= value <= self.range.high:
            raise ValueError(f"{raw!r} is out of range")  # a seed is not clamped: it would lie
        return int(value)


class Setting(Generic[T]):
    """One value kept in the owner's `qsettings` under `key`, announced by `<name>_changed`."""

    def __init__(self, key: str, default: T, clamp: Callable[[object], T], doc: str = "") -> None:
        self.key, self.default, self.clamp = key, default, clamp
        self.__doc__ = doc
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @property
    def signal_name(self) -> str:
        return f"{self.name}_changed"

    def read(self, qsettings: QSettings) -> T:
        raw = qsettings.value(self.key, None)
        if raw is None:
            return self.default
        try:
            return self.clamp(raw)
        except (TypeError, ValueError, OverflowError) as error:
            if (self.key, repr(raw)) not in _reported:  # once, though read on every use
                _reported.add((self.key, repr(raw)))
                log.warning("setting %s = %r is not valid (%s); using the default, %r",
                            self.key, raw, error, self.default)
            return self.default

    def __get__(self, owner: Any, owner_type: type | None = None) -> Any:
        if owner is None:
            return self  # on the class: the definition, with its range
        return self.read(owner.qsettings)

    def __set__(self, owner: Any, value: T) -> None:
        value = self.clamp(value)
        changed = value != self.read(owner.qsettings)
        owner.qsettings.setValue(self.key, "" if value is None else value)
        if changed:
            getattr(owner, self.signal_name).emit(value)

    def reset(self, owner: Any) -> None:
        self.__set__(owner, self.default)


def setting_of(owner: QObject, name: str) -> Setting:
    setting = getattr(type(owner), name)
    if not isinstance(setting, Setting):
        raise TypeError(f"{name!r} is not a setting of {type(owner).__name__}")
    return setting


def set_range(widget: QSpinBox | QDoubleSpinBox | QAbstractSlider, setting: Setting,
              scale: float = 1.0) -> None:
    """Give a number widget the setting's range (times `scale`)."""
    limits = getattr(setting.clamp, "range", setting.clamp)
    low, high = limits.low * scale, limits.high * scale
    if isinstance(widget, QDoubleSpinBox):
        widget.setRange(low, high)
    else:
        widget.setRange(round(low), round(high))


def bind(owner: QObject, name: str, widget: QWidget, scale: float = 1.0) -> None:
    """Show setting `name` of `owner` in `widget` and keep the two in step both ways.

    Spin boxes and sliders take the setting's range (times `scale`, for a slider in tenths
    of a percent, say); a combo box's items carry the setting's values as item data; a line
    edit stores on editingFinished (an OptionalInt accepts empty text as None).
    """
    setting = setting_of(owner, name)
    signal = getattr(owner, setting.signal_name)

    def store(value: object) -> None:
        try:
            setattr(owner, name, value)
        except (TypeError, ValueError):
            show(getattr(owner, name))  # not a value it takes: show what is kept

    if isinstance(widget, (QSpinBox, QDoubleSpinBox, QAbstractSlider)):
        set_range(widget, setting, scale)

        def show(value: object) -> None:
            widget.setValue(value * scale)  # type: ignore[operator]

        widget.valueChanged.connect(lambda value: store(value / scale))
    elif isinstance(widget, QComboBox):

        def show(value: object) -> None:
            index = widget.findData(value)
            if index < 0:  # a value saved by a newer version, or typed by hand
                widget.addItem(str(value), value)
                index = widget.count() - 1
            widget.setCurrentIndex(index)

        widget.currentIndexChanged.connect(lambda index: store(widget.itemData(index)))
    elif isinstance(widget, QCheckBox):

        def show(value: object) -> None:
            widget.setChecked(bool(value))

        widget.toggled.connect(store)
    elif isinstance(widget, QLineEdit):

        def show(value: object) -> None:
            widget.setText("" if value is None else str(value))

        widget.editingFinished.connect(lambda: store(widget.text().strip()))
    else:
        raise TypeError(f"cannot bind a {type(widget).__name__}")

    def show_quietly(value: object) -> None:
        with QSignalBlocker(widget):
            show(value)

    show_quietly(getattr(owner, name))
    signal.connect(show_quietly)
    widget.destroyed.connect(lambda: _disconnect(signal, show_quietly))


def _disconnect(signal: Any, slot: Callable[[object], None]) -> None:
    """A widget bound to a longer-lived setting leaves no slot behind when it goes."""
    try:
        signal.disconnect(slot)
    except (RuntimeError, TypeError):
        pass  # the owner went first

