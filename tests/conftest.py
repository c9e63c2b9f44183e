"""Test-wide setup: no screen, no network, no user folders, tiny models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"


@pytest.fixture(autouse=True)
def _isolated_user_folders(tmp_path_factory, monkeypatch):
    """Keep every test away from the real models folder and settings."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("PAINTNOISE_MODELS_DIR", str(home / "models"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("HF_HOME", str(home / "hf"))


@pytest.fixture(scope="session")
def tiny_models_dir(tmp_path_factory) -> Path:
    """A models folder holding tiny random-weight models in their real on-disk formats."""
    from tests.tinymodels import build_all

    root = tmp_path_factory.mktemp("tiny-models")
    build_all(root)
    return root


@pytest.fixture(scope="session")
def guided_models_dir(tiny_models_dir: Path, tmp_path_factory) -> Path:
    """The tiny models plus LPIPS's AlexNet, which CLIP-guided replacement needs (kept apart:
    244 MB that no other test should find installed)."""
    from tests.tinymodels.lpips import build_lpips_backbone

    root = tmp_path_factory.mktemp("guided-models")
    for model in tiny_models_dir.iterdir():
        (root / model.name).symlink_to(model, target_is_directory=model.is_dir())
    build_lpips_backbone(root / "lpips-alexnet")
    return root


@pytest.fixture
def models_env(tiny_models_dir: Path, monkeypatch) -> Path:
    """Point the app's models folder at the tiny models."""
    monkeypatch.setenv("PAINTNOISE_MODELS_DIR", str(tiny_models_dir))
    return tiny_models_dir
