"""Loading a transformers model and its processor from a folder, refusing anything half-there.

One path for every model kept as a save_pretrained folder or a hub snapshot (CLIP,
CLIPSeg, SegFormer, ...): safetensors or `.bin`, sharded or not, `.bin` weights unpickled
with weights_only=True, no remote code trusted. Weights missing from the files are an
error, not random values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...core.errors import ModelError
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
