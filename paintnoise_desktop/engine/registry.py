"""Where each model's files are: a path the user set, then the models folder.

Each model lives in `<models folder>/<model id>/`; the models folder is
`PAINTNOISE_MODELS_DIR` if set, else the platform's user data folder + `models`.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from ..core.errors import ModelMissingError
from .settings import EngineSettings


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


def find_model(model_id: str, settings: EngineSettings) -> Path | None:
    """The installed location of a model, or None when it is not installed."""
    user_path = settings.model_paths.get(model_id)
    if user_path and Path(user_path).exists():
        return Path(user_path)
    folder = expected_path(model_id, settings)
    if folder.is_dir() and any(folder.iterdir()):
        return folder
    return None


def require_model(model_id: str, settings: EngineSettings) -> Path:
    path = find_model(model_id, settings)
    if path is None:
        raise ModelMissingError(
            model_id,
            f"The model '{model_id}' is not installed. Download it from Models > Model manager, "
            f"or run: paintnoise models download {model_id}",
            detail=f"looked in {expected_path(model_id, settings)}",
        )
    return path
