"""Project files: one `NAME.paintnoise` holding a whole editing session, with its undo history.

The file is a zip archive (format version 1):

- `manifest.json`: `format` ("paintnoise-project"), `version`, `saved_at` (ISO 8601, UTC),
  `photo` (`name`, `path` of the source photo or null, `width`, `height`, `format`, `sha256` of
  the original pixels' bytes (H x W x 3 uint8, row-major), `alpha`, `notes`), `project_path`
  (the project a recovery snapshot belongs to, or null), `index` (how many steps are applied),
  `forgotten` (older steps the history dropped over its memory budget) and `steps`: for every
  history step `name`, `layers` ("pixels", "mask" or "pixels+mask"), `box` ([x0, y0, x1, y1]),
  `patches` (the entry holding its patches), `recipe` (how a generated step was made, see
  core/recipe.py; null for brush strokes) and `earlier` (a step merged into it whose patches
  could not be joined, described the same way; or null).
- `original.png`: the pixels as opened (lossless RGB); `alpha.png`, `exif.bin` and `icc.icc`
  when the photo has them.
- `edits/NNNN.npz` (`edits/NNNN.K.npz` for merged earlier steps): the step's before/after patches
  of its box, as the arrays `rgb_before`, `rgb_after`, `mask_before`, `mask_after` (those present).
- `mask.png`: the current mask; `thumbnail.png`: the current pixels, at most 256 px.
- `base.png` and `base-mask.png`, only when `forgotten` > 0: the state before the first kept step.

Opening replays the applied steps' "after" patches over the original (or the base), so the
pixels, mask and history position come back exactly and every step can be undone and redone;
a mask that does not match `mask.png`, or original pixels that do not match their hash, make
the file damaged. Writing is atomic (core.imagefile.write_atomically). `ProjectWriter` keeps
each part it encoded, so writing the same session again (autosave) only encodes what is new.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .box import Box, slices
from .document import Document
from .errors import PaintNoiseError
from .history import Edit, History
from .imagefile import write_atomically
from .recipe import Recipe

SUFFIX = ".paintnoise"
FORMAT = "paintnoise-project"
VERSION = 1
THUMBNAIL_PX = 256
_PATCHES = ("rgb_before", "rgb_after", "mask_before", "mask_after")


class ProjectFileError(PaintNoiseError):
    """A project file could not be read (not one, damaged, or from a newer version)."""


@dataclass(frozen=True, eq=False)
class ProjectState:
    """What a project file holds, taken cheaply on the editing thread (see `state_of`).

    The original pixels and the history's patches are never written to in place, so they
    are shared, not copied. `current` (copies of the pixels and mask) is there only when the
    history forgot its oldest steps, so that the state before the first kept one can be made.
    """

    original: np.ndarray
    edits: tuple[Edit, ...]
    index: int
    forgotten: int = 0
    current: tuple[np.ndarray, np.ndarray] | None = None
    alpha: np.ndarray | None = None
    exif: bytes | None = None
    icc_profile: bytes | None = None
    format: str | None = None
    photo_path: Path | None = None
    notes: tuple[str, ...] = ()
    project_path: Path | None = None

    @property
    def name(self) -> str:
        return self.photo_path.name if self.photo_path else "untitled.png"


def state_of(document: Document, original: np.ndarray,
             copy: Callable[[np.ndarray], np.ndarray] = np.copy) -> ProjectState:
    """The session's state to write; `original` is the photo as opened (kept unedited)."""
    history = document.history
    current = (copy(document.rgb), copy(document.mask)) if history.forgotten else None
    return ProjectState(
        original, history.edits, history.index, history.forgotten, current, document.alpha,
        document.exif, document.icc_profile, document.format, document.path,
        tuple(document.notes), document.project_path)


@dataclass(frozen=True)
class ProjectSummary:
    """What a recovery offer shows of a project without reading its pixels."""

    name: str
    saved_at: datetime
    steps: int  # applied steps
    thumbnail: np.ndarray  # RGB, at most THUMBNAIL_PX a side
    photo_path: Path | None
    project_path: Path | None


