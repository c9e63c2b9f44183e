"""Where each model's files are.

Resolution order: a path the user set for the model (`EngineSettings.model_paths`),
then the models folder (`<models folder>/<model id>/`), then the Hugging Face cache
(for models that come from the hub), else the model is not installed.

The models folder is `settings.models_dir`, else `PAINTNOISE_MODELS_DIR`, else the
platform's user data folder + `models`. A download in progress keeps a marker file
in the model's folder until its last file is in place, so a half-downloaded model
is never taken for an installed one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import platformdirs

from ...core.errors import ModelMissingError
from ..settings import EngineSettings
from .catalog import ModelSpec, known_spec, missing_files

INCOMPLETE_MARKER = ".paintnoise-incomplete"  # present while a download is not finished
MANIFEST = "paintnoise-model.json"  # written last by a finished download
MODEL_MANAGER_MENU = "Models > Model Manager…"  # the window's menu path, as its menus spell it

Origin = Literal["user path", "models folder", "Hugging Face cache"]


@dataclass(frozen=True)
class Location:
    path: Path
    origin: Origin


def models_dir(settings: EngineSettings) -> Path:
    if settings.models_dir is not None:
        return Path(settings.models_dir)
    env = os.environ.get("PAINTNOISE_MODELS_DIR")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("paintnoise", "PaintNoise")) / "models"


def expected_path(model_id: str, settings: EngineSettings) -> Path:
    """Where a model is looked for in the models folder (`paintnoise models path ID`)."""
    return models_dir(settings) / model_id


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache, read from the environment now (not at import time)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]) / "hub"
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "huggingface" / "hub"


def locate(model_id: str, settings: EngineSettings) -> Location | None:
    """The installed location of a model and where it was found, or None."""
    user_path = settings.model_paths.get(model_id)
    if user_path and Path(user_path).exists():
        return Location(Path(user_path), "user path")
    folder = expected_path(model_id, settings)
    if folder_is_complete(folder):
        return Location(folder, "models folder")
    spec = known_spec(model_id)
    if spec is not None and spec.repo:
        snapshot = find_in_hf_cache(spec)
        if snapshot is not None:
            return Location(snapshot, "Hugging Face cache")
    return None


def find_model(model_id: str, settings: EngineSettings) -> Path | None:
    """The installed location of a model, or None when it is not installed."""
    location = locate(model_id, settings)
    return location.path if location else None


def require_model(model_id: str, settings: EngineSettings) -> Path:
    path = find_model(model_id, settings)
    if path is None:
        raise ModelMissingError(
            model_id,
            f"The model '{model_id}' is not installed. Download it from {MODEL_MANAGER_MENU}, "
            f"or run: paintnoise models download {model_id}.",
            detail=f"looked in {expected_path(model_id, settings)} and the Hugging Face cache",
        )
    return path


STATUS_BY_ORIGIN = {
    "models folder": "installed",
    "Hugging Face cache": "installed (Hugging Face cache)",
    "user path": "added by path",
}


def install_status(model_id: str, settings: EngineSettings) -> str:
    """A few words for lists: installed, added by path, download not finished, not installed."""
    location = locate(model_id, settings)
    if location is not None:
        return STATUS_BY_ORIGIN[location.origin]
    if (expected_path(model_id, settings) / INCOMPLETE_MARKER).exists():
        return "download not finished"
    return "not installed"


def folder_is_complete(folder: Path) -> bool:
    """A non-empty model folder with no download in progress (copied by hand counts)."""
    if not folder.is_dir() or (folder / INCOMPLETE_MARKER).exists():
        return False
    return any(folder.iterdir())


def find_in_hf_cache(spec: ModelSpec) -> Path | None:
    """The snapshot folder of a hub model in the Hugging Face cache, if every needed file is there."""
    from huggingface_hub import try_to_load_from_cache

    required = spec.required_files
    if not required:
        return None
    first = try_to_load_from_cache(spec.repo, required[0].path, cache_dir=hf_cache_dir(),
                                   revision=spec.revision)
    if not isinstance(first, str):
        return None
    snapshot = Path(first)
    for _ in Path(required[0].path).parts:
        snapshot = snapshot.parent
    return None if missing_files(spec, snapshot) else snapshot
