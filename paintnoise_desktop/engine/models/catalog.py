"""The known models, read from `catalog.json` into frozen records.

The catalogue is data: adding a model or pinning a new revision is an edit to
the JSON file, not to code. A model's `alternatives` name files that can be
saved in more than one form (a tokenizer as tokenizer.json, or as vocab.json +
merges.txt): one complete form is enough for the model to count as whole. `PAINTNOISE_CATALOG` points at another file (tests
use it to send downloads to a local server).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from ...core.errors import ModelError

Layout = Literal["sam-checkpoint", "transformers", "diffusers"]
ROLES = ("proposals", "image-text scoring", "text-to-mask", "inpainting", "semantic segmentation")
BUILTIN_CATALOG = Path(__file__).with_name("catalog.json")


@dataclass(frozen=True)
class ModelFile:
    """One file of a model: where it comes from and where it goes in the model's folder."""

    path: str  # the file's name in the source (a hub repo path, or the URL's file name)
    local: str  # where it is written inside `<models folder>/<model id>/`
    size: int  # bytes, approximate unless sha256 is known
    sha256: str | None = None
    fallback: str | None = None  # repo path fetched instead when `path` does not exist
    optional: bool = False  # a missing optional file is skipped

    @property
    def names(self) -> set[str]:
        """Every name the file may have on disk: where it goes, its source name, its fallback."""
        return {self.path, self.local} | ({self.fallback} if self.fallback else set())


@dataclass(frozen=True)
class ModelSpec:
    id: str
    name: str
    role: str
    layout: Layout
    files: tuple[ModelFile, ...]
    licence: str
    min_memory_gb: float
    resolution: int
    url: str | None = None  # a single-file download (Segment Anything checkpoints)
    repo: str | None = None  # a Hugging Face hub repo ...
    revision: str = "main"  # ... at this revision (a commit hash where one is pinned)
    # Groups of interchangeable forms, each form a tuple of paths in the model's folder.
    alternatives: tuple[tuple[tuple[str, ...], ...], ...] = ()

    @property
    def required_files(self) -> tuple[ModelFile, ...]:
        """The files that must each be there (not optional, not one of several forms)."""
        grouped = {name for group in self.alternatives for form in group for name in form}
        return tuple(file for file in self.files
                     if not file.optional and not file.names & grouped)

    @property
    def size_bytes(self) -> int:
        return sum(file.size for file in self.files)

    @property
    def source(self) -> str:
        return self.url or f"{self.repo}@{self.revision}"


def catalog_path() -> Path:
    return Path(os.environ.get("PAINTNOISE_CATALOG") or BUILTIN_CATALOG)


def load_catalog(path: Path | None = None) -> dict[str, ModelSpec]:
    """Every known model by id, in catalogue order."""
    return dict(_read(str(path or catalog_path())))


@lru_cache(maxsize=4)
def _read(path: str) -> tuple[tuple[str, ModelSpec], ...]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        specs = tuple(_spec(entry) for entry in data["models"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ModelError(
            f"The model catalogue {path} could not be read. Reinstall PaintNoise or fix the file.",
            detail=f"{type(error).__name__}: {error}",
        ) from error
    return tuple((spec.id, spec) for spec in specs)


def _spec(entry: dict) -> ModelSpec:
    if entry["role"] not in ROLES:
        raise ValueError(f"{entry['id']}: unknown role {entry['role']!r}")
    if bool(entry.get("url")) == bool(entry.get("repo")):
        raise ValueError(f"{entry['id']}: give exactly one of url and repo")
    files = tuple(
        ModelFile(
            path=file["path"],
            local=file.get("local", file["path"]),
            size=int(file["size"]),
            sha256=file.get("sha256"),
            fallback=file.get("fallback"),
            optional=bool(file.get("optional", False)),
        )
        for file in entry["files"]
    )
    return ModelSpec(
        id=entry["id"],
        name=entry["name"],
        role=entry["role"],
        layout=entry["layout"],
        files=files,
        licence=entry["licence"],
        min_memory_gb=float(entry["min_memory_gb"]),
        resolution=int(entry["resolution"]),
        url=entry.get("url"),
        repo=entry.get("repo"),
        revision=entry.get("revision", "main"),
        alternatives=tuple(_group(entry["id"], group) for group in entry.get("alternatives", [])),
    )


def _group(model_id: str, group: list) -> tuple[tuple[str, ...], ...]:
    forms = tuple(tuple(str(name) for name in form) for form in group)
    if len(forms) < 2 or not all(forms):
        raise ValueError(f"{model_id}: each alternative needs two or more non-empty forms")
    return forms


def missing_files(spec: ModelSpec, folder: Path) -> list[str]:
    """What a model's folder lacks, one phrase per gap; [] when the model is whole."""
    problems = [f"{file.local} is missing" for file in spec.required_files
                if not any((folder / name).exists() for name in file.names)]
    for group in spec.alternatives:
        if not any(all((folder / name).exists() for name in form) for form in group):
            wanted = ", or ".join(" + ".join(form) for form in group)
            problems.append(f"needs {wanted}; none is there")
    return problems


def get_spec(model_id: str) -> ModelSpec:
    catalog = load_catalog()
    if model_id not in catalog:
        raise ModelError(
            f"There is no model called '{model_id}'. Known models: {', '.join(catalog)}.",
        )
    return catalog[model_id]


def known_spec(model_id: str) -> ModelSpec | None:
    return load_catalog().get(model_id)