class ProjectWriter:
    """Writes project files, encoding each original and each step's patches once."""

    def __init__(self) -> None:
        self._parts: dict[int, tuple[object, Any]] = {}  # id -> (the object, its encoding)

    def write(self, path: str | Path, state: ProjectState) -> None:
        """Write `state` to `path` atomically (raises ImageFileError on a file system error)."""
        parts: dict[str, bytes] = {}
        original_png, digest = self._encoded(
            state.original, lambda: (_png(state.original), _sha256(state.original)))
        parts["original.png"] = original_png
        if state.alpha is not None:
            parts["alpha.png"] = self._encoded(state.alpha, lambda: _png(state.alpha))
        if state.exif:
            parts["exif.bin"] = state.exif
        if state.icc_profile:
            parts["icc.icc"] = state.icc_profile
        steps = [self._step(edit, f"edits/{i:04d}", parts) for i, edit in enumerate(state.edits)]
        rgb, mask = _base(state)
        if state.forgotten:
            parts["base.png"], parts["base-mask.png"] = _png(rgb), _png(mask)
        _redo(rgb, mask, state.edits[:state.index])
        parts["mask.png"] = _png(mask)
        parts["thumbnail.png"] = _png(_thumbnail(rgb))
        height, width = state.original.shape[:2]
        manifest = {
            "format": FORMAT, "version": VERSION,
            "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "photo": {"name": state.name, "path": _text(state.photo_path), "width": width,
                      "height": height, "format": state.format, "sha256": digest,
                      "alpha": state.alpha is not None, "notes": list(state.notes)},
            "project_path": _text(state.project_path),
            "index": state.index, "forgotten": state.forgotten, "steps": steps,
        }
        self._forget_unused(state)

        def write(file) -> None:
            with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as archive:
                archive.writestr("manifest.json", json.dumps(manifest, indent=1),
                                 zipfile.ZIP_DEFLATED)
                for name, data in parts.items():  # PNG and NPZ are compressed already
                    archive.writestr(name, data)

        write_atomically(Path(path), write)

    def _step(self, edit: Edit, stem: str, parts: dict[str, bytes]) -> dict[str, Any]:
        name = f"{stem}.npz"
        parts[name] = self._encoded(edit, lambda: _npz(edit))
        layers = "+".join(layer for layer, patch in (("pixels", edit.rgb_after),
                                                      ("mask", edit.mask_after))
                          if patch is not None)
        return {
            "name": edit.name, "layers": layers, "box": list(edit.box), "patches": name,
            "recipe": edit.recipe.to_json() if edit.recipe is not None else None,
            "earlier": (self._step(edit.earlier, _earlier_stem(stem), parts)
                        if edit.earlier is not None else None),
        }

    def _encoded(self, obj: object, encode: Callable[[], Any]) -> Any:
        kept = self._parts.get(id(obj))
        if kept is None or kept[0] is not obj:
            kept = self._parts[id(obj)] = (obj, encode())
        return kept[1]

    def _forget_unused(self, state: ProjectState) -> None:
        used = {id(state.original), id(state.alpha)}
        for edit in state.edits:
            while edit is not None:
                used.add(id(edit))
                edit = edit.earlier
        for key in set(self._parts) - used:
            del self._parts[key]


def write_project(path: str | Path, state: ProjectState) -> None:
    ProjectWriter().write(path, state)


def read_project(path: str | Path) -> tuple[Document, np.ndarray]:
    """The session a project file holds, and its original pixels (for Compare).

    Raises ProjectFileError for a file that is not a project, is damaged or is newer.
    """
    path = Path(path)
    with _archive(path) as archive:
        manifest = _manifest(path, archive)
        try:
            photo = manifest["photo"]
            original = _image(archive, "original.png", 3)
            if _sha256(original) != photo["sha256"]:
                raise _damaged(path, "its photo does not match the hash it was saved with")
            alpha = _image(archive, "alpha.png", 1) if photo["alpha"] else None
            edits = [_edit(archive, step) for step in manifest["steps"]]
            index, forgotten = int(manifest["index"]), int(manifest["forgotten"])
            if forgotten:
                rgb, mask = _image(archive, "base.png", 3), _image(archive, "base-mask.png", 1)
            else:
                rgb, mask = original.copy(), np.zeros(original.shape[:2], np.uint8)
            _redo(rgb, mask, edits[:index])
            if not np.array_equal(mask, _image(archive, "mask.png", 1)):
                raise _damaged(path, "its steps do not give the mask it was saved with")
            exif = _optional(archive, "exif.bin")
            icc = _optional(archive, "icc.icc")
        except ProjectFileError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, zipfile.BadZipFile, OSError,
                EOFError) as error:
            raise _damaged(path, "a part of it is missing or unreadable", error) from error
    document = Document(
        rgb, alpha, path=Path(photo["path"]) if photo["path"] else None,
        format=photo["format"], exif=exif, icc_profile=icc, notes=tuple(photo["notes"]),
        history=History.restored(edits, index, forgotten))
    document.mask[:] = mask
    if manifest.get("project_path"):
        document.project_path = Path(manifest["project_path"])
    return document, original


def read_summary(path: str | Path) -> ProjectSummary:
    """The name, time, step count and thumbnail of a project, without its pixels."""
    path = Path(path)
    with _archive(path) as archive:
        manifest = _manifest(path, archive)
        try:
            return ProjectSummary(
                manifest["photo"]["name"], datetime.fromisoformat(manifest["saved_at"]),
                int(manifest["index"]), _image(archive, "thumbnail.png", 3),
                Path(manifest["photo"]["path"]) if manifest["photo"]["path"] else None,
                Path(manifest["project_path"]) if manifest["project_path"] else None)
        except (KeyError, TypeError, ValueError, zipfile.BadZipFile, OSError) as error:
            raise _damaged(path, "a part of it is missing or unreadable", error) from error


