"""Project files: a session saved and reopened comes back step for step, recipes included."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from paintnoise_desktop.core.document import Document
from paintnoise_desktop.core.history import History
from paintnoise_desktop.core.jobs import MaskSettings
from paintnoise_desktop.core.project import (
    ProjectFileError,
    ProjectWriter,
    read_project,
    read_recipes,
    read_summary,
    state_of,
    write_project,
)
from paintnoise_desktop.core.recipe import Recipe

FIND = Recipe("find", find_text="red square, not sky", method="segclip", mode="all",
              mask_settings=MaskSettings(grow_fraction=0.1, feather_px=3))
REPLACE = Recipe("replace", find_text="red square", prompt="a blue van",
                 negative_prompt="blurry", inpainter="sd2-inpainting",
                 model_files=(("unet/diffusion_pytorch_model.safetensors", "ab" * 32),),
                 seed=1234, steps=20, guidance=6.5, strength=0.9, crop_box=(8, 4, 40, 30))


def _photo(width: int = 64, height: int = 48, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), np.uint8)


def _edited(history: History | None = None) -> tuple[Document, np.ndarray]:
    """A document with a brushed mask, a found mask, a replace and a merged step."""
    document = Document(_photo(), np.full((48, 64), 200, np.uint8), format="PNG",
                        exif=b"Exif\0\0fake", icc_profile=b"icc", history=history)
    document.path = Path("/photos/street.jpg")
    original = document.rgb.copy()
    rng = np.random.default_rng(1)
    before = document.mask[5:15, 5:25].copy()
    document.mask[5:15, 5:25] = 255
    document.record_stroke("Brush", (5, 5, 25, 15), before)
    found = np.zeros((48, 64), np.uint8)
    found[10:30, 20:50] = 255
    document.set_mask("Find: red square", found, recipe=FIND)
    document.apply("Replace red square with: a blue van", (8, 4, 40, 30),
                   rgb=rng.integers(0, 256, (26, 32, 3), np.uint8), recipe=REPLACE)
    document.apply("Variant", (30, 20, 60, 40), rgb=rng.integers(0, 256, (20, 30, 3), np.uint8),
                   merge_key="variants", recipe=REPLACE)
    document.apply("Variant 2", (0, 0, 10, 10), rgb=rng.integers(0, 256, (10, 10, 3), np.uint8),
                   merge_key="variants", recipe=REPLACE)  # boxes that do not nest: `earlier`
    return document, original


def _state(document: Document) -> tuple:
    return (document.rgb.tobytes(), document.mask.tobytes(), document.history.index,
            document.history.names)


def test_round_trip_gives_back_pixels_mask_history_and_undo_to_the_original(tmp_path):
    document, original = _edited()
    assert document.history.top.earlier is not None  # the merged step is in the file too
    path = tmp_path / "street.paintnoise"
    write_project(path, state_of(document, original))

    opened, opened_original = read_project(path)
    assert _state(opened) == _state(document)
    assert np.array_equal(opened_original, original)
    assert np.array_equal(opened.alpha, document.alpha)
    assert (opened.exif, opened.icc_profile, opened.format) == (b"Exif\0\0fake", b"icc", "PNG")
    assert opened.path == Path("/photos/street.jpg")
    while opened.history.can_undo:
        opened.undo()
    assert opened.rgb.tobytes() == original.tobytes()
    assert not opened.mask.any()
    while opened.history.can_redo:
        opened.redo()
    assert _state(opened) == _state(document)


def test_position_mid_history_and_the_redo_tail_are_kept(tmp_path):
    document, original = _edited()
    document.undo()
    document.undo()
    path = tmp_path / "mid.paintnoise"
    write_project(path, state_of(document, original))
    opened, _ = read_project(path)
    assert opened.history.index == 2 and len(opened.history.names) == 4
    assert _state(opened) == _state(document)
    assert not opened.is_dirty  # two mask steps over the photo as opened
    opened.redo()
    document.redo()
    assert _state(opened) == _state(document)
    assert opened.is_dirty


def test_recipes_come_back_with_every_field(tmp_path):
    document, original = _edited()
    path = tmp_path / "recipes.paintnoise"
    write_project(path, state_of(document, original))
    opened, _ = read_project(path)
    assert [edit.recipe for edit in opened.history.edits] == [None, FIND, REPLACE, REPLACE]
    assert read_recipes(path) == [("Brush", None), ("Find: red square", FIND),
                                  ("Replace red square with: a blue van", REPLACE),
                                  ("Variant 2", REPLACE)]


def test_forgotten_steps_keep_the_state_before_the_first_kept_one(tmp_path):
    document, original = _edited(History(budget_bytes=6000))
    assert document.history.forgotten > 0
    path = tmp_path / "forgot.paintnoise"
    write_project(path, state_of(document, original))
    opened, _ = read_project(path)
    assert _state(opened) == _state(document)
    while opened.history.can_undo:
        opened.undo()
        document.undo()
    assert _state(opened) == _state(document)
    assert opened.is_dirty  # the state it starts from is not the photo as opened


def test_summary_and_manifest(tmp_path):
    document, original = _edited()
    path = tmp_path / "s.paintnoise"
    write_project(path, state_of(document, original))
    summary = read_summary(path)
    assert (summary.name, summary.steps) == ("street.jpg", 4)
    assert summary.thumbnail.shape == (48, 64, 3)
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert {"original.png", "mask.png", "edits/0003.npz", "edits/0003.1.npz"} <= set(
            archive.namelist())
    assert manifest["version"] == 1 and manifest["index"] == 4
    assert manifest["steps"][1]["layers"] == "mask" and manifest["steps"][2]["layers"] == "pixels"


def test_a_writer_encodes_each_step_once(tmp_path, monkeypatch):
    document, original = _edited()
    writer = ProjectWriter()
    writer.write(tmp_path / "a.paintnoise", state_of(document, original))
    from paintnoise_desktop.core import project

    encoded = []
    monkeypatch.setattr(project, "_npz", lambda edit: encoded.append(edit) or b"x")
    document.apply("More", (0, 0, 4, 4), rgb=np.zeros((4, 4, 3), np.uint8))
    writer.write(tmp_path / "a.paintnoise", state_of(document, original))
    assert encoded == [document.history.top]


@pytest.mark.parametrize("damage", ["truncate", "mask", "hash", "not-zip", "other-zip"])
def test_damaged_files_are_one_sentence(tmp_path, damage):
    document, original = _edited()
    path = tmp_path / "d.paintnoise"
    write_project(path, state_of(document, original))
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage in ("mask", "hash"):
        with zipfile.ZipFile(path) as archive:
            entries = {name: archive.read(name) for name in archive.namelist()}
        manifest = json.loads(entries["manifest.json"])
        if damage == "mask":
            manifest["index"] = 1
        else:
            manifest["photo"]["sha256"] = "0" * 64
        entries["manifest.json"] = json.dumps(manifest).encode()
        with zipfile.ZipFile(path, "w") as archive:
            for name, entry in entries.items():
                archive.writestr(name, entry)
    elif damage == "not-zip":
        path.write_bytes(b"hello")
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("a.txt", "x")
    with pytest.raises(ProjectFileError) as raised:
        read_project(path)
    assert str(raised.value).startswith("Cannot open d.paintnoise: ")
    assert "\n" not in str(raised.value)


def test_an_unsaved_mask_is_saved_work_once_in_a_project(tmp_path):
    document = Document(_photo())
    document.mask[:4, :4] = 255
    document.record_stroke("Brush", (0, 0, 4, 4), np.zeros((4, 4), np.uint8))
    assert document.has_unsaved_work
    revision = document.history.revision
    assert document.mark_project_saved(tmp_path / "p.paintnoise", revision)
    assert not document.has_unsaved_work
    document.undo()
    assert not document.has_unsaved_work  # nothing brushed any more
    document.redo()
    assert document.has_unsaved_work
    assert not document.mark_project_saved(tmp_path / "p.paintnoise", revision)
