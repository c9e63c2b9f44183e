"""How the engine should run: device, precision, memory use and where models live.

The settings are kept in one small JSON file in the user's config folder
(`settings_file()`), read by both the window and the command line, so a model
added with `paintnoise models add` is seen by the window and the other way round.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

import platformdirs

from ..core.errors import PaintNoiseError

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
    if not isinstance(data, dict) or not isinstance(data.get("model_paths", {}), dict):
        raise PaintNoiseError(unreadable, detail="not a JSON object with a model_paths object")
    defaults = EngineSettings()
    models_dir = data.get("models_dir")
    return EngineSettings(
        device=str(data.get("device", defaults.device)),
        precision=_choice(data.get("precision"), PRECISIONS, defaults.precision),
        memory_profile=_choice(data.get("memory_profile"), MEMORY_PROFILES, defaults.memory_profile),
        models_dir=Path(models_dir) if models_dir else None,
        model_paths={str(k): str(v) for k, v in dict(data.get("model_paths", {})).items()},
        offline=bool(data.get("offline", defaults.offline)),
    )


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


def _choice(value, allowed: tuple[str, ...], default: str):
    return value if value in allowed else default
