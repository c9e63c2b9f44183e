"""Weight files are read as data only: no pickled code runs, broken files say so clearly."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

import paintnoise_desktop
from paintnoise_desktop.core.errors import ModelError
from paintnoise_desktop.engine.models.model_check import verify_model
from paintnoise_desktop.engine.models.registry import MANIFEST
from paintnoise_desktop.engine.models.safe_load import load_checkpoint, load_weights
from paintnoise_desktop.engine.settings import EngineSettings
from tests.tinymodels.clip import build_hub_clip
from tests.tinymodels.sam import build_sam

PACKAGE = Path(paintnoise_desktop.__file__).parent
SOURCES = sorted(PACKAGE.rglob("*.py"))


class CreatesSentinel:
    """Unpickling this calls open(path, "w"): the file appears only if pickled code ran."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def _torch_load_calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "load" and isinstance(node.func.value, ast.Name) \
                and node.func.value.id == "torch":
            yield node


def test_every_torch_load_in_the_package_asks_for_weights_only():
    calls = 0
    for source in SOURCES:
        for call in _torch_load_calls(ast.parse(source.read_text(encoding="utf-8"))):
            calls += 1
            weights_only = [k for k in call.keywords if k.arg == "weights_only"]
            assert weights_only and isinstance(weights_only[0].value, ast.Constant) \
                and weights_only[0].value.value is True, f"{source}:{call.lineno}"
    assert calls >= 1  # safe_load's own call is seen, so the check is looking


def test_no_remote_code_or_custom_pipelines_anywhere_in_the_package():
    for source in SOURCES:
        text = source.read_text(encoding="utf-8")
        assert "trust_remote_code=True" not in text, source
        assert "custom_pipeline" not in text, source


def test_a_pickle_that_runs_code_is_refused_and_its_code_never_runs(tmp_path):
    sentinel = tmp_path / "sentinel"
    hostile = tmp_path / "sam_vit_b.pth"
    torch.save({"weight": torch.zeros(2), "payload": CreatesSentinel(sentinel)}, hostile)

    with pytest.raises(ModelError) as raised:
        load_checkpoint(hostile, "sam-vit-b")

    assert str(hostile) in str(raised.value)
    assert "holds Python objects besides its weights" in str(raised.value)
    assert "paintnoise models download sam-vit-b" in str(raised.value)
    assert not sentinel.exists()
    torch.load(hostile, weights_only=False)  # what an unsafe loader would have done
    assert sentinel.exists()


def test_a_truncated_safetensors_file_names_the_file_and_the_fix(tmp_path):
    good = tmp_path / "model.safetensors"
    save_file({"weight": torch.arange(1000, dtype=torch.float32)}, good)
    assert torch.equal(load_weights(good, "clip-vit-base-patch32")["weight"],
                       torch.arange(1000, dtype=torch.float32))
    truncated = tmp_path / "cut.safetensors"
    truncated.write_bytes(good.read_bytes()[:-100])

    with pytest.raises(ModelError) as raised:
        load_weights(truncated, "clip-vit-base-patch32")

    assert str(truncated) in str(raised.value)
    assert "paintnoise models verify clip-vit-base-patch32" in str(raised.value)
    assert "truncated" in raised.value.detail


@pytest.mark.parametrize("name", ["photo.pth", "photo.safetensors", "photo.png"])
def test_a_file_of_the_wrong_format_is_a_clear_model_error(tmp_path, name):
    wrong = tmp_path / name
    wrong.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(64))

    with pytest.raises(ModelError) as raised:
        load_weights(wrong, "sd2-inpainting")
    assert str(wrong) in str(raised.value)
    assert "paintnoise models" in str(raised.value)


def test_verify_reports_intact_and_damaged_models(tmp_path):
    settings = EngineSettings(models_dir=tmp_path)
    sam = build_sam(tmp_path / "sam-vit-b")
    clip = build_hub_clip(tmp_path / "clip-vit-base-patch32", "safetensors")
    assert verify_model("sam-vit-b", settings).ok
    assert verify_model("clip-vit-base-patch32", settings).ok
    assert verify_model("sd2-inpainting", settings).summary == "not installed"

    weights = clip / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-16])
    verdict = verify_model("clip-vit-base-patch32", settings)
    assert not verdict.ok and "model.safetensors is broken" in verdict.summary

    (sam.parent / MANIFEST).write_text(json.dumps({"files": [
        {"path": sam.name, "size": 1, "sha256": "0" * 64}]}))
    verdict = verify_model("sam-vit-b", settings)
    assert not verdict.ok and "expected 1" in verdict.summary
    sam.unlink()
    assert "missing" in verify_model("sam-vit-b", settings).summary


def test_a_bin_with_code_in_it_is_refused_by_verify_and_by_the_clip_loader(tmp_path):
    """transformers unpickles .bin weights with weights_only=True; so does verify."""
    from paintnoise_desktop.engine.find.clip_model import load_clip

    clip = build_hub_clip(tmp_path / "clip-vit-base-patch32", "bin")
    sentinel = tmp_path / "sentinel"
    state = torch.load(clip / "pytorch_model.bin", weights_only=True)
    torch.save({**state, "payload": CreatesSentinel(sentinel)}, clip / "pytorch_model.bin")

    verdict = verify_model("clip-vit-base-patch32", EngineSettings(models_dir=tmp_path))
    assert not verdict.ok and "pytorch_model.bin is broken" in verdict.summary
    with pytest.raises(ModelError) as raised:
        load_clip(clip, "clip-vit-base-patch32", torch.device("cpu"), torch.float32)
    assert str(clip) in str(raised.value)
    assert not sentinel.exists()
