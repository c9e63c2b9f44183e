"""CLIPAway: removal by Stable Diffusion 1.5 inpainting guided toward the background.

Ekin et al., "CLIPAway: Harmonizing Focused Embeddings for Removing Objects via
Diffusion Models" (NeurIPS 2024; YigitEkin/CLIPAway). AlphaCLIP embeds the crop twice,
focused on the object (alpha = the mask) and on the background (alpha = its inverse);
the released MLP maps both into the space of IP-Adapter's ViT-H image embeddings;
the object's direction is projected out of the background's,
e_final = e_b - (e_b . e_f / |e_f|) e_f / |e_f|, and e_final is the image prompt of
IP-Adapter SD 1.5 on the Stable Diffusion 1.5 inpainting model, so no ViT-H encoder
runs. The negative image prompt is the MLP's image of a zero embedding, and the text
prompts are CLIPAway's own (an empty prompt, IP-Adapter's default negative prompt),
as its inference script runs them. Everything else (steps, seeds, variants, progress,
Cancel, the fp16 and memory fallbacks) is the Stable Diffusion inpainter's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ...core.errors import ModelError
from ...core.jobs import CancelToken
from ..models.catalog import get_spec
from ..models.device import pick_device, pick_dtype, pick_memory_profile
from ..models.model_store import ModelStore
from ..models.needs import CLIPAWAY_MODELS
from ..models.registry import require_model
from ..models.safe_load import (
    CHECKPOINT_SUFFIXES,
    load_checkpoint,
    load_weights,
    quiet_library_loading,
)
from ..models.weight_files import broken_model_error
from ..settings import EngineSettings
from .alpha_clip import AlphaCLIP, alpha_clip_config, load_alpha_clip, transformers_state
from .diffusion import DiffusionInpainter
from .diffusion_loader import apply_memory_profile, load_inpaint_pipeline, native_size_of
from .inpainter import CLIPAWAY, OnStep, PaintRequest

SD_MODEL, ALPHA_CLIP_MODEL, MLP_MODEL, IP_ADAPTER_MODEL = CLIPAWAY_MODELS
# IP-Adapter's default negative prompt, which CLIPAway's generate() keeps; its prompt is empty.
CLIPAWAY_NEGATIVE = "monochrome, lowres, bad anatomy, worst quality, low quality"
IP_ADAPTER_SCALE = 1.0  # CLIPAway's inference configuration (scale: 1)
ADAPTER_PARTS = ("image_proj", "ip_adapter")
WEIGHT_SUFFIXES = (".safetensors", *CHECKPOINT_SUFFIXES)


def project_out(background: torch.Tensor, focus: torch.Tensor) -> torch.Tensor:
    """CLIPAway's projection block: `background` without its component along `focus` (rows)."""
    norm = focus.norm(dim=-1, keepdim=True).clamp_min(torch.finfo(focus.dtype).tiny)
    unit = focus / norm
    return background - (background * unit).sum(dim=-1, keepdim=True) * unit


def projection_mlp(state: dict[str, torch.Tensor]) -> nn.Sequential:
    """CLIPAway's MLP (model/clip_away.py, generate_projection_layer) for the sizes in `state`.

    n hidden layers of Linear, LayerNorm, GELU: the first n // 2 keep AlphaCLIP's width,
    the middle one widens to IP-Adapter's, the rest keep that; then one more Linear.
    """
    linears = sorted(int(key.split(".")[0]) for key, value in state.items()
                     if key.endswith(".weight") and value.ndim == 2)
    if not linears:
        raise KeyError("no Linear layers (0.weight, ...)")
    source = state[f"{linears[0]}.weight"].shape[1]
    target = state[f"{linears[-1]}.weight"].shape[0]
    hidden = len(linears) - 1
    layers: list[nn.Module] = []
    for i in range(hidden):
        width_in = source if i <= hidden // 2 else target
        width_out = source if i < hidden // 2 else target
        layers += [nn.Linear(width_in, width_out), nn.LayerNorm(width_out), nn.GELU()]
    layers.append(nn.Linear(target, target))
    return nn.Sequential(*layers)


