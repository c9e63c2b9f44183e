"""Looking inside weight files without torch: safetensors headers and checkpoint archives.

Used to verify installed models and to check files the user adds, so it stays
light enough for the command line and the window's model manager.
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

from ...core.errors import ModelError

MAX_HEADER_BYTES = 100 * 1024 * 1024


def broken_model_error(path: Path, model_id: str, error: BaseException) -> ModelError:
    return ModelError(
        f"The model file {path} could not be read; it may be incomplete or damaged. "
        f"Run: paintnoise models verify {model_id}  (or download it again).",
        detail=f"{type(error).__name__}: {error}",
    )


def read_safetensors_header(path: Path, model_id: str) -> dict[str, dict]:
    """Tensor name -> {"dtype", "shape", "data_offsets"}; a ModelError if the file is not whole."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as stream:
            prefix = stream.read(8)
            if len(prefix) < 8:
                raise ValueError("shorter than a safetensors header")
            (length,) = struct.unpack("<Q", prefix)
            if length > min(MAX_HEADER_BYTES, size - 8):
                raise ValueError(f"header length {length} does not fit in a {size}-byte file")
            header = json.loads(stream.read(length))
        if not isinstance(header, dict):
            raise TypeError("header is not a JSON object")
        data_bytes = size - 8 - length
        tensors = {name: info for name, info in header.items() if name != "__metadata__"}
        for name, info in tensors.items():
            end = info["data_offsets"][1]
            if end > data_bytes:
                raise ValueError(f"tensor {name} ends at byte {end} of {data_bytes}: file is truncated")
        return tensors
    except (OSError, ValueError, KeyError, TypeError, IndexError, struct.error) as error:
        raise broken_model_error(path, model_id, error) from error


def check_torch_checkpoint(path: Path, model_id: str) -> None:
    """A `.pth`/`.ckpt` must be a PyTorch zip archive holding a pickle of tensors."""
    try:
        with zipfile.ZipFile(path) as archive:
            if not any(name.endswith("data.pkl") for name in archive.namelist()):
                raise ValueError("no data.pkl inside")
    except (OSError, zipfile.BadZipFile, ValueError) as error:
        raise broken_model_error(path, model_id, error) from error


# The weight files transformers reads from a model folder, in the order it looks for them:
# the first one present is the one it loads (a broken one is not skipped for the next).
TRANSFORMERS_WEIGHTS = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)


def transformers_weights(folder: Path) -> Path | None:
    """The weights file (or shard index) transformers would load from `folder`, or None."""
    return next((folder / name for name in TRANSFORMERS_WEIGHTS if (folder / name).is_file()),
                None)


def read_shard_index(path: Path, model_id: str) -> dict[str, list[str]]:
    """Shard file name -> the tensors the index says it holds; a ModelError if unreadable."""
    try:
        weight_map = json.loads(path.read_text(encoding="utf-8"))["weight_map"]
        shards: dict[str, list[str]] = {}
        for tensor, shard in weight_map.items():
            shards.setdefault(str(shard), []).append(str(tensor))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise broken_model_error(path, model_id, error) from error
    if not shards:
        raise broken_model_error(path, model_id, ValueError("the index names no shards"))
    return shards
