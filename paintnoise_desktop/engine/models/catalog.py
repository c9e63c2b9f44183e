"""The known models, read from `catalog.json` into frozen records.

The catalogue is data: adding a model or pinning a new revision is an edit to
the JSON file, not to code. A model's `alternatives` name files that can be
saved in more than one form (a tokenizer as tokenizer.json, or as vocab.json +
merges.txt): one complete form is enough for the model to count as whole.

Each entry says where its facts come from (`source_note`) and whether the hub
asks for a licence to be accepted first (`access`, `licence_url`). The
catalogue PaintNoise ships pins every hub model to a commit; another file
named by `PAINTNOISE_CATALOG` (tests send downloads to a local server with
one) may name a branch instead.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from ...core.errors import ModelError

Layout = Literal["sam-checkpoint", "transformers", "diffusers", "state-dict"]
Access = Literal["open", "gated"]
ROLES = ("proposals", "image-text scoring", "text-to-mask", "inpainting", "semantic segmentation",
         "removal guidance", "perceptual distance", "removal")
BUILTIN_CATALOG = Path(__file__).with_name("catalog.json")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class ModelFile:
    """One file of a model: where it comes from and where it goes in the model's folder."""

    path: str  # the file's name in the source (a hub repo path, or the URL's file name)
    local: str  # where it is written inside `<models folder>/<model id>/`
    size: int  # bytes as published; the entry's source_note says which sizes are approximate
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
    source_note: str = ""  # where the facts above come from
    access: Access = "open"  # "gated": the hub serves the files only once the licence is accepted
    licence_url: str | None = None  # where the licence is read (and accepted, when gated)

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
    pinned = Path(path).resolve() == BUILTIN_CATALOG.resolve()
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        specs = tuple(_spec(entry, pinned) for entry in data["models"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        reason = f" ({error})" if type(error) is ValueError else ""
        raise ModelError(
            f"The model catalogue {path} could not be read{reason}. "
            "Reinstall PaintNoise or fix the file.",
            detail=f"{type(error).__name__}: {error}",
        ) from error
    return tuple((spec.id, spec) for spec in specs)


def _spec(entry: dict, pinned: bool) -> ModelSpec:
    """One catalogue entry, checked; `pinned` asks for what the shipped catalogue promises."""
    model_id = entry["id"]
    if entry["role"] not in ROLES:
        raise ValueError(f"{model_id}: unknown role {entry['role']!r}")
    if bool(entry.get("url")) == bool(entry.get("repo")):
        raise ValueError(f"{model_id}: give exactly one of url and repo")
    if pinned and entry.get("repo") and not _COMMIT.fullmatch(str(entry.get("revision", ""))):
        raise ValueError(f"{model_id}: revision {entry.get('revision')!r} is not a 40-hex commit")
    if pinned and not entry.get("source_note"):
        raise ValueError(f"{model_id}: no source_note says where its facts come from")
    access = entry.get("access", "open")
    if access not in ("open", "gated"):
        raise ValueError(f"{model_id}: access must be open or gated, not {access!r}")
    if access == "gated" and not entry.get("licence_url"):
        raise ValueError(f"{model_id}: a gated model needs the licence_url where it is accepted")
    files = tuple(_file(model_id, file) for file in entry["files"])
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
        alternatives=tuple(_group(model_id, group) for group in entry.get("alternatives", [])),
        source_note=entry.get("source_note", ""),
        access=access,
        licence_url=entry.get("licence_url"),
    )


def _file(model_id: str, file: dict) -> ModelFile:
    sha256 = file.get("sha256")
    if sha256 is not None and not _SHA256.fullmatch(str(sha256)):
        raise ValueError(f"{model_id}: the sha256 of {file['path']} is not 64 hex digits")
    return ModelFile(
        path=file["path"],
        local=file.get("local", file["path"]),
        size=int(file["size"]),
        sha256=sha256,
        fallback=file.get("fallback"),
        optional=bool(file.get("optional", False)),
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
