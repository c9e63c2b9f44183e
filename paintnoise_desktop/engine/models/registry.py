"""Where each model's files are.

Resolution order: a path the user set for the model (`EngineSettings.model_paths`),
then the models folder (`<models folder>/<model id>/`), then the Hugging Face cache
(for models that come from the hub), else the model is not installed.

The models folder is `settings.models_dir`, else `PAINTNOISE_MODELS_DIR`, else the
platform's user data folder + `models`. A download in progress keeps a marker file
in the model's folder until its last file is in place, so a half-downloaded model
is never taken for an installed one.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import platformdirs

from ...core.errors import ModelMissingError
from ..settings import EngineSettings
from .catalog import ModelSpec, known_spec, missing_files
from .weight_files import transformers_weights

STATE_DICT_SUFFIXES = (".safetensors", ".pth", ".ckpt", ".pt", ".bin")
INCOMPLETE_MARKER = ".paintnoise-incomplete"  # present while a download is not finished
MANIFEST = "paintnoise-model.json"  # written last by a finished download
COMMIT = re.compile(r"[0-9a-f]{40}")  # a hub revision that names one commit
MODEL_MANAGER_MENU = "Models > Model Manager…"  # the window's menu path, as its menus spell it

Origin = Literal["user path", "models folder", "Hugging Face cache"]


@dataclass(frozen=True)
class Location:
    path: Path
    origin: Origin


def models_dir(settings: EngineSettings) -> Path:
    if settings.models_dir is not None:
        return Path(settings.models_dir)
    env = os.environ.get("PAINTNOISE_MODELS_DIR")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("paintnoise", "PaintNoise")) / "models"


def expected_path(model_id: str, settings: EngineSettings) -> Path:
    """Where a model is looked for in the models folder (`paintnoise models path ID`)."""
    return models_dir(settings) / model_id


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache, found as huggingface_hub finds it, read from the environment
    now (not at import time): HF_HUB_CACHE (or its old name HUGGINGFACE_HUB_CACHE), else
    HF_HOME/hub, else $XDG_CACHE_HOME or ~/.cache, + huggingface/hub."""
    cache = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if cache:
        return Path(cache).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "huggingface" / "hub"


def locate(model_id: str, settings: EngineSettings) -> Location | None:
    """The installed location of a model and where it was found, or None."""
    user_path = settings.model_paths.get(model_id)
    if user_path and Path(user_path).exists():
        return Location(Path(user_path), "user path")
    folder = expected_path(model_id, settings)
    if folder_is_complete(folder):
        return Location(folder, "models folder")
    spec = known_spec(model_id)
    if spec is not None and spec.repo:
        snapshot = find_in_hf_cache(spec)
        if snapshot is not None:
            return Location(snapshot, "Hugging Face cache")
    return None


def find_model(model_id: str, settings: EngineSettings) -> Path | None:
    """The installed location of a model, or None when it is not installed."""
    location = locate(model_id, settings)
    return location.path if location else None


def require_model(model_id: str, settings: EngineSettings) -> Path:
    path = find_model(model_id, settings)
    if path is None:
        raise ModelMissingError(
            model_id,
            f"The model '{model_id}' is not installed. Download it from {MODEL_MANAGER_MENU}, "
            f"or run: paintnoise models download {model_id}.",
            detail=f"looked in {expected_path(model_id, settings)} and the Hugging Face cache",
        )
    return path


STATUS_BY_ORIGIN = {
    "models folder": "installed",
    "Hugging Face cache": "installed (Hugging Face cache)",
    "user path": "added by path",
}


def install_status(model_id: str, settings: EngineSettings) -> str:
    """A few words for lists: installed, added by path, download not finished, not installed."""
    location = locate(model_id, settings)
    if location is not None:
        return STATUS_BY_ORIGIN[location.origin]
    if (expected_path(model_id, settings) / INCOMPLETE_MARKER).exists():
        return "download not finished"
    return "not installed"


def folder_is_complete(folder: Path) -> bool:
    """A non-empty model folder with no download in progress (copied by hand counts)."""
    if not folder.is_dir() or (folder / INCOMPLETE_MARKER).exists():
        return False
    return any(folder.iterdir())


def missing_parts(spec: ModelSpec, folder: Path) -> list[str]:
    """What a model's folder lacks, one phrase per gap; [] when it has everything its loader reads.

    Weights count in any form the libraries load, whatever name the catalogue gives
    them: a transformers model's as one file or shards with an index, safetensors or
    .bin; each diffusers component's (unet/, vae/, text_encoder/) as safetensors or .bin,
    full precision or the fp16 variant. A folder copied from elsewhere, or a cache
    snapshot at another revision, may hold another form than the catalogue downloads.
    """
    if spec.layout == "sam-checkpoint":
        count = len(list(folder.glob("*.pth")))
        return [] if count == 1 else [f"expected one .pth checkpoint, found {count}"]
    if spec.layout == "state-dict":  # one weights file, whatever its name (a copy, a conversion)
        if any(path.suffix in STATE_DICT_SUFFIXES for path in folder.rglob("*")):
            return []
        return [f"{spec.files[0].local} is missing (or another .safetensors or .pth file)"]
    files = tuple(file for file in spec.files if not any(map(is_weights_name, file.names)))
    groups = tuple(group for group in spec.alternatives
                   if not all(map(is_weights_name, (name for form in group for name in form))))
    gaps = missing_files(replace(spec, files=files, alternatives=groups), folder)
    if spec.layout == "transformers" and transformers_weights(folder) is None:
        gaps.append("the weights are missing (model.safetensors or pytorch_model.bin, "
                    "or the index of their shards)")
    for component in sorted({Path(file.local).parent for file in spec.files
                             if is_weights_name(file.local) and Path(file.local).parent.name}):
        if not any(map(is_weights_name, (p.name for p in (folder / component).glob("*")))):
            gaps.append(f"{component.as_posix()}/ has no weights (.safetensors or .bin, "
                        "full or fp16)")
    return gaps


def is_weights_name(name: str) -> bool:
    """A weights file or shard index, in any form diffusers or transformers reads."""
    return name.endswith((".safetensors", ".bin", ".safetensors.index.json", ".bin.index.json"))


def hf_snapshots(spec: ModelSpec) -> list[Path]:
    """A hub model's snapshot folders in the Hugging Face cache, the most wanted first.

    The pinned revision, then the one `refs/main` points at, then any other snapshot,
    newest first: a model the user already has at another revision is still a model.
    """
    repo_dir = hf_cache_dir() / f"models--{spec.repo.replace('/', '--')}"
    snapshots = repo_dir / "snapshots"
    if not snapshots.is_dir():
        return []

    def ref(name: str) -> str | None:
        try:
            return (repo_dir / "refs" / name).read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    pinned = spec.revision if COMMIT.fullmatch(spec.revision) else ref(spec.revision)
    others = sorted((path for path in snapshots.iterdir() if path.is_dir()),
                    key=lambda path: path.stat().st_mtime, reverse=True)
    wanted = [snapshots / name for name in (pinned, ref("main")) if name]
    ordered = [path for path in wanted if path.is_dir()] + others
    return list(dict.fromkeys(ordered))


def find_in_hf_cache(spec: ModelSpec) -> Path | None:
    """The first whole snapshot of a hub model in the Hugging Face cache (see hf_snapshots)."""
    return next((path for path in hf_snapshots(spec) if not missing_parts(spec, path)), None)
