"""Reading weight files without running anything inside them.

`.pth`/`.ckpt` files are pickles: they go through `torch.load(weights_only=True)`
only. A corrupt, truncated or wrong file becomes a `ModelError` that names the
file and the fix.
"""

from __future__ import annotations

import pickle
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from ...core.errors import ModelError
from .weight_files import broken_model_error, read_safetensors_header

CHECKPOINT_SUFFIXES = (".pth", ".pt", ".ckpt", ".bin")


def load_checkpoint(path: Path, model_id: str, inner: tuple[str, ...] = ("model",)
                    ) -> dict[str, Any]:
    """A state dict from a `.pth`/`.ckpt`/`.bin` file, refusing anything but tensors and plain data.

    Zip checkpoints (every `torch.save` since torch 1.6) are memory-mapped, so checking
    one or copying it into a model does not first read all of it into memory. A
    checkpoint that keeps its weights beside other things (a training checkpoint's
    "state_dict", a port's "G") is read at the first of the `inner` keys it has.
    """
    try:
        mmap = zipfile.is_zipfile(path)
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as error:  # weights_only met something besides plain data
        raise ModelError(
            f"{path} holds Python objects besides its weights (a training checkpoint, or a "
            f"file that could run code when opened), so PaintNoise does not open it. Use the "
            f"model's .safetensors file, or run: paintnoise models download {model_id}",
            detail=f"{type(error).__name__}: {error}") from error
    except Exception as error:  # zip and torch errors mean "not a usable checkpoint"
        raise broken_model_error(path, model_id, error) from error
    key = next((key for key in inner if isinstance(state, dict)
                and isinstance(state.get(key), dict)), None)
    if key is not None:
        state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise broken_model_error(path, model_id, TypeError("not a state dict of tensors"))
    return state


def load_weights(path: Path, model_id: str, inner: tuple[str, ...] = ("model",)
                 ) -> dict[str, torch.Tensor]:
    """A state dict from a `.safetensors` file (preferred) or a checkpoint read with weights only."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        read_safetensors_header(path, model_id)
        try:
            return load_file(path)
        except Exception as error:  # safetensors raises its own error types
            raise broken_model_error(path, model_id, error) from error
    if path.suffix in CHECKPOINT_SUFFIXES:
        return load_checkpoint(path, model_id, inner)
    raise ModelError(
        f"{path} is not a weights file PaintNoise can read. Use a .safetensors file "
        f"(or a .pth checkpoint), or run: paintnoise models download {model_id}",
    )


@contextmanager
def quiet_library_loading() -> Iterator[None]:
    """Load through transformers/diffusers without their console progress bars and notices.

    Those are written for notebooks; the app reports loading as a job step, and on
    the command line they would bury its own progress line. diffusers' notice that
    `torch_dtype` is now `dtype` is silenced because older releases we support only
    know `torch_dtype`.
    """
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    diffusers_logging.disable_progress_bar()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*torch_dtype.*", category=FutureWarning)
        yield
