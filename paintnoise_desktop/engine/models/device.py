"""Which device, precision and memory profile models run with.

"auto" settings are decided here from what the machine has: the CUDA GPU with
the most free memory, half precision on a GPU, and a memory profile chosen by
comparing the GPU's free memory with what the model needs at least.
"""

from __future__ import annotations

from typing import Literal

import torch

from ...core.errors import PaintNoiseError
from ..settings import EngineSettings

MemoryProfile = Literal["keep", "offload", "low"]
KEEP_HEADROOM = 1.25  # free memory over the model's minimum needed to keep it all on the GPU
OFFLOAD_FLOOR = 0.6  # below this share of the minimum, offloading alone is not enough


def pick_device(settings: EngineSettings) -> torch.device:
    """CUDA if present (the GPU with most free memory), else Apple MPS, else CPU; a setting wins."""
    if settings.device != "auto":
        return _chosen_device(settings.device)
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        if count == 1:
            return torch.device("cuda", 0)
        best = max(range(count), key=lambda index: torch.cuda.mem_get_info(index)[0])
        return torch.device("cuda", best)
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def pick_dtype(device: torch.device, settings: EngineSettings) -> torch.dtype:
    """Half precision on a GPU, full precision on the CPU, unless the user chose."""
    chosen = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}
    if settings.precision in chosen:
        return chosen[settings.precision]
    return torch.float16 if device.type in ("cuda", "mps") else torch.float32


def memory_profile_for(free_gb: float, min_memory_gb: float) -> MemoryProfile:
    """Keep everything on the GPU when it fits with room to spare, else offload, else go low."""
    if free_gb >= min_memory_gb * KEEP_HEADROOM:
        return "keep"
    if free_gb >= min_memory_gb * OFFLOAD_FLOOR:
        return "offload"
    return "low"


def pick_memory_profile(device: torch.device, settings: EngineSettings,
                        min_memory_gb: float) -> MemoryProfile:
    """The user's profile, or for "auto" one that fits the device's free memory."""
    if settings.memory_profile != "auto":
        return settings.memory_profile
    if device.type != "cuda":
        return "keep"
    free, _total = torch.cuda.mem_get_info(_cuda_index(device))
    return memory_profile_for(free / 1e9, min_memory_gb)


def memory_summary(device: torch.device) -> str:
    """A short line for the status bar, e.g. "CUDA 0: 3.1 / 80 GB" (used / total) or "CPU"."""
    if device.type == "cuda" and torch.cuda.is_available():
        index = _cuda_index(device)
        free, total = torch.cuda.mem_get_info(index)
        return f"CUDA {index}: {(total - free) / 1e9:.1f} / {total / 1e9:.0f} GB"
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return "CPU"


def _cuda_index(device: torch.device) -> int:
    return device.index if device.index is not None else torch.cuda.current_device()


def _chosen_device(name: str) -> torch.device:
    """The device the user named, or a sentence saying why it cannot be used."""
    try:
        device = torch.device(name)
    except RuntimeError as error:
        raise PaintNoiseError(
            f"'{name}' is not a device. Choose auto, cpu, cuda, cuda:N or mps in Settings "
            "(or --device).", detail=str(error)) from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise PaintNoiseError(
            f"The device is set to {name}, but no CUDA GPU is available. "
            "Choose auto or cpu in Settings (or --device).")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise PaintNoiseError(
            f"There is no GPU {device.index}; this computer has {torch.cuda.device_count()}. "
            "Choose another in Settings (or --device).")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None)
                                     and torch.backends.mps.is_available()):
        raise PaintNoiseError("Apple MPS is not available here. Choose auto or cpu in Settings.")
    return device
