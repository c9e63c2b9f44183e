"""The shipped catalogue's pinned facts, and how a malformed catalogue is refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from paintnoise_desktop.core.errors import ModelError
from paintnoise_desktop.engine.models import catalog
from paintnoise_desktop.engine.models.catalog import BUILTIN_CATALOG, catalog_path, load_catalog
from tests.model_server import hub_model, url_model, write_catalog

WEIGHTS = (".pth", ".bin", ".safetensors")


@pytest.fixture
def shipped(monkeypatch):
    monkeypatch.delenv("PAINTNOISE_CATALOG", raising=False)
    return load_catalog()


def test_the_packaged_catalogue_is_the_one_loaded(shipped):
    assert catalog_path() == BUILTIN_CATALOG
    assert shipped == load_catalog(BUILTIN_CATALOG)
    package = Path(catalog.__file__).parents[2]
    pyproject = (package.parent / "pyproject.toml").read_text(encoding="utf-8")
    packaged = re.search(r"\[tool\.setuptools\.package-data\]\s*paintnoise_desktop = \[(.*?)\]",
                         pyproject, re.DOTALL)
    assert f'"{BUILTIN_CATALOG.relative_to(package).as_posix()}"' in packaged.group(1)


def test_every_hub_model_is_pinned_to_a_commit(shipped):
    hub = [spec for spec in shipped.values() if spec.repo]
    assert {"clip-vit-large-patch14", "sd2-inpainting", "sam3"} <= {spec.id for spec in hub}
    for spec in hub:
        assert re.fullmatch(r"[0-9a-f]{40}", spec.revision), spec.id
        assert spec.source == f"{spec.repo}@{spec.revision}"


def test_the_inpainters_come_from_the_mirrors_that_hold_them_today(shipped):
    sd2, sd15 = shipped["sd2-inpainting"], shipped["sd15-inpainting"]
    assert (sd2.repo, sd2.revision) == ("sd2-community/stable-diffusion-2-inpainting",
                                        "5f74973cbb64c8568780732c17f43eb269d63a0d")
    assert (sd15.repo, sd15.revision) == ("stable-diffusion-v1-5/stable-diffusion-inpainting",
                                          "8a4288a76071f7280aedbdb3253bdb9e9d5d84bb")
    for spec in (sd2, sd15):
        variants = [file for file in spec.files if ".fp16." in file.path]
        assert len(variants) == 3 and all(".fp16." not in file.local for file in variants)


def test_every_weights_file_has_its_published_sha256_and_small_files_none(shipped):
    for spec in shipped.values():
        for file in spec.files:
            if file.path.endswith(WEIGHTS) and file.sha256 is None:
                # no public source gave it: the note must say so rather than leave it unsaid
                assert "no sha256" in spec.source_note.lower(), (spec.id, file.path)
            elif file.path.endswith(WEIGHTS):
                assert re.fullmatch(r"[0-9a-f]{64}", file.sha256), (spec.id, file.path)
            else:
                assert file.sha256 is None, (spec.id, file.path)
        assert "sha256" in spec.source_note, spec.id


def test_every_segment_anything_checkpoint_has_its_sha256(shipped):
    sams = {spec.id: spec.files[0] for spec in shipped.values() if spec.layout == "sam-checkpoint"}
    assert sorted(sams) == ["sam-vit-b", "sam-vit-h", "sam-vit-l"]
    assert sams["sam-vit-h"].sha256.startswith("a7bf3b02")
    assert sams["sam-vit-l"].sha256.startswith("3adcc431")
    assert sams["sam-vit-b"].sha256.startswith("ec2df627")
    for model_id, file in sams.items():
        assert shipped[model_id].url.endswith("/" + file.path)


def test_every_entry_names_its_sources_its_licence_and_its_access(shipped):
    for spec in shipped.values():
        assert "https://" in spec.source_note, spec.id
        assert spec.licence and spec.licence_url.startswith("https://"), spec.id
        assert spec.access in ("open", "gated")
    assert {spec.id for spec in shipped.values() if spec.access == "gated"} == {"sam3"}
    assert shipped["sd2-inpainting"].licence.startswith("openrail++")
    assert shipped["sd15-inpainting"].licence.startswith("creativeml-openrail-m")
    assert shipped["segformer-b5-ade"].licence.startswith("other")


def test_clip_b32_downloads_the_pytorch_bin_its_commit_holds(shipped):
    spec = shipped["clip-vit-base-patch32"]
    names = {file.path for file in spec.files}
    assert "pytorch_model.bin" in names and "model.safetensors" not in names
    assert (("model.safetensors",), ("pytorch_model.bin",)) in spec.alternatives
    assert "model.safetensors" in {file.path for file in shipped["clip-vit-large-patch14"].files}


def _malformed(tmp_path, monkeypatch, entry: dict) -> str:
    monkeypatch.setenv("PAINTNOISE_CATALOG", str(write_catalog(tmp_path / "bad.json", [entry])))
    with pytest.raises(ModelError) as raised:
        load_catalog()
    return str(raised.value)


def test_a_malformed_checksum_or_gating_is_refused_in_one_sentence(tmp_path, monkeypatch):
    entry = url_model("tiny-sam", "http://127.0.0.1/sam.pth", b"x", sha256="abc123")
    message = _malformed(tmp_path, monkeypatch, entry)
    assert message.startswith(f"The model catalogue {tmp_path / 'bad.json'} could not be read")
    assert "the sha256 of sam.pth is not 64 hex digits" in message
    assert message.endswith("Reinstall PaintNoise or fix the file.")

    gated = dict(hub_model("tiny-clip", "org/tiny", "main", [{"path": "a", "size": 1}]),
                 access="gated")
    assert "needs the licence_url" in _malformed(tmp_path, monkeypatch, gated)


def test_only_the_shipped_catalogue_must_pin_commits(tmp_path, monkeypatch):
    entry = hub_model("tiny-clip", "org/tiny", "main", [{"path": "config.json", "size": 2}])
    other = write_catalog(tmp_path / "local.json", [entry])
    assert load_catalog(other)["tiny-clip"].revision == "main"

    shipped = write_catalog(tmp_path / "catalog.json", [dict(entry, source_note="https://x")])
    monkeypatch.setattr(catalog, "BUILTIN_CATALOG", shipped)
    with pytest.raises(ModelError, match="revision 'main' is not a 40-hex commit"):
        load_catalog(shipped)
