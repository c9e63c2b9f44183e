"""Loaded models, kept warm between jobs and shared by every finder and inpainter."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any, TypeVar

from ..settings import EngineSettings

T = TypeVar("T")


class ModelStore:
    """Models by key ("sam-vit-b", "clip-vit-base-patch32@cuda", ...), loaded once on first use."""

    def __init__(self, settings: EngineSettings | None = None) -> None:
        self.settings = settings or EngineSettings()
        self._models: dict[str, Any] = {}

    def get(self, key: str, load: Callable[[], T]) -> T:
        if key not in self._models:
            self._models[key] = load()
        return self._models[key]

    def loaded(self) -> list[str]:
        return sorted(self._models)

    def unload(self, key: str | None = None) -> None:
        """Forget one model, or all of them, and give their memory back."""
        if key is None:
            self._models.clear()
        else:
            self._models.pop(key, None)
        gc.collect()
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:  # pragma: no cover - torch is a dependency
            pass
