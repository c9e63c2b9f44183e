"""`paintnoise models ...` on tiny models folders and against a loopback server."""

from __future__ import annotations

import hashlib
import json

import pytest
import torch
from safetensors.torch import save_file

from paintnoise_desktop.cli.main import main as cli_main
from paintnoise_desktop.engine.models.catalog import BUILTIN_CATALOG
from paintnoise_desktop.engine.models.registry import INCOMPLETE_MARKER
from paintnoise_desktop.engine.settings import load_settings
from tests.model_server import ModelServer, checkpoint_bytes, url_model, write_catalog
from tests.tinymodels.sam import build_sam


def run(argv: list[str]) -> int:
    """What `paintnoise` does with these arguments: run the command, errors as one line."""
    return cli_main(argv)


@pytest.fixture
def models(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    monkeypatch.setenv("PAINTNOISE_MODELS_DIR", str(folder))
    monkeypatch.setenv("PAINTNOISE_SETTINGS", str(tmp_path / "settings.json"))
    build_sam(folder / "sam-vit-b", name="sam_vit_b_01ec64.pth")
    return folder


@pytest.fixture
def unchecked_sam_b(tmp_path, monkeypatch):
    """A catalogue whose sam-vit-b has no published checksum, so a tiny model can be whole."""
    catalog = write_catalog(tmp_path / "unchecked.json", [
        url_model("sam-vit-b", "https://example.org/sam_vit_b_01ec64.pth", b"x" * 100),
        *(entry for entry in _builtin_entries() if entry["id"] != "sam-vit-b")])
    monkeypatch.setenv("PAINTNOISE_CATALOG", str(catalog))


def _builtin_entries() -> list[dict]:
    return json.loads(BUILTIN_CATALOG.read_text(encoding="utf-8"))["models"]


def test_list_shows_every_model_and_its_status(models, capsys):
    (models / "clipseg-rd64-refined").mkdir()
    (models / "clipseg-rd64-refined" / INCOMPLETE_MARKER).touch()
    assert run(["models", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["ID", "STATUS", "SIZE"]
    rows = {line.split()[0]: line for line in out[1:]}
    assert set(rows) == {entry["id"] for entry in _builtin_entries()}
    assert "installed" in rows["sam-vit-b"] and "not installed" not in rows["sam-vit-b"]
    assert "not installed" in rows["sd2-inpainting"] and "inpainting" in rows["sd2-inpainting"]
    assert "download not finished" in rows["clipseg-rd64-refined"]


def test_path_prints_the_expected_folder(models, capsys):
    assert run(["models", "path", "clipseg-rd64-refined"]) == 0
    assert capsys.readouterr().out.strip() == str(models / "clipseg-rd64-refined")
    assert run(["models", "path", "no-such-model"]) == 1
    assert "There is no model called 'no-such-model'" in capsys.readouterr().err


def test_verify_says_ok_or_broken_per_model(models, unchecked_sam_b, capsys):
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
    data = build_sam(tmp_path / "tiny", name="sam_vit_h_4b8939.pth").read_bytes()
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
    assert "[100%]" in captured.err and "MB at" in captured.err
    assert "\x1b" not in captured.err and "\r" not in captured.err  # not a terminal: plain lines
    installed = models / "sam-vit-h" / "sam_vit_h_4b8939.pth"
    assert installed.read_bytes() == data
    assert run(["models", "verify", "sam-vit-h"]) == 0
    assert run(["models", "download", "sam-vit-h", "--yes"]) == 0
    assert "already installed" in capsys.readouterr().out


def test_a_failed_download_says_so_on_a_line_of_its_own(models, server, tmp_path, monkeypatch,
                                                        capsys):
    data = build_sam(tmp_path / "tiny", name="sam_vit_h_4b8939.pth").read_bytes()
    url = f"{server.url}/segment_anything/sam_vit_h_4b8939.pth"  # never added: the server 404s
    catalog = write_catalog(tmp_path / "catalog.json", [
        url_model("sam-vit-h", url, data, hashlib.sha256(data).hexdigest())])
    monkeypatch.setenv("PAINTNOISE_CATALOG", str(catalog))
    assert run(["models", "download", "sam-vit-h", "--yes"]) == 1
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("paintnoise: error: ") and "404" in last


def test_download_in_offline_mode_refuses_before_asking(models, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert run(["models", "download", "sd2-inpainting"]) == 1
    err = capsys.readouterr().err
    assert "Offline mode is on" in err and str(models / "sd2-inpainting") in err


def test_download_asks_once_for_several_models(models, server, tmp_path, monkeypatch, capsys):
    data_h, data_l = checkpoint_bytes(tmp_path), b"L" * 4096
    server.add("/sam_vit_h_4b8939.pth", data_h)
    server.add("/sam_vit_l_0b3195.pth", data_l)
    catalog = write_catalog(tmp_path / "catalog.json", [
        url_model("sam-vit-h", f"{server.url}/sam_vit_h_4b8939.pth", data_h,
                  hashlib.sha256(data_h).hexdigest()),
        url_model("sam-vit-l", f"{server.url}/sam_vit_l_0b3195.pth", data_l,
                  hashlib.sha256(data_l).hexdigest())])
    monkeypatch.setenv("PAINTNOISE_CATALOG", str(catalog))
    asked = []
    monkeypatch.setattr("paintnoise_desktop.cli.models._confirmed",
                        lambda question: asked.append(question) or True)

    assert run(["models", "download", "sam-vit-h", "sam-vit-l"]) == 0
    out = capsys.readouterr().out
    assert len(asked) == 1 and asked[0].startswith("Download these 2 models now")
    assert "licence text: https://" not in out  # the test catalogue has no licence page
    assert out.count("licence: Apache-2.0") == 2
    assert (models / "sam-vit-h" / "sam_vit_h_4b8939.pth").read_bytes() == data_h
    assert (models / "sam-vit-l" / "sam_vit_l_0b3195.pth").read_bytes() == data_l
    assert "sam-vit-h is installed in" in out and "sam-vit-l is installed in" in out


@pytest.mark.parametrize("argv, code, says", [
    (["models", "list", "--debug"], 0, "sd2-inpainting"),
    (["models", "--debug", "list"], 0, "sd2-inpainting"),
    (["--debug", "models", "list"], 0, "sd2-inpainting"),
    (["models", "path", "sam-vit-b", "--debug"], 0, "sam-vit-b"),
    (["models", "verify", "sd2-inpainting", "--debug"], 1, "sd2-inpainting: not installed"),
    (["models", "add", "sam-vit-h", "/no/such/file.pth", "--debug"], 1, ""),
])
def test_debug_is_accepted_after_every_models_action(models, argv, code, says, capsys):
    assert run(argv) == code
    captured = capsys.readouterr()
    assert "unrecognized arguments" not in captured.err and says in captured.out


def test_debug_after_download_shows_the_details_of_a_failure(models, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert run(["models", "download", "sd2-inpainting", "--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert err.strip().splitlines()[-1].startswith("paintnoise: error: Offline mode is on")


def test_download_names_the_licence_page_and_a_gated_models_condition(models, tmp_path,
                                                                     monkeypatch, capsys):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    open_model = url_model("sam-vit-h", "https://example.org/h.pth", b"x" * 10)
    open_model["licence_url"] = "https://example.org/licence"
    gated = url_model("sd2-inpainting", "https://example.org/sd.safetensors", b"x" * 10)
    gated.update(access="gated", licence_url="https://example.org/accept")
    catalog = write_catalog(tmp_path / "catalog.json", [open_model, gated])
    monkeypatch.setenv("PAINTNOISE_CATALOG", str(catalog))
    monkeypatch.setattr("paintnoise_desktop.cli.models._confirmed", lambda question: False)

    assert run(["models", "download", "sam-vit-h", "sd2-inpainting"]) == 0
    out = capsys.readouterr().out
    assert "  licence text: https://example.org/licence\n" in out
    assert ("  the hub serves it only once you have accepted the licence at "
            "https://example.org/accept\n") in out
    assert out.endswith("Nothing was downloaded.\n")
