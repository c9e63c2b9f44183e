"""Fixtures the engine tests share."""

from __future__ import annotations

import pytest

from paintnoise_desktop.engine.settings import EngineSettings


@pytest.fixture
def settings(tmp_path) -> EngineSettings:
    """Engine settings with a models folder of the test's own."""
    return EngineSettings(models_dir=tmp_path / "models")
