"""How the engine should run: device, precision, memory use and where models live."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class EngineSettings:
    device: str = "auto"  # "auto", "cpu", "cuda", "cuda:1", "mps"
    precision: Literal["auto", "fp16", "bf16", "fp32"] = "auto"
    memory_profile: Literal["keep", "offload", "low"] = "keep"
    models_dir: Path | None = None  # None: PAINTNOISE_MODELS_DIR or the platform default
    model_paths: dict[str, str] = field(default_factory=dict)  # model id -> path the user set
    offline: bool = False
