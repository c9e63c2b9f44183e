"""Where models are found, the catalogue, the saved settings and files added by path."""

from __future__ import annotations

import shutil

import pytest
import torch
from safetensors.torch import save_file

from paintnoise_desktop.core.errors import ModelError, ModelMissingError
from paintnoise_desktop.engine.models.catalog import ROLES, get_spec, load_catalog
from paintnoise_desktop.engine.models.device import (
    memory_profile_for,
    memory_summary,
    pick_memory_profile,
)
from paintnoise_desktop.engine.models.model_check import validate_model_path, verify_model
from paintnoise_desktop.engine.models.registry import (
    INCOMPLETE_MARKER,
    expected_path,
    find_model,
    locate,
    require_model,
)
from paintnoise_desktop.engine.settings import (
    EngineSettings,
    load_settings,
    save_settings,
    with_model_path,
)
from tests.model_server import hub_model, write_catalog
from tests.tinymodels.clip import build_hub_clip
from tests.tinymodels.sam import build_sam

REPO = "org/tiny-clip"
COMMIT = "4f1c2e9d8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d"


@pytest.fixture
def tiny_catalog(tmp_path, monkeypatch):
    files = [{"path": "config.json", "size": 2}, {"path": "model.safetensors", "size": 8}]
    path = write_catalog(tmp_path / "catalog.json", [hub_model("tiny-clip", REPO, "main", files)])
    monkeypatch.setenv("PAINTNOISE_CATALOG", str(path))


