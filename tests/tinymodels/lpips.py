"""LPIPS's backbone as torchvision publishes it: the whole ImageNet AlexNet's state dict."""

from __future__ import annotations

from pathlib import Path

import torch

ALEXNET_FILE = "alexnet-owt-7be5be79.pth"


def build_lpips_backbone(folder: Path) -> Path:
    """Random weights, torchvision's layout (features and classifier), saved as torch.save does."""
    import torchvision

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    torch.save(torchvision.models.alexnet(weights=None).state_dict(), folder / ALEXNET_FILE)
    return folder / ALEXNET_FILE
