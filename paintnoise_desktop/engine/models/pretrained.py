"""Loading a transformers model and its processor from a folder, refusing anything half-there;
`get_pretrained` keeps one loaded on the settings' device.

One path for every model kept as a save_pretrained folder or a hub snapshot (CLIP,
CLIPSeg, SegFormer, ...): safetensors or `.bin`, sharded or not, `.bin` weights unpickled
with weights_only=True, no remote code trusted. Weights missing from the files are an
error, not random values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import torch

from ...core.errors import ModelError
from .device import pick_device, pick_dtype
from .model_store import ModelStore
from .registry import require_model
from .safe_load import quiet_library_loading


def unusable_folder(name: str, folder: Path, model_id: str, detail: str) -> ModelError:
    return ModelError(
        f"The {name} model in {folder} could not be loaded; it may be incomplete or damaged. "
        f"Run: paintnoise models verify {model_id}  (or download it again).",
        detail=detail,
    )


def load_pretrained(name: str, folder: Path, model_id: str, model_class: Any,
                    processor_class: Any) -> tuple[Any, Any]:
    """`model_class` and `processor_class` read from `folder`; `name` is the model's kind for
    the user ("CLIP"). ModelError when the folder cannot make them whole."""
    try:
        with quiet_library_loading():
            model, info = model_class.from_pretrained(
                folder, local_files_only=True, weights_only=True, output_loading_info=True
            )
            processor = processor_class.from_pretrained(folder, local_files_only=True)
    except Exception as error:  # OS, JSON, safetensors and config errors all mean "unusable folder"
        raise unusable_folder(name, folder, model_id,
                              f"{type(error).__name__}: {error}") from error
    missing = sorted(info.get("missing_keys") or ())
    mismatched = info.get("mismatched_keys") or ()
    if missing or mismatched:
        raise unusable_folder(
            name, folder, model_id,
            f"weights missing: {missing[:3]}; of the wrong shape: {mismatched[:3]}")
    tokenizer = getattr(processor, "tokenizer", None)
    if tokenizer is not None:
        words, vocabulary = len(tokenizer), model.config.text_config.vocab_size
        if words <= len(tokenizer.all_special_tokens) or words > vocabulary:
            # transformers makes an empty tokenizer, with a warning, when its files are missing
            raise unusable_folder(name, folder, model_id,
                                  f"the tokenizer has {words} tokens, the model {vocabulary}")
    return model.eval(), processor


T = TypeVar("T", bound="OnDevice")


class OnDevice:
    """A loaded transformers model with its processor, on the device the settings pick."""

    def __init__(self, model, processor, device: torch.device, dtype: torch.dtype) -> None:
        self.model = model
        self.processor = processor
        self.device = device
        self.dtype = dtype


def get_pretrained(models: ModelStore, model_id: str, name: str, model_class: str,
                   processor_class: str, kind: type[T]) -> T:
    """The installed `model_id` as a `kind` (an OnDevice), loaded once and kept warm;
    the classes are transformers' names for them, imported when the model is first loaded."""
    folder = require_model(model_id, models.settings)
    device = pick_device(models.settings)
    dtype = pick_dtype(device, models.settings)

    def load() -> T:
        import transformers

        model, processor = load_pretrained(name, folder, model_id,
                                           getattr(transformers, model_class),
                                           getattr(transformers, processor_class))
        return kind(model.to(device=device, dtype=dtype), processor, device, dtype)

    return models.get(f"{model_id}@{device}/{dtype}", load)
