"""`paintnoise models ...` on tiny models folders and against a loopback server."""

from __future__ import annotations

import argparse
import hashlib
import sys

import pytest
import torch
from safetensors.torch import save_file

from paintnoise_desktop.cli.models import add_models_commands
from paintnoise_desktop.core.errors import PaintNoiseError
from paintnoise_desktop.engine.models.registry import INCOMPLETE_MARKER
from paintnoise_desktop.engine.settings import load_settings
from tests.model_server import ModelServer, checkpoint_bytes, url_model, write_catalog


def run(argv: list[str]) -> int:
    """What `paintnoise` does with these arguments: run the command, errors as one line."""
    parser = argparse.ArgumentParser(prog="paintnoise")
    add_models_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except PaintNoiseError as error:
        print(f"paintnoise: error: {error}", file=sys.stderr)
        return 1


@pytest.fixture
def models(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    monkeypatch.setenv("PAINTNOISE_MODELS_DIR", str(folder))
    monkeypatch.setenv("PAINTNOISE_SETTINGS", str(tmp_path / "settings.json"))
    sam = folder / "sam-vit-b"
    sam.mkdir(parents=True)
    torch.save({"weight": torch.zeros(8)}, sam / "sam_vit_b_01ec64.pth")
    return folder


def test_list_shows_every_model_and_its_status(models, capsys):
    (models / "clipseg-rd64-refined").mkdir()
    (models / "clipseg-rd64-refined" / INCOMPLETE_MARKER).touch()
    assert run(["models", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["ID", "STATUS", "SIZE"]
    rows = {line.split()[0]: line for line in out[1:]}
    assert len(rows) == 8
    assert "installed" in rows["sam-vit-b"] and "not installed" not in rows["sam-vit-b"]
    assert "not installed" in rows["sd2-inpainting"] and "inpainting" in rows["sd2-inpainting"]
    assert "download not finished" in rows["clipseg-rd64-refined"]


def test_path_prints_the_expected_folder(models, capsys):
    assert run(["models", "path", "clipseg-rd64-refined"]) == 0
    assert capsys.readouterr().out.strip() == str(models / "clipseg-rd64-refined")
    assert run(["models", "path", "no-such-model"]) == 1
    assert "There is no model called 'no-such-model'" in capsys.readouterr().err


def test_verify_says_ok_or_broken_per_model(models, capsys):
    assert run(["models", "verify"]) == 0
    out = capsys.readouterr().out
    assert "sam-vit-b: OK" in out and "sd2-inpainting: not installed" in out

    (models / "sam-vit-b" / "sam_vit_b_01ec64.pth").write_bytes(b"half a file")
    assert run(["models", "verify", "sam-vit-b"]) == 1
    assert "sam-vit-b: sam_vit_b_01ec64.pth is broken" in capsys.readouterr().out
    assert run(["models", "verify", "sd2-inpainting"]) == 1


def test_verify_says_ok_for_every_tiny_model(models_env, tmp_path, monkeypatch, capsys):
    """Models saved by the real save_pretrained (tokenizer.json, processor_config.json) are whole."""
    monkeypatch.setenv("PAINTNOISE_SETTINGS", str(tmp_path / "settings.json"))
    tiny = sorted(folder.name for folder in models_env.iterdir())
    assert tiny

    for model_id in tiny:
        assert run(["models", "verify", model_id]) == 0, capsys.readouterr().out
        assert f"{model_id}: OK" in capsys.readouterr().out


def test_add_stores_the_path_in_the_shared_settings_file(models, tmp_path, capsys):
    checkpoint = tmp_path / "inpaint.safetensors"
    save_file({"model.diffusion_model.input_blocks.0.0.weight": torch.zeros(2, 9, 1, 1)}, checkpoint)

    assert run(["models", "add", "sd15-inpainting", str(checkpoint)]) == 0
    assert load_settings().model_paths == {"sd15-inpainting": str(checkpoint)}
    capsys.readouterr()
    run(["models", "list"])
    assert "added by path" in next(
        line for line in capsys.readouterr().out.splitlines() if line.startswith("sd15"))

    assert run(["models", "add", "sam-vit-h", str(checkpoint)]) == 1
    assert "not a Segment Anything checkpoint" in capsys.readouterr().err
    assert "sam-vit-h" not in load_settings().model_paths


@pytest.fixture
def server(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    served = ModelServer(tmp_path / "served").start()
    yield served
    served.stop()


def test_download_with_yes_installs_from_the_server(models, server, tmp_path, monkeypatch, capsys):
    data = checkpoint_bytes(tmp_path)
    server.add("/segment_anything/sam_vit_h_4b8939.pth", data)
    url = f"{server.url}/segment_anything/sam_vit_h_4b8939.pth"
    catalog = write_catalog(tmp_path / "catalog.json", [
        url_model("sam-vit-h", url, data, hashlib.sha256(data).hexdigest())])
    monkeypatch.setenv("PAINTNOISE_CATALOG", str(catalog))

    assert run(["models", "download", "sam-vit-h"]) == 1  # no terminal to ask on
    captured = capsys.readouterr()
    assert "licence: Apache-2.0" in captured.out
    assert "--yes" in captured.err
    assert server.requests == []

    assert run(["models", "download", "sam-vit-h", "--yes"]) == 0
    captured = capsys.readouterr()
    assert "100.0%" in captured.err and "MB at" in captured.err
    installed = models / "sam-vit-h" / "sam_vit_h_4b8939.pth"
    assert installed.read_bytes() == data
    assert run(["models", "verify", "sam-vit-h"]) == 0
    assert run(["models", "download", "sam-vit-h", "--yes"]) == 0
    assert "already installed" in capsys.readouterr().out


def test_download_in_offline_mode_refuses_before_asking(models, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert run(["models", "download", "sd2-inpainting"]) == 1
    err = capsys.readouterr().err
    assert "Offline mode is on" in err and str(models / "sd2-inpainting") in err