def load_projection_mlp(path: Path, model_id: str, device: torch.device) -> nn.Sequential:
    state = load_weights(path, model_id)
    try:
        mlp = projection_mlp(state)
        mlp.load_state_dict(state)
    except (KeyError, ValueError, RuntimeError) as error:
        raise ModelError(
            f"{path.name} is not CLIPAway's projection MLP (the model.safetensors its release "
            f"has). Run: paintnoise models download {model_id}",
            detail=f"{type(error).__name__}: {error}",
        ) from error
    return mlp.float().to(device).eval()


def read_ip_adapter(path: Path, model_id: str) -> dict[str, dict[str, torch.Tensor]]:
    """IP-Adapter's {"image_proj": ..., "ip_adapter": ...}, from its .safetensors (keys
    prefixed with the part) or its .bin (the two dicts, read with weights only)."""
    if path.suffix == ".safetensors":
        parts: dict = {part: {} for part in ADAPTER_PARTS}
        for key, value in load_weights(path, model_id).items():
            part, _, name = key.partition(".")
            if part in parts:
                parts[part][name] = value
    else:  # each part read as a checkpoint's inner state dict (memory-mapped, weights only)
        parts = {part: load_checkpoint(path, model_id, inner=(part,)) for part in ADAPTER_PARTS}
    if not all(parts.values()):
        raise broken_model_error(path, model_id, ValueError("no image_proj and ip_adapter tensors"))
    return parts


def weights_file(model_id: str, settings: EngineSettings) -> Path:
    """The one weights file of an installed single-file model (a file the user set, or in its folder)."""
    path = require_model(model_id, settings)
    if path.is_file():
        return path
    spec = get_spec(model_id)
    for file in spec.files:
        for name in (file.local, file.path):
            if (path / name).is_file():
                return path / name
    found = sorted(item for item in path.iterdir() if item.suffix in WEIGHT_SUFFIXES)
    if len(found) == 1:  # copied in by hand under another name
        return found[0]
    raise ModelError(
        f"The folder {path} does not hold the {spec.name} weights ({spec.files[0].local}). "
        f"Download them again: paintnoise models download {model_id}",
        detail=f"found {[item.name for item in found]}",
    )


def weights_problems(path: Path, model_id: str) -> list[str]:
    """What keeps one of CLIPAway's weight files from loading, found as its loader reads it
    and compared with the network its tensors describe (built on the meta device); [] if none."""
    try:
        if model_id == IP_ADAPTER_MODEL:
            read_ip_adapter(path, model_id)
            return []
        state = load_weights(path, model_id)
        with torch.device("meta"):
            if model_id == ALPHA_CLIP_MODEL:
                network, state = AlphaCLIP(alpha_clip_config(state)), transformers_state(state)
            else:
                network = projection_mlp(state)
    except ModelError as error:
        return [error.detail or str(error)]
    except (KeyError, ValueError, RuntimeError) as error:
        return [f"{type(error).__name__}: {error}"]
    expected = {name: tuple(tensor.shape) for name, tensor in network.state_dict().items()}
    found = {name: tuple(tensor.shape) for name, tensor in state.items()}
    wrong = sorted(name for name in expected.keys() | found.keys()
                   if expected.get(name) != found.get(name))
    return [f"{len(wrong)} tensors are missing, extra or of another shape (first: {wrong[0]})"
            ] if wrong else []


@dataclass(frozen=True)
class CLIPAwayModels:
    pipeline: object  # StableDiffusionInpaintPipeline with IP-Adapter loaded
    alpha_clip: AlphaCLIP
    mlp: nn.Sequential


