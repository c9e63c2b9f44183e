"""Every real on-disk layout loads through the app's loaders, and `models verify` agrees.

Tiny random-weight models from the real classes are saved as the hub and the
libraries save them: transformers folders with model.safetensors, with only
pytorch_model.bin, or either in shards with an index; a Hugging Face cache
snapshot (refs, snapshots, symlinks into blobs) at whatever revision the user
has; Segment Anything checkpoints. Then each is damaged in the ways files get
damaged, and verify's verdict must be OK exactly when the real loader loads.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from paintnoise_desktop.core.errors import ModelError
from paintnoise_desktop.engine.find.clip_model import get_clip, load_clip
from paintnoise_desktop.engine.find.sam_model import load_sam
from paintnoise_desktop.engine.models.catalog import BUILTIN_CATALOG, load_catalog
from paintnoise_desktop.engine.models.model_check import verify_model
from paintnoise_desktop.engine.models.model_store import ModelStore
from paintnoise_desktop.engine.models.registry import locate
from paintnoise_desktop.engine.settings import EngineSettings
from tests.tinymodels.clip import HUB_IMAGE_SIZE, LAYOUTS, build_hub_clip, tiny_clip_model
from tests.tinymodels.sam import ODD_SAM, build_sam

CPU = torch.device("cpu")
CLIP = "clip-vit-base-patch32"
SAM = "sam-vit-b"


@pytest.fixture(autouse=True)
def catalogue(tmp_path, monkeypatch):
    """The built-in catalogue (its file lists, repos and revisions) without the published
    checksums, which no tiny model can match; and no hub cache but the test's own."""
    data = json.loads(BUILTIN_CATALOG.read_text(encoding="utf-8"))
    for entry in data["models"]:
        for file in entry["files"]:
            file.pop("sha256", None)
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setenv("PAINTNOISE_CATALOG", str(path))
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("PAINTNOISE_MODELS_DIR", str(tmp_path / "models"))
    return load_catalog()


@pytest.fixture(scope="module")
def hub_clips(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hub-clips")
    return {layout: build_hub_clip(root / layout, layout) for layout in LAYOUTS}


@pytest.fixture(scope="module")
def reference_state() -> dict[str, torch.Tensor]:
    return tiny_clip_model(HUB_IMAGE_SIZE, patch_size=32).state_dict()


def installed(source: Path, tmp_path: Path, model_id: str = CLIP) -> Path:
    folder = tmp_path / "models" / model_id
    shutil.copytree(source, folder)
    return folder


def clip_loads(folder: Path) -> bool:
    try:
        load_clip(folder, CLIP, CPU, torch.float32)
    except ModelError:
        return False
    return True


def sam_loads(path: Path) -> bool:
    try:
        load_sam(path, SAM, CPU)
    except ModelError:
        return False
    return True


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_transformers_layout_loads_with_the_saved_weights(layout, hub_clips,
                                                                reference_state, tmp_path):
    folder = installed(hub_clips[layout], tmp_path)
    assert not (folder / "model.safetensors").exists() or layout == "safetensors"

    assert verify_model(CLIP, EngineSettings()).ok, verify_model(CLIP, EngineSettings()).summary
    embedder = load_clip(folder, CLIP, CPU, torch.float32)

    loaded = embedder.model.state_dict()
    assert loaded.keys() == reference_state.keys()
    for name, tensor in reference_state.items():
        assert torch.equal(loaded[name], tensor), name
    assert embedder.encode_text(["a red car", "a dog"]).shape == (2, 16)
    crops = [np.full((40, 300, 3), 120, np.uint8), np.zeros((500, 90, 3), np.uint8)]
    assert embedder.encode_images(crops).shape == (2, 16)


def hf_snapshot(hub: Path, repo: str, commit: str, source: Path, ref: str | None = "main",
                without: tuple[str, ...] = ()) -> Path:
    """`source` as huggingface_hub caches it: blobs named by hash, snapshot files linking to
    them (relative symlinks); the files in `without` have a link but no blob (an interrupted
    download). `ref` names the branch file that points at `commit`."""
    repo_dir = hub / f"models--{repo.replace('/', '--')}"
    blobs = repo_dir / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    snapshot = repo_dir / "snapshots" / commit
    for file in sorted(source.rglob("*")):
        if not file.is_file():
            continue
        data = file.read_bytes()
        blob = blobs / hashlib.sha256(data).hexdigest()
        if file.name not in without:
            blob.write_bytes(data)
        link = snapshot / file.relative_to(source)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    if ref:
        (repo_dir / "refs").mkdir(exist_ok=True)
        (repo_dir / "refs" / ref).write_text(commit)
    return snapshot


OTHER = "0123456789abcdef0123456789abcdef01234567"
OLDER = "fedcba9876543210fedcba9876543210fedcba98"


@pytest.mark.parametrize("case", ["main is another revision", "pinned one is incomplete",
                                  "no refs at all", "pinned one first"])
def test_a_cache_snapshot_at_any_revision_the_user_has_loads(case, hub_clips, catalogue,
                                                             tmp_path):
    spec = catalogue[CLIP]
    hub = tmp_path / "hf" / "hub"
    source = hub_clips["bin"]  # the repository's main branch has only pytorch_model.bin
    if case == "main is another revision":
        expected = hf_snapshot(hub, spec.repo, OTHER, source)
    elif case == "pinned one is incomplete":
        hf_snapshot(hub, spec.repo, spec.revision, source, without=("pytorch_model.bin",))
        expected = hf_snapshot(hub, spec.repo, OTHER, hub_clips["safetensors"], ref=None)
    elif case == "no refs at all":
        expected = hf_snapshot(hub, spec.repo, OLDER, hub_clips["safetensors-shards"], ref=None)
    else:
        hf_snapshot(hub, spec.repo, OTHER, hub_clips["safetensors"])
        expected = hf_snapshot(hub, spec.repo, spec.revision, source, ref="v1")
    assert expected.name != spec.revision or case == "pinned one first"

    location = locate(CLIP, EngineSettings())
    assert location.origin == "Hugging Face cache" and location.path == expected
    assert verify_model(CLIP, EngineSettings()).ok
    model_id, embedder = get_clip(ModelStore())
    assert model_id == CLIP and embedder.encode_text(["a cat"]).shape == (1, 16)


def test_a_cache_with_no_whole_snapshot_is_not_installed(hub_clips, catalogue, tmp_path):
    spec = catalogue[CLIP]
    hf_snapshot(tmp_path / "hf" / "hub", spec.repo, OTHER, hub_clips["bin"],
                without=("pytorch_model.bin",))
    assert locate(CLIP, EngineSettings()) is None
    assert verify_model(CLIP, EngineSettings()).summary == "not installed"


# --- verify and loading agree ----------------------------------------------------------


def _weights(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".safetensors", ".bin"))


