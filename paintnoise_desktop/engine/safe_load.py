"""Reading weight files without running anything inside them.

`.pth`/`.ckpt` files are pickles: they go through `torch.load(weights_only=True)`
only. A corrupt, truncated or wrong file becomes a `ModelError` that names the
file and the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..core.errors import ModelError


def broken_model_error(path: Path, model_id: str, error: BaseException) -> ModelError:
    return ModelError(
        f"The model file {path} could not be read; it may be incomplete or damaged. "
        f"Run: paintnoise models verify {model_id}  (or download it again).",
        detail=f"{type(error).__name__}: {error}",
    )


def load_checkpoint(path: Path, model_id: str) -> dict[str, Any]:
    """A state dict from a `.pth`/`.ckpt` file, refusing anything but tensors and plain data."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # pickle, zip and torch errors all mean "not a usable checkpoint"
        raise broken_model_error(path, model_id, error) from error
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        state = state["model"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise broken_model_error(path, model_id, TypeError("not a state dict of tensors"))
    return state