def load_clipaway(settings: EngineSettings, device: torch.device, dtype: torch.dtype,
                  profile: str) -> CLIPAwayModels:
    """SD 1.5 inpainting with IP-Adapter in its UNet, AlphaCLIP and the MLP (float32)."""
    adapter_file = weights_file(IP_ADAPTER_MODEL, settings)
    adapter = read_ip_adapter(adapter_file, IP_ADAPTER_MODEL)
    alpha_clip = load_alpha_clip(weights_file(ALPHA_CLIP_MODEL, settings), ALPHA_CLIP_MODEL, device)
    mlp = load_projection_mlp(weights_file(MLP_MODEL, settings), MLP_MODEL, device)
    # Loaded on the CPU, given the adapter, then placed as the memory profile says: the
    # adapter's layers join the UNet before any offload hooks are installed.
    pipe = load_inpaint_pipeline(require_model(SD_MODEL, settings), torch.device("cpu"), dtype)
    try:
        with quiet_library_loading(), _diffusers_quiet():
            pipe.load_ip_adapter(adapter, subfolder=None, weight_name=None, image_encoder_folder=None)
    except (KeyError, ValueError, RuntimeError) as error:
        raise ModelError(
            f"{adapter_file.name} does not fit the Stable Diffusion 1.5 inpainting model. Use "
            f"IP-Adapter for SD 1.5 (paintnoise models download {IP_ADAPTER_MODEL}).",
            detail=f"{type(error).__name__}: {error}",
        ) from error
    pipe.set_ip_adapter_scale(IP_ADAPTER_SCALE)
    apply_memory_profile(pipe, device, profile if device.type == "cuda" else "keep")
    return CLIPAwayModels(pipe, alpha_clip, mlp)


class CLIPAwayInpainter(DiffusionInpainter):
    def __init__(self, models: CLIPAwayModels) -> None:
        super().__init__(models.pipeline, CLIPAWAY, native_size_of(models.pipeline))
        self.alpha_clip = models.alpha_clip
        self.mlp = models.mlp

    @classmethod
    def for_store(cls, store: ModelStore) -> CLIPAwayInpainter:
        settings = store.settings
        device = pick_device(settings)
        dtype = pick_dtype(device, settings)
        memory = sum(get_spec(model_id).min_memory_gb for model_id in CLIPAWAY_MODELS)
        profile = pick_memory_profile(device, settings, memory)
        key = f"{CLIPAWAY}@{device}:{str(dtype).removeprefix('torch.')}:{profile}"
        return cls(store.get(key, lambda: load_clipaway(settings, device, dtype, profile)))

    def paint(self, crop_rgb: np.ndarray, crop_mask: np.ndarray, request: PaintRequest,
              seed: int, on_step: OnStep, cancel: CancelToken) -> np.ndarray:
        ours = replace(request, prompt="", negative_prompt=CLIPAWAY_NEGATIVE)
        return super().paint(crop_rgb, crop_mask, ours, seed, on_step, cancel)

    def _guidance(self, crop_rgb, crop_mask, request: PaintRequest) -> dict:
        # With classifier-free guidance diffusers takes [negative; positive] stacked.
        embeds = self.image_prompt(crop_rgb, crop_mask, negative=request.guidance > 1)
        return {"ip_adapter_image_embeds": [embeds]}

    def image_prompt(self, crop_rgb: np.ndarray, crop_mask: np.ndarray,
                     negative: bool = True) -> torch.Tensor:
        """IP-Adapter image embeddings, (2 or 1) x 1 x width: [MLP(0);] e_final."""
        with torch.no_grad():
            focused = self.alpha_clip.embed(crop_rgb, (crop_mask, 255 - crop_mask))
            object_embed, background_embed = self.mlp(focused)
            final = project_out(background_embed[None], object_embed[None])
            rows = [self.mlp(torch.zeros_like(focused[:1])), final] if negative else [final]
        return torch.cat(rows)[:, None]


class _diffusers_quiet:
    """diffusers' warning that no image encoder was loaded: none is wanted, the embeds are ours."""

    def __enter__(self) -> None:
        from diffusers.utils import logging

        self._level = logging.get_verbosity()
        logging.set_verbosity_error()

    def __exit__(self, *exc) -> None:
        from diffusers.utils import logging

        logging.set_verbosity(self._level)
