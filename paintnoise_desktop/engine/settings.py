"""How the engine should run: device, precision, memory use and where models live.

The settings are kept in one small JSON file in the user's config folder
(`settings_file()`), read by both the window and the command line, so a model
added with `paintnoise models add` is seen by the window and the other way round.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

import platformdirs

from ..core.errors import PaintNoiseError

log = logging.getLogger(__name__)

PRECISIONS = ("auto", "fp16", "bf16", "fp32")
MEMORY_PROFILES = ("auto", "keep", "offload", "low")


@dataclass(frozen=True)
class EngineSettings:
    device: str = "auto"  # "auto", "cpu", "cuda", "cuda:1", "mps"
    precision: Literal["auto", "fp16", "bf16", "fp32"] = "auto"
    # "keep": everything on the GPU; "offload": parts wait in CPU memory until used;
    # "low": offload plus VAE tiling and attention slicing; "auto": chosen from free GPU memory
    memory_profile: Literal["auto", "keep", "offload", "low"] = "auto"
    models_dir: Path | None = None  # None: PAINTNOISE_MODELS_DIR or the platform default
    model_paths: dict[str, str] = field(default_factory=dict)  # model id -> path the user set
    offline: bool = False
    # on the CPU, SegCLIP proposes with SAM 2.1 Hiera-tiny when installed (False: Segment Anything)
    fast_cpu_finder: bool = True


def settings_file() -> Path:
    """`PAINTNOISE_SETTINGS` if set, else `<user config dir>/paintnoise/settings.json`."""
    env = os.environ.get("PAINTNOISE_SETTINGS")
    if env:
        return Path(env)
    return Path(platformdirs.user_config_dir("paintnoise", "PaintNoise")) / "settings.json"


def load_settings(path: Path | None = None) -> EngineSettings:
    """The saved settings, or the defaults when nothing was saved yet."""
    path = path or settings_file()
    unreadable = (f"The settings file {path} could not be read. "
                  "Fix or delete it to start from the defaults.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return EngineSettings()
    except (OSError, ValueError) as error:
        raise PaintNoiseError(unreadable, detail=str(error)) from error
    if not isinstance(data, dict):
        raise PaintNoiseError(unreadable, detail="not a JSON object")
    defaults = EngineSettings()
    values = {}
    for name, check in _CHECKS.items():
        if data.get(name) in (None, ""):
            continue  # not saved (or saved as none): the default
        try:
            values[name] = check(data[name])
        except (TypeError, ValueError) as error:
            log.warning("%s: %s = %r is not valid (%s); using the default, %r",
                        path, name, data[name], error, getattr(defaults, name))
    return replace(defaults, **values)


def reset_settings(path: Path | None = None) -> Path:
    """Start again from the defaults; a file that was there is kept beside as `.broken`."""
    path = path or settings_file()
    if path.exists():
        os.replace(path, path.with_name(path.name + ".broken"))
    return save_settings(EngineSettings(), path)


def save_settings(settings: EngineSettings, path: Path | None = None) -> Path:
    path = path or settings_file()
    data = asdict(settings)
    data["models_dir"] = str(settings.models_dir) if settings.models_dir else None
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    part.replace(path)
    return path


def with_model_path(settings: EngineSettings, model_id: str, path: Path | None) -> EngineSettings:
    """The same settings with a user-chosen path for one model (None forgets it)."""
    paths = dict(settings.model_paths)
    if path is None:
        paths.pop(model_id, None)
    else:
        paths[model_id] = str(path)
    return replace(settings, model_paths=paths)


def _one_of(allowed: tuple[str, ...]):
    def check(value: object) -> str:
        if value not in allowed:
            raise ValueError(f"not one of {', '.join(allowed)}")
        return str(value)

    return check


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TypeError("not a text")
    return value.strip()


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError("not true or false")
    return value


def _folder(value: object) -> Path:
    return Path(_text(value)).expanduser()


def _model_paths(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise TypeError("not an object of model ids and paths")
    kept = {key: path for key, path in value.items()
            if isinstance(key, str) and isinstance(path, str) and key and path}
    if len(kept) != len(value):
        log.warning("settings: model paths that are not text were left out: %r",
                    {key: path for key, path in value.items() if key not in kept})
    return kept


#: How each saved field is read; a value a check refuses is replaced by the default.
_CHECKS = {
    "device": _text,
    "precision": _one_of(PRECISIONS),
    "memory_profile": _one_of(MEMORY_PROFILES),
    "models_dir": _folder,
    "model_paths": _model_paths,
    "offline": _flag,
    "fast_cpu_finder": _flag,
}
