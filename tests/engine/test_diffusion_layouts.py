"""Every diffusers layout a user can have loads through the app's inpainting loader, offline.

Tiny SD inpainting models from the real classes are laid out as repositories and
users' folders have them (tests/tinymodels/sd.py): full-precision safetensors, fp16
variant files (all or some components), both side by side, `.bin` files only, a
Hugging Face cache snapshot (symlinks into blobs) at the pinned or another revision,
and a single original-format .safetensors checkpoint, which is configured from an
installed diffusers folder of its family. The network is cut off at the socket and
offline mode is off, so any attempt to reach the hub fails the test.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
import torch

from paintnoise_desktop.core.jobs import CancelToken
from paintnoise_desktop.engine.inpaint.diffusion import DiffusionInpainter
from paintnoise_desktop.engine.inpaint.inpainter import PaintRequest
from paintnoise_desktop.engine.models.model_check import verify_model
from paintnoise_desktop.engine.models.model_store import ModelStore
from paintnoise_desktop.engine.models.registry import locate
from paintnoise_desktop.engine.settings import EngineSettings
from tests.engine.test_model_layouts import OTHER, catalogue, hf_snapshot  # noqa: F401 (fixture)
from tests.tinymodels.sd import (
    COMPONENTS,
    HUB_LAYOUTS,
    build_hub_sd,
    build_sd_inpainting,
    build_single_file,
    tiny_sd_inpainting_pipeline,
)

MODEL = "sd2-inpainting"
HALF_LAYOUTS = ("fp16-variant", "fp16-variant-partial")  # their weights were saved as fp16 files


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Offline mode off and every connection refused, recorded for the test to check."""
    import huggingface_hub.constants

    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network is cut off in this test")

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    yield attempts
    assert attempts == [], "the loader tried to reach the network"


@pytest.fixture(scope="module")
def hub_sds(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hub-sd")
    return {layout: build_hub_sd(root / layout, layout) for layout in HUB_LAYOUTS}


@pytest.fixture(scope="module")
def reference_states() -> dict[str, dict[str, torch.Tensor]]:
    pipe = tiny_sd_inpainting_pipeline()
    return {name: getattr(pipe, name).state_dict() for name in COMPONENTS}


def _load(name: str) -> DiffusionInpainter:
    return DiffusionInpainter.for_model(name, ModelStore(EngineSettings()))


def _assert_weights(pipe, reference_states, half: bool = False) -> None:
    for name in COMPONENTS:
        loaded = getattr(pipe, name).state_dict()
        for key, tensor in reference_states[name].items():
            expected = tensor.half() if half and tensor.is_floating_point() else tensor
            assert torch.equal(loaded[key].to(expected.dtype), expected), f"{name}.{key}"


def _paints(inpainter: DiffusionInpainter) -> None:
    crop = np.full((32, 32, 3), 120, np.uint8)
    mask = np.zeros((32, 32), np.uint8)
    mask[8:24, 8:24] = 255
    painted = inpainter.paint(crop, mask, PaintRequest("a cat", steps=2), 1, lambda *a: None, CancelToken())
    assert painted.shape == crop.shape and not np.array_equal(painted[mask > 0], crop[mask > 0])


@pytest.mark.parametrize("layout", HUB_LAYOUTS)
def test_every_diffusers_layout_loads_with_the_saved_weights(layout, hub_sds, reference_states, tmp_path):
    shutil.copytree(hub_sds[layout], tmp_path / "models" / MODEL)
    inpainter = _load(MODEL)
    assert inpainter.pipeline.unet.dtype == torch.float32  # the CPU computes in full precision
    _assert_weights(inpainter.pipeline, reference_states, half=layout in HALF_LAYOUTS)
    _paints(inpainter)


@pytest.mark.parametrize("layout", HUB_LAYOUTS)
def test_verify_calls_each_layout_that_loads_ok(layout, hub_sds, tmp_path):
    shutil.copytree(hub_sds[layout], tmp_path / "models" / MODEL)
    verdict = verify_model(MODEL, EngineSettings())
    assert verdict.ok, verdict.summary


@pytest.mark.parametrize("revision", ["pinned", "another"])
def test_a_cache_snapshot_loads(revision, hub_sds, reference_states, catalogue, tmp_path):  # noqa: F811
    spec = catalogue[MODEL]
    commit = spec.revision if revision == "pinned" else OTHER
    snapshot = hf_snapshot(tmp_path / "hf" / "hub", spec.repo, commit, hub_sds["fp16-variant"])
    assert (snapshot / "unet" / "diffusion_pytorch_model.fp16.safetensors").is_symlink()
    location = locate(MODEL, EngineSettings())
    assert location is not None and location.origin == "Hugging Face cache" and location.path == snapshot
    assert verify_model(MODEL, EngineSettings()).ok, verify_model(MODEL, EngineSettings()).summary
    inpainter = _load(MODEL)
    _assert_weights(inpainter.pipeline, reference_states, half=True)
    _paints(inpainter)


@pytest.mark.parametrize(("family", "config_model"), [("sd1", "sd15-inpainting"), ("sd2", "sd2-inpainting")])
def test_a_single_file_checkpoint_loads_with_its_familys_installed_configuration(
        family, config_model, reference_states, tmp_path):
    build_sd_inpainting(tmp_path / "models" / config_model)
    checkpoint = build_single_file(tmp_path / "downloads" / "my-inpainting.safetensors", family)
    inpainter = _load(str(checkpoint))
    assert inpainter.name == "my-inpainting" and inpainter.native_size == 32
    _assert_weights(inpainter.pipeline, reference_states)
    _paints(inpainter)


def test_a_single_file_set_as_its_own_familys_model_is_refused_clearly(tmp_path):
    """The configuration must come from a diffusers folder, not from the checkpoint itself."""
    from paintnoise_desktop.core.errors import ModelError

    checkpoint = build_single_file(tmp_path / "my-sd2.safetensors", "sd2")
    settings = EngineSettings(model_paths={MODEL: str(checkpoint)})
    assert verify_model(MODEL, settings).ok
    with pytest.raises(ModelError, match="needs the configuration of its model family.*Install sd2-inpainting first"):
        DiffusionInpainter.for_model(MODEL, ModelStore(settings))


def test_a_bin_file_holding_more_than_tensors_is_refused_without_running_it(hub_sds, tmp_path):
    from fractions import Fraction

    from paintnoise_desktop.core.errors import ModelError

    folder = tmp_path / "models" / MODEL
    shutil.copytree(hub_sds["bin"], folder)
    torch.save({"conv_in.weight": Fraction(1, 3)}, folder / "unet" / "diffusion_pytorch_model.bin")
    with pytest.raises(ModelError, match="could not be loaded"):
        _load(MODEL)