def read_recipes(path: str | Path) -> list[tuple[str, Recipe | None]]:
    """(name, recipe) of each applied step, in order, without reading any pixels."""
    path = Path(path)
    with _archive(path) as archive:
        manifest = _manifest(path, archive)
        try:
            steps = manifest["steps"][:int(manifest["index"])]
            return [(step["name"], Recipe.from_json(step["recipe"]) if step["recipe"] else None)
                    for step in steps]
        except (KeyError, TypeError, ValueError) as error:
            raise _damaged(path, "its list of steps is unreadable", error) from error


def _archive(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ProjectFileError(f"Cannot open {path.name}: the file does not exist.") from None
    except zipfile.BadZipFile as error:
        raise _damaged(path, "it is not a complete project file", error) from error
    except OSError as error:
        raise ProjectFileError(f"Cannot open {path.name}: {error.strerror or error}.",
                               repr(error)) from error


def _manifest(path: Path, archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.read("manifest.json"))
    except KeyError:
        raise ProjectFileError(f"Cannot open {path.name}: it is not a PaintNoise project.") \
            from None
    except (ValueError, zipfile.BadZipFile, OSError, EOFError) as error:
        raise _damaged(path, "its manifest is unreadable", error) from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ProjectFileError(f"Cannot open {path.name}: it is not a PaintNoise project.")
    if not isinstance(manifest.get("version"), int) or manifest["version"] > VERSION:
        raise ProjectFileError(f"Cannot open {path.name}: it was saved by a newer PaintNoise "
                               f"(format {manifest.get('version')}); update PaintNoise.")
    return manifest


def _damaged(path: Path, why: str, error: BaseException | None = None) -> ProjectFileError:
    return ProjectFileError(f"Cannot open {path.name}: the project file is damaged ({why}).",
                            repr(error) if error is not None else "")


def _edit(archive: zipfile.ZipFile, step: dict[str, Any]) -> Edit:
    with np.load(io.BytesIO(archive.read(step["patches"])), allow_pickle=False) as patches:
        arrays = {name: _frozen(patches[name]) if name in patches.files else None
                  for name in _PATCHES}
    box: Box = tuple(int(v) for v in step["box"])  # type: ignore[assignment]
    return Edit(
        str(step["name"]), box, **arrays,
        earlier=_edit(archive, step["earlier"]) if step["earlier"] else None,
        recipe=Recipe.from_json(step["recipe"]) if step["recipe"] else None)


def _base(state: ProjectState) -> tuple[np.ndarray, np.ndarray]:
    """Copies of the pixels and mask before the first kept step."""
    if state.current is None:
        return state.original.copy(), np.zeros(state.original.shape[:2], np.uint8)
    rgb, mask = state.current[0].copy(), state.current[1].copy()
    for edit in reversed(state.edits[:state.index]):
        for box, rgb_patch, mask_patch in edit.undo_patches():
            _write(rgb, mask, box, rgb_patch, mask_patch)
    return rgb, mask


def _redo(rgb: np.ndarray, mask: np.ndarray, edits: tuple[Edit, ...] | list[Edit]) -> None:
    for edit in edits:
        for box, rgb_patch, mask_patch in edit.redo_patches():
            _write(rgb, mask, box, rgb_patch, mask_patch)


def _write(rgb: np.ndarray, mask: np.ndarray, box: Box, rgb_patch: np.ndarray | None,
           mask_patch: np.ndarray | None) -> None:
    if rgb_patch is not None:
        rgb[slices(box)] = rgb_patch
    if mask_patch is not None:
        mask[slices(box)] = mask_patch


def _earlier_stem(stem: str) -> str:
    head, _, depth = stem.partition(".")
    return f"{head}.{int(depth or 0) + 1}"


def _npz(edit: Edit) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{name: getattr(edit, name) for name in _PATCHES
                                   if getattr(edit, name) is not None})
    return buffer.getvalue()


def _png(image: np.ndarray) -> bytes:
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise ValueError("the image could not be encoded as PNG")
    return encoded.tobytes()


def _image(archive: zipfile.ZipFile, name: str, channels: int) -> np.ndarray:
    data = np.frombuffer(archive.read(name), np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR if channels == 3 else cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ValueError(f"{name} is not a PNG image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if channels == 3 else image


def _optional(archive: zipfile.ZipFile, name: str) -> bytes | None:
    return archive.read(name) if name in archive.namelist() else None


def _thumbnail(rgb: np.ndarray) -> np.ndarray:
    height, width = rgb.shape[:2]
    scale = THUMBNAIL_PX / max(height, width)
    if scale >= 1:
        return rgb
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _sha256(pixels: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(pixels).data).hexdigest()


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array


def _text(path: Path | None) -> str | None:
    return str(path) if path is not None else None
