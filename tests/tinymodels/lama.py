"""Tiny LaMa generators: the real architecture, random weights, the real file layouts.

TINY_LAMA keeps big-lama's 4 input channels, 3 downsamplings and three-quarters global
channels, with an 8-wide stem and 2 FFC ResNet blocks. Batch-norm statistics are random
too, so a loader that dropped them would paint something else.
"""

from __future__ import annotations

from pathlib import Path

import torch

from paintnoise_desktop.engine.inpaint.lama import GENERATOR_PREFIX, LamaGenerator, LamaShape

TINY_LAMA = LamaShape(ngf=8, downsamplings=3, blocks=2, global_ratio=0.75)


def tiny_lama(shape: LamaShape = TINY_LAMA, seed: int = 0) -> LamaGenerator:
    torch.manual_seed(seed)
    net = LamaGenerator(shape)
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.normal_(0, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    return net.eval()


def lightning_state(net: LamaGenerator) -> dict:
    """The generator as big-lama's best.ckpt keeps it: under state_dict, prefixed, beside a
    discriminator and training counters (plain data weights_only reads)."""
    state = {f"{GENERATOR_PREFIX}{key}": value for key, value in net.state_dict().items()}
    state["discriminator.model0.0.weight"] = torch.zeros(4, 3, 3, 3)
    return {"epoch": 40, "global_step": 1000, "pytorch-lightning_version": "1.2.9",
            "state_dict": state}


def save_lama(folder: Path, net: LamaGenerator, form: str = "safetensors") -> Path:
    """Write `net` into `folder` as big-lama.safetensors (the hub conversion's layout, keys
    prefixed `generator.`) or as best.ckpt (Lightning's layout)."""
    folder.mkdir(parents=True, exist_ok=True)
    if form == "safetensors":
        from safetensors.torch import save_file

        path = folder / "big-lama.safetensors"
        save_file({f"{GENERATOR_PREFIX}{key}": value.contiguous()
                   for key, value in net.state_dict().items()}, path)
        return path
    path = folder / "best.ckpt"
    torch.save(lightning_state(net), path)
    return path