def _rewrite(path: Path, change) -> None:
    """Load a weights file, change its tensors, save it in the same format."""
    if path.suffix == ".safetensors":
        save_file(change(load_file(path)), path, metadata={"format": "pt"})
    else:
        torch.save(change(torch.load(path, weights_only=True)), path)


def _without_one(state: dict) -> dict:
    state = dict(state)
    state.pop(min(k for k in state if k.endswith(".weight")))
    return state


def _reshaped(state: dict) -> dict:
    name = min(k for k in state if k.endswith(".weight"))
    return {**state, name: torch.zeros(3, 5)}


def _index(folder: Path) -> Path:
    return next(folder.glob("*.index.json"))


def _name_a_missing_shard(folder: Path) -> None:
    index = json.loads(_index(folder).read_text())
    suffix = ".safetensors" if "safetensors" in _index(folder).name else ".bin"
    index["weight_map"]["logit_scale"] = "model-00099-of-00099" + suffix
    _index(folder).write_text(json.dumps(index))


CLIP_DAMAGE = {
    # name: (layouts it applies to, what it does, the file verify must name)
    "intact": (LAYOUTS, lambda f: None, None),
    "no weights at all": (LAYOUTS, lambda f: [p.unlink() for p in [*_weights(f), *f.glob(
        "*.index.json")]], "weights are missing"),
    "truncated weights": (LAYOUTS, lambda f: _weights(f)[0].write_bytes(
        _weights(f)[0].read_bytes()[: _weights(f)[0].stat().st_size // 2]), "is broken"),
    "a shard deleted": (("safetensors-shards", "bin-shards"), lambda f: _weights(f)[1].unlink(),
                        "is missing"),
    "the index names a shard that is not there": (("safetensors-shards", "bin-shards"),
                                                  _name_a_missing_shard, "00099"),
    "a damaged index": (("safetensors-shards", "bin-shards"),
                        lambda f: _index(f).write_text("{\"weight_map\": "), "index.json"),
    ".bin that is not a state dict": (("bin", "bin-shards"), lambda f: torch.save(
        [torch.zeros(2)], _weights(f)[0]), "not a state dict"),
    "a tensor left out": (("safetensors", "bin"), lambda f: _rewrite(_weights(f)[0],
                                                                     _without_one), "lack 1"),
    "a tensor of the wrong shape": (("safetensors", "bin"), lambda f: _rewrite(
        _weights(f)[0], _reshaped), "another shape"),
    "damaged config.json": (LAYOUTS, lambda f: (f / "config.json").write_text("{\"proj"),
                            "config.json"),
    "no tokenizer": (LAYOUTS, lambda f: [(f / n).unlink() for n in (
        "tokenizer.json", "vocab.json", "merges.txt")], "tokenizer.json"),
    "no preprocessor config": (LAYOUTS, lambda f: (f / "preprocessor_config.json").unlink(),
                               "preprocessor_config.json"),
}
CLIP_CASES = [(layout, damage) for damage, (layouts, _, _) in CLIP_DAMAGE.items()
              for layout in layouts]


@pytest.mark.parametrize(("layout", "damage"), CLIP_CASES)
def test_verify_calls_a_transformers_folder_ok_exactly_when_it_loads(layout, damage, hub_clips,
                                                                     tmp_path):
    folder = installed(hub_clips[layout], tmp_path)
    _, apply, named = CLIP_DAMAGE[damage]
    apply(folder)

    verdict = verify_model(CLIP, EngineSettings())
    loads = clip_loads(folder)
    assert verdict.ok == loads, verdict.summary
    assert loads == (damage == "intact")
    if named:
        assert named in verdict.summary


def _sam_without(key: str):
    def change(state: dict) -> dict:
        return {name: tensor for name, tensor in state.items() if name != key}
    return change


SAM_DAMAGE = {
    "intact": (lambda p: None, None),
    "truncated": (lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), "is broken"),
    "a decoder tensor missing": (lambda p: _rewrite(p, _sam_without(
        "mask_decoder.iou_prediction_head.layers.1.bias")), "missing tensors"),
    "an encoder block's MLP missing": (lambda p: _rewrite(p, _sam_without(
        "image_encoder.blocks.2.mlp.lin2.weight")), "missing tensors"),
    "the position embedding missing": (lambda p: _rewrite(p, _sam_without(
        "image_encoder.pos_embed")), "image_encoder.pos_embed"),
    "an extra tensor": (lambda p: _rewrite(p, lambda s: {**s, "head.weight": torch.zeros(2)}),
                        "head.weight"),
    "a tensor of the wrong shape": (lambda p: _rewrite(p, lambda s: {
        **s, "image_encoder.neck.2.weight": torch.zeros(48, 48, 1, 1)}), "wrong shape"),
    "not a state dict": (lambda p: torch.save([torch.zeros(2)], p), "not a state dict"),
    "a state dict of another model": (lambda p: torch.save({"weight": torch.zeros(4)}, p),
                                      "not a Segment Anything checkpoint"),
}


@pytest.mark.parametrize("damage", SAM_DAMAGE)
def test_verify_calls_a_sam_checkpoint_ok_exactly_when_it_loads(damage, tmp_path):
    checkpoint = build_sam(tmp_path / "models" / SAM, ODD_SAM)
    apply, named = SAM_DAMAGE[damage]
    apply(checkpoint)

    verdict = verify_model(SAM, EngineSettings())
    loads = sam_loads(checkpoint.parent)
    assert verdict.ok == loads, verdict.summary
    assert loads == (damage == "intact")
    if named:
        assert checkpoint.name in verdict.summary and named in verdict.summary


# --- diffusers folders: verify knows the fp16 variant and .bin forms the loader reads ---

SD = "sd2-inpainting"
SD_LAYOUTS = {"full": {}, "fp16 variant": {"variant": "fp16"},
              ".bin": {"safe_serialization": False}}


@pytest.fixture(scope="module")
def sd_folders(tmp_path_factory) -> dict[str, Path]:
    from tests.tinymodels.sd import tiny_sd_inpainting_pipeline

    pipe = tiny_sd_inpainting_pipeline()
    root = tmp_path_factory.mktemp("sd")
    for layout, options in SD_LAYOUTS.items():
        pipe.save_pretrained(root / layout, **options)
    return {layout: root / layout for layout in SD_LAYOUTS}


def sd_loads(path: Path) -> bool:
    from paintnoise_desktop.engine.inpaint.diffusion_loader import load_inpaint_pipeline

    try:
        load_inpaint_pipeline(path, CPU, torch.float32)
    except ModelError:
        return False
    return True


def _unet_weights(folder: Path) -> Path:
    return next(p for p in (folder / "unet").iterdir() if p.suffix in (".safetensors", ".bin"))


SD_DAMAGE = {
    "intact": (lambda f: None, None),
    "no unet weights": (lambda f: _unet_weights(f).unlink(), "unet/ has no weights"),
    "truncated unet weights": (lambda f: _unet_weights(f).write_bytes(
        _unet_weights(f).read_bytes()[:5000]), "is broken"),
}


@pytest.mark.parametrize("damage", SD_DAMAGE)
@pytest.mark.parametrize("layout", SD_LAYOUTS)
def test_verify_calls_a_diffusers_folder_ok_exactly_when_it_loads(layout, damage, sd_folders,
                                                                  tmp_path):
    folder = installed(sd_folders[layout], tmp_path, SD)
    apply, named = SD_DAMAGE[damage]
    apply(folder)

    verdict = verify_model(SD, EngineSettings())
    loads = sd_loads(folder)
    assert verdict.ok == loads, verdict.summary
    assert loads == (damage == "intact")
    if named:
        assert named in verdict.summary


def test_a_diffusers_snapshot_with_fp16_files_at_another_revision_loads(sd_folders, catalogue,
                                                                        tmp_path):
    snapshot = hf_snapshot(tmp_path / "hf" / "hub", catalogue[SD].repo, OTHER,
                           sd_folders["fp16 variant"])
    location = locate(SD, EngineSettings())
    assert location.origin == "Hugging Face cache" and location.path == snapshot
    assert verify_model(SD, EngineSettings()).ok
    assert sd_loads(snapshot)
