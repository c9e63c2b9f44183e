"""Tiny DeepFill v2 generators: the real architecture, random weights, the port's file layout."""

from __future__ import annotations

from pathlib import Path

import torch

from paintnoise_desktop.engine.inpaint.deepfill import DeepFillGenerator

TINY_CNUM = 8  # the port uses 48


def tiny_deepfill(cnum: int = TINY_CNUM, seed: int = 0) -> DeepFillGenerator:
    torch.manual_seed(seed)
    return DeepFillGenerator(cnum=cnum).eval()


def save_deepfill(folder: Path, net: DeepFillGenerator, form: str = "pth") -> Path:
    """Write `net` into `folder` as the port's states_pt_places2.pth ({"G", "D", optimizer
    states, "n_iter"}) or as a safetensors file of the generator alone."""
    folder.mkdir(parents=True, exist_ok=True)
    if form == "safetensors":
        from safetensors.torch import save_file

        path = folder / "deepfill-v2.safetensors"
        save_file({key: value.contiguous() for key, value in net.state_dict().items()}, path)
        return path
    path = folder / "states_pt_places2.pth"
    optimizer = torch.optim.Adam(net.parameters())
    torch.save({"G": net.state_dict(), "D": {"conv1.conv_sn.weight": torch.zeros(2, 4, 5, 5)},
                "G_optimizer": optimizer.state_dict(), "n_iter": 1000}, path)
    return path
