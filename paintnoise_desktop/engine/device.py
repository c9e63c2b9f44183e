"""Which device and precision models run on."""

from __future__ import annotations

import torch

from .settings import EngineSettings


def pick_device(settings: EngineSettings) -> torch.device:
    """CUDA if present, else Apple MPS, else CPU; an explicit setting wins."""
    if settings.device != "auto":
        return torch.device(settings.device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def pick_dtype(device: torch.device, settings: EngineSettings) -> torch.dtype:
    """Half precision on a GPU, full precision on the CPU, unless the user chose."""
    chosen = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}
    if settings.precision in chosen:
        return chosen[settings.precision]
    return torch.float16 if device.type in ("cuda", "mps") else torch.float32
