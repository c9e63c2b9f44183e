"""The bundled resources are found, and are what the README and the menu entry promise."""

from __future__ import annotations

import configparser

import pytest
from PIL import Image

from paintnoise_desktop.resources import RESOURCES_DIR, resource_path


def test_resource_path_finds_the_bundled_files():
    assert resource_path("sample.jpg") == RESOURCES_DIR / "sample.jpg"
    with Image.open(resource_path("icon.png")) as icon:
        assert icon.size == (256, 256)
    with Image.open(resource_path("sample.jpg")) as sample:
        assert sample.format == "JPEG" and sample.mode == "RGB"
    assert resource_path("sample.jpg").stat().st_size < 300_000


def test_a_missing_resource_names_the_folder():
    with pytest.raises(FileNotFoundError, match="resources"):
        resource_path("no-such-file.png")


def test_the_sample_photo_has_its_licence_stated():
    licence = resource_path("SAMPLE_LICENSE.md").read_text(encoding="utf-8")
    assert "CC0" in licence and "Rachel Michetti" in licence


def test_the_desktop_entry_opens_photos_with_paintnoise():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(RESOURCES_DIR.parent / "packaging" / "linux" / "paintnoise-desktop.desktop")
    desktop = entry["Desktop Entry"]
    assert desktop["Exec"] == "paintnoise %f"
    assert desktop["Icon"] == "paintnoise-desktop"
    assert set(desktop["MimeType"].strip(";").split(";")) == {
        "image/jpeg", "image/png", "image/webp", "image/tiff"}
