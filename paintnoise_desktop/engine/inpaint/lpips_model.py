"""LPIPS, the learned perceptual distance, on AlexNet features read from the catalogue's file.

The `lpips` package ships the calibrated linear layers (its `weights/v0.1/alex.pth`); the
AlexNet backbone is torchvision's ImageNet file, a catalogue model ("lpips-alexnet")
downloaded only with consent. Both are read with `weights_only=True`; the package is asked
for a backbone with random weights so that it never downloads anything itself.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from ...core.errors import ModelError
from ..models.model_store import ModelStore
from ..models.needs import LPIPS_MODEL
from ..models.registry import require_model
from ..models.safe_load import load_weights

# lpips' AlexNet slices end after these torchvision `features` layers (relu1 ... relu5).
SLICE_ENDS = (2, 5, 8, 10, 12)


def backbone_state(features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """torchvision AlexNet keys ("features.3.weight") as lpips' slices name them ("slice2.3.weight")."""
    state = {}
    for key, tensor in features.items():
        parts = key.split(".")
        if parts[0] != "features":
            continue  # the classifier is not part of the distance
        layer = int(parts[1])
        number = next(k for k, end in enumerate(SLICE_ENDS, start=1) if layer < end)
        state[f"slice{number}.{layer}.{parts[2]}"] = tensor
    return state


def load_lpips(weights: Path, device: torch.device, dtype: torch.dtype):
    """An `lpips.LPIPS` (AlexNet, v0.1) with its backbone from `weights`, in eval mode, frozen."""
    import lpips

    with warnings.catch_warnings():  # torchvision's notes on the `pretrained` argument lpips uses
        warnings.simplefilter("ignore", UserWarning)
        metric = lpips.LPIPS(net="alex", version="0.1", pretrained=False, pnet_rand=True,
                             verbose=False)
    linear = Path(lpips.__file__).with_name("weights") / "v0.1" / "alex.pth"
    calibration = load_weights(linear, LPIPS_MODEL)
    # The package keeps each layer twice, as lin0..lin4 and in a list `lins`; its file has the first.
    if not {key for key in metric.state_dict() if key[:3] == "lin" and key[3].isdigit()} \
            <= set(calibration):
        raise ModelError(f"{linear} is not LPIPS's calibration. Reinstall the lpips package.")
    metric.load_state_dict(calibration, strict=False)  # the backbone comes next, from `weights`
    backbone = backbone_state(load_weights(weights, LPIPS_MODEL))
    expected = set(metric.net.state_dict())
    if set(backbone) != expected:
        raise ModelError(
            f"{weights} is not torchvision's AlexNet, which LPIPS needs. Run: "
            f"paintnoise models download {LPIPS_MODEL}",
            detail=f"missing {sorted(expected - set(backbone))[:4]}, "
                   f"unexpected {sorted(set(backbone) - expected)[:4]}")
    try:
        metric.net.load_state_dict(backbone)
    except RuntimeError as error:  # a tensor of the wrong shape
        raise ModelError(f"{weights} does not fit LPIPS's AlexNet.", detail=str(error)) from error
    metric.requires_grad_(False)
    return metric.to(device=device, dtype=dtype).eval()


def get_lpips(models: ModelStore, device: torch.device, dtype: torch.dtype):
    """The LPIPS distance, loaded once per device and kept warm."""
    folder = require_model(LPIPS_MODEL, models.settings)
    weights = folder if folder.is_file() else _weights_in(folder)
    key = f"{LPIPS_MODEL}@{device}/{dtype}"
    return models.get(key, lambda: load_lpips(weights, device, dtype))


def _weights_in(folder: Path) -> Path:
    found = sorted(p for p in folder.iterdir() if p.suffix in (".pth", ".safetensors"))
    if not found:
        raise ModelError(f"{folder} holds no AlexNet weights file. Run: "
                         f"paintnoise models download {LPIPS_MODEL}")
    return found[0]
