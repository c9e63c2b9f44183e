"""Fast learned inpainters (LaMa, DeepFill v2): one pass of a network over each crop.

What they share lives here: the one weights file in the model's folder, read without
running code (safetensors, or a checkpoint through `weights_only`); the network built
from the sizes its weights describe and compared with them tensor by tensor before it
is trusted; the device from the settings, the network kept in the ModelStore per device;
the crop padded to the network's multiple; one forward pass under `inference_mode`,
with Cancel checked before and after it and progress reported as one step. They run in
full precision everywhere: the Fourier convolutions of LaMa need it on the GPU for crop
sides that are not powers of two, and a pass is cheap.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
import torch
import torch.nn.functional as F

from ...core.errors import ModelError
from ...core.jobs import CancelToken
from ...core.masks import feather, grow
from ..models.device import pick_device
from ..models.model_store import ModelStore
from ..models.registry import find_model
from ..models.safe_load import CHECKPOINT_SUFFIXES, load_weights
from ..models.weight_files import broken_model_error
from .inpainter import OnStep, PaintRequest

NATIVE_SIZE = 512  # both were trained on 256-512 px crops; LaMa generalises up from there


@dataclass(frozen=True)
class Architecture:
    module: str  # the module in engine/inpaint with build, inpaint, generator_weights, MULTIPLE
    title: str
    checkpoint_keys: tuple[str, ...]  # where a checkpoint keeps the weights, beside other things
    thicken: bool = False  # grow and smooth the hole first (the DeepFill v2 study's practice)


ARCHITECTURES = {
    "lama": Architecture("lama", "LaMa", ("state_dict",)),
    "deepfill-v2": Architecture("deepfill", "DeepFill v2", ("G",), thicken=True),
}
THICKEN_SHARE = 0.01  # grow the hole by this share of the crop's longer side ...
THICKEN_MIN_PX = 3  # ... and at least this much, then smooth it as much


def architecture(model_id: str) -> Architecture:
    return ARCHITECTURES[model_id]


def _module(arch: Architecture) -> ModuleType:
    return importlib.import_module(f"{__package__}.{arch.module}")


def weights_file(location: Path, model_id: str) -> Path:
    """The weights in a model's folder (a .safetensors file first), or the file itself."""
    if location.is_file():
        return location
    found = sorted(path for path in location.iterdir()
                   if path.suffix in (".safetensors", *CHECKPOINT_SUFFIXES) and path.is_file())
    found.sort(key=lambda path: path.suffix != ".safetensors")
    if not found:
        raise ModelError(f"The folder {location} holds no weights file (.safetensors or .pth). "
                         f"Run: paintnoise models download {model_id}")
    return found[0]


def read_generator(path: Path, model_id: str) -> dict[str, torch.Tensor]:
    """The generator's tensors in a weights file, read without running anything in it."""
    arch = architecture(model_id)
    return _module(arch).generator_weights(load_weights(path, model_id, arch.checkpoint_keys))


def weights_problems(state: dict[str, torch.Tensor], model_id: str) -> list[str]:
    """How the tensors differ from the network they describe ([] when they fit exactly).

    The network is built on the meta device, so nothing is allocated for the check.
    """
    arch = architecture(model_id)
    try:
        with torch.device("meta"):
            expected = _module(arch).build(state).state_dict()
    except (KeyError, IndexError, ValueError, RuntimeError, ZeroDivisionError) as error:
        return [f"these are not {arch.title} weights (no {error})"]
    problems = []
    wanted = {key for key in expected if not key.endswith("num_batches_tracked")}
    held = {key for key in state if not key.endswith("num_batches_tracked")}
    if missing := sorted(wanted - held):
        problems.append(f"{len(missing)} tensors of the {arch.title} network are missing "
                        f"(first: {missing[0]})")
    if extra := sorted(held - wanted):
        problems.append(f"{len(extra)} tensors are not the {arch.title} network's "
                        f"(first: {extra[0]})")
    if wrong := sorted(key for key in wanted & held if state[key].shape != expected[key].shape):
        problems.append(f"{len(wrong)} tensors have another shape than the network needs "
                        f"(first: {wrong[0]})")
    return problems


def load_network(path: Path, model_id: str, device: torch.device) -> torch.nn.Module:
    """The network with its weights, ready to run on `device`; a ModelError if they do not fit."""
    file = weights_file(path, model_id)
    state = read_generator(file, model_id)
    problems = weights_problems(state, model_id)
    if problems:
        raise broken_model_error(file, model_id, ValueError("; ".join(problems)))
    net = _module(architecture(model_id)).build(state)
    net.load_state_dict(state, strict=False)  # num_batches_tracked may be absent; all else fits
    return net.eval().to(device)


class LearnedInpainter:
    native_size: int | None = NATIVE_SIZE

    def __init__(self, net: torch.nn.Module, model_id: str, device: torch.device) -> None:
        self.net, self.name, self.device = net, model_id, device
        self._arch = architecture(model_id)
        self._module = _module(self._arch)

    @classmethod
    def for_model(cls, model_id: str, models: ModelStore) -> LearnedInpainter:
        settings = models.settings
        path = find_model(model_id, settings)
        if path is None:
            raise _not_installed(model_id, models)
        device = pick_device(settings)
        net = models.get(f"{model_id}@{device}", lambda: load_network(path, model_id, device))
        return cls(net, model_id, device)

    def paint(self, crop_rgb: np.ndarray, crop_mask: np.ndarray, request: PaintRequest,
              seed: int, on_step: OnStep, cancel: CancelToken) -> np.ndarray:
        cancel.raise_if_cancelled()
        hole = self._thickened(crop_mask) if self._arch.thicken else crop_mask
        height, width = hole.shape
        image = torch.from_numpy(np.ascontiguousarray(crop_rgb)).permute(2, 0, 1)[None]
        hole_t = torch.from_numpy((hole > 0).astype(np.float32))[None, None]
        image = image.to(self.device, torch.float32) / 255
        hole_t = hole_t.to(self.device)
        multiple = self._module.MULTIPLE
        pad = (0, -width % multiple, 0, -height % multiple)
        with torch.inference_mode():
            filled = self._module.inpaint(self.net, F.pad(image, pad, mode="reflect"),
                                          F.pad(hole_t, pad, mode="reflect"))
            filled = filled[:, :, :height, :width]
            filled = filled * hole_t + image * (1 - hole_t)
            painted = (filled[0].permute(1, 2, 0).clamp(0, 1) * 255).round().to(torch.uint8)
            painted = painted.cpu().numpy()
        cancel.raise_if_cancelled()
        on_step(1, 1, None)
        return painted

    def _thickened(self, mask: np.ndarray) -> np.ndarray:
        """The hole grown, smoothed and made whole again, so the fill reaches past its edge."""
        px = max(THICKEN_MIN_PX, round(THICKEN_SHARE * max(mask.shape)))
        return np.where(feather(grow(mask, px), px) > 0, 255, 0).astype(np.uint8)

    def take_notes(self) -> list[str]:
        return []


def _not_installed(model_id: str, models: ModelStore) -> ModelError:
    from ..models.needs import inpaint_action, missing_models_error

    return missing_models_error((inpaint_action(""),), (model_id,), models.settings)