def fake_hf_cache(root, repo: str, commit: str, files: dict[str, bytes]):
    """The real hub cache layout: models--org--name/{refs/main, snapshots/<commit>/...}."""
    repo_dir = root / f"models--{repo.replace('/', '--')}"
    (repo_dir / "refs").mkdir(parents=True)
    (repo_dir / "refs" / "main").write_text(commit)
    snapshot = repo_dir / "snapshots" / commit
    for name, data in files.items():
        (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
        (snapshot / name).write_bytes(data)
    return snapshot


def test_resolution_order_user_path_then_models_folder_then_hf_cache(
        tiny_catalog, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    settings = EngineSettings(models_dir=tmp_path / "models")
    assert find_model("tiny-clip", settings) is None
    with pytest.raises(ModelMissingError) as missing:
        require_model("tiny-clip", settings)
    assert missing.value.model_ids == ("tiny-clip",)

    snapshot = fake_hf_cache(tmp_path / "hf" / "hub", REPO, COMMIT,
                             {"config.json": b"{}", "model.safetensors": b"weights!"})
    assert locate("tiny-clip", settings).origin == "Hugging Face cache"
    assert find_model("tiny-clip", settings) == snapshot

    folder = expected_path("tiny-clip", settings)
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    assert locate("tiny-clip", settings).origin == "models folder"
    assert require_model("tiny-clip", settings) == folder

    mine = tmp_path / "my-clip"
    mine.mkdir()
    settings = with_model_path(settings, "tiny-clip", mine)
    assert locate("tiny-clip", settings).origin == "user path"
    assert find_model("tiny-clip", settings) == mine

    (mine / "config.json").write_text("{}")
    settings = with_model_path(settings, "tiny-clip", tmp_path / "gone")
    assert find_model("tiny-clip", settings) == folder  # a user path that vanished is skipped


def test_an_incomplete_hf_snapshot_or_download_is_not_installed(tiny_catalog, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    settings = EngineSettings(models_dir=tmp_path / "models")
    fake_hf_cache(tmp_path / "hf" / "hub", REPO, COMMIT, {"config.json": b"{}"})
    assert find_model("tiny-clip", settings) is None

    folder = expected_path("tiny-clip", settings)
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / INCOMPLETE_MARKER).touch()
    assert find_model("tiny-clip", settings) is None


@pytest.fixture
def tokenizer_catalog(tmp_path, monkeypatch):
    """A model whose tokenizer may be saved as tokenizer.json or as vocab.json + merges.txt."""
    files = [{"path": "config.json", "size": 2}, {"path": "vocab.json", "size": 2},
             {"path": "merges.txt", "size": 2}]
    entry = hub_model("tiny-clip", REPO, "main", files)
    entry["alternatives"] = [[["tokenizer.json"], ["vocab.json", "merges.txt"]]]
    path = write_catalog(tmp_path / "catalog.json", [entry])
    monkeypatch.setenv("PAINTNOISE_CATALOG", str(path))


@pytest.mark.parametrize("tokenizer", [("tokenizer.json",), ("vocab.json", "merges.txt")])
def test_either_form_of_an_alternative_makes_a_whole_model(tokenizer_catalog, tmp_path,
                                                           monkeypatch, tokenizer):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    settings = EngineSettings(models_dir=tmp_path / "models")
    folder = expected_path("tiny-clip", settings)
    folder.mkdir(parents=True)
    for name in ("config.json", *tokenizer):
        (folder / name).write_text("{}")
    save_file({"w": torch.zeros(2)}, folder / "model.safetensors")
    assert verify_model("tiny-clip", settings).ok

    fake_hf_cache(tmp_path / "hf" / "hub", REPO, COMMIT,
                  {name: (folder / name).read_bytes()
                   for name in ("config.json", "model.safetensors", *tokenizer)})
    shutil.rmtree(folder)
    assert locate("tiny-clip", settings).origin == "Hugging Face cache"


def test_half_of_a_form_is_reported_missing(tokenizer_catalog, tmp_path):
    settings = EngineSettings(models_dir=tmp_path / "models")
    folder = expected_path("tiny-clip", settings)
    folder.mkdir(parents=True)
    for name in ("config.json", "vocab.json"):
        (folder / name).write_text("{}")
    save_file({"w": torch.zeros(2)}, folder / "model.safetensors")

    verdict = verify_model("tiny-clip", settings)
    assert not verdict.ok
    assert verdict.problems == ("needs tokenizer.json, or vocab.json + merges.txt; none is there",)


def test_the_models_folder_comes_from_settings_then_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PAINTNOISE_MODELS_DIR", str(tmp_path / "env"))
    assert expected_path("sam-vit-b", EngineSettings()) == tmp_path / "env" / "sam-vit-b"
    chosen = EngineSettings(models_dir=tmp_path / "chosen")
    assert expected_path("sam-vit-b", chosen) == tmp_path / "chosen" / "sam-vit-b"


def test_the_builtin_catalogue_lists_every_model_with_its_source():
    catalog = load_catalog()
    assert {"sam-vit-h", "sam-vit-b", "clip-vit-large-patch14", "clip-vit-base-patch32",
            "sd2-inpainting", "sd15-inpainting"} <= set(catalog)
    for spec in catalog.values():
        assert spec.role in ROLES and spec.licence and spec.min_memory_gb > 0
        assert 1e7 < spec.size_bytes < 5e9  # DeepFill v2 and CLIPAway's MLP are tens of MB
        assert bool(spec.url) != bool(spec.repo)
    for model_id in ("sd2-inpainting", "sd15-inpainting"):
        weights = [f for f in catalog[model_id].files if "model" in f.path and "." in f.local]
        for file in weights:
            if file.path.endswith(("safetensors", "bin")):
                assert file.path.endswith(".fp16.safetensors")
                assert ".fp16." not in file.local  # laid out as save_pretrained writes it
    with pytest.raises(ModelError, match="no model called 'nope'"):
        get_spec("nope")


def test_settings_survive_a_save_and_load(tmp_path):
    path = tmp_path / "settings.json"
    assert load_settings(path) == EngineSettings()
    settings = with_model_path(EngineSettings(device="cuda:1", precision="bf16", offline=True,
                                              memory_profile="low", models_dir=tmp_path / "m"),
                               "sam-vit-b", tmp_path / "sam.pth")
    save_settings(settings, path)
    assert load_settings(path) == settings
    assert with_model_path(settings, "sam-vit-b", None).model_paths == {}


def test_adding_files_checks_they_are_the_right_kind(tmp_path):
    sam = build_sam(tmp_path, name="sam.pth")
    assert validate_model_path(get_spec("sam-vit-b"), sam) == sam
    assert validate_model_path(get_spec("sam-vit-b"), tmp_path) == tmp_path  # holds just sam.pth
    part = tmp_path / "part" / "sam.pth"
    part.parent.mkdir()
    torch.save({"image_encoder.pos_embed": torch.zeros(1, 2, 2, 4)}, part)
    with pytest.raises(ModelError, match="could not be read") as raised:
        validate_model_path(get_spec("sam-vit-b"), part)
    assert "image_encoder.patch_embed.proj.weight" in raised.value.detail
    (tmp_path / "notes.pth").write_text("not a checkpoint")
    with pytest.raises(ModelError, match="not a Segment Anything checkpoint"):
        validate_model_path(get_spec("sam-vit-b"), tmp_path)  # two .pth files: which one?
    with pytest.raises(ModelError, match="could not be read"):
        validate_model_path(get_spec("sam-vit-b"), tmp_path / "notes.pth")
    inpaint = tmp_path / "inpaint.safetensors"
    save_file({"model.diffusion_model.input_blocks.0.0.weight": torch.zeros(2, 9, 1, 1)}, inpaint)
    assert validate_model_path(get_spec("sd15-inpainting"), inpaint) == inpaint
    plain = tmp_path / "plain.safetensors"
    save_file({"model.diffusion_model.input_blocks.0.0.weight": torch.zeros(2, 4, 1, 1)}, plain)
    with pytest.raises(ModelError, match="not an inpainting one"):
        validate_model_path(get_spec("sd15-inpainting"), plain)
    with pytest.raises(ModelError, match="not a diffusers model folder"):
        validate_model_path(get_spec("sd2-inpainting"), tmp_path)
    with pytest.raises(ModelError, match="no file or folder"):
        validate_model_path(get_spec("sd2-inpainting"), tmp_path / "missing")
    with pytest.raises(ModelError, match="model folder"):
        validate_model_path(get_spec("clip-vit-base-patch32"), sam)
    with pytest.raises(ModelError, match="model folder"):
        validate_model_path(get_spec("clip-vit-base-patch32"), tmp_path / "part")


def test_memory_profile_follows_free_memory_against_the_models_minimum():
    assert memory_profile_for(free_gb=20.0, min_memory_gb=4.0) == "keep"
    assert memory_profile_for(free_gb=4.0, min_memory_gb=4.0) == "offload"
    assert memory_profile_for(free_gb=1.5, min_memory_gb=4.0) == "low"
    cpu = torch.device("cpu")
    assert pick_memory_profile(cpu, EngineSettings(), 4.0) == "keep"
    assert pick_memory_profile(cpu, EngineSettings(memory_profile="low"), 4.0) == "low"
    assert memory_summary(cpu) == "CPU"


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_on_a_gpu_auto_settings_follow_its_free_memory():
    from paintnoise_desktop.engine.models.device import pick_device

    device = pick_device(EngineSettings())
    assert device.type == "cuda"
    free, total = torch.cuda.mem_get_info(device.index)
    summary = memory_summary(device)
    assert summary.startswith(f"CUDA {device.index}: ") and summary.endswith(f"/ {total / 1e9:.0f} GB")
    assert pick_memory_profile(device, EngineSettings(), min_memory_gb=free / 1e9 / 2) == "keep"
    assert pick_memory_profile(device, EngineSettings(), min_memory_gb=free / 1e9 * 10) == "low"


def test_adding_model_folders_checks_their_layout(tmp_path):
    sd = tmp_path / "my-sd"
    (sd / "unet").mkdir(parents=True)
    with pytest.raises(ModelError, match="model_index.json"):
        validate_model_path(get_spec("sd2-inpainting"), sd)
    (sd / "model_index.json").write_text("{}")
    assert validate_model_path(get_spec("sd2-inpainting"), sd) == sd

    clip = build_hub_clip(tmp_path / "my-clip", "bin")
    weights = (clip / "pytorch_model.bin").read_bytes()
    (clip / "pytorch_model.bin").unlink()
    with pytest.raises(ModelError, match="config.json and weights"):
        validate_model_path(get_spec("clip-vit-large-patch14"), clip)
    (clip / "pytorch_model.bin").write_bytes(weights)
    assert validate_model_path(get_spec("clip-vit-large-patch14"), clip) == clip
    (clip / "tokenizer_config.json").unlink()
    with pytest.raises(ModelError, match="not whole: tokenizer_config.json is missing"):
        validate_model_path(get_spec("clip-vit-large-patch14"), clip)


def test_the_hub_cache_is_found_where_huggingface_hub_looks(tmp_path, monkeypatch):
    from paintnoise_desktop.engine.models.registry import hf_cache_dir

    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert hf_cache_dir() == tmp_path / "home" / ".cache" / "huggingface" / "hub"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hf_cache_dir() == tmp_path / "xdg" / "huggingface" / "hub"
    monkeypatch.setenv("HF_HOME", "~/hf")
    assert hf_cache_dir() == tmp_path / "home" / "hf" / "hub"
    monkeypatch.setenv("HUGGINGFACE_HUB_CACHE", str(tmp_path / "old-name"))
    assert hf_cache_dir() == tmp_path / "old-name"
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    assert hf_cache_dir() == tmp_path / "cache"
