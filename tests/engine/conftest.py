"""Fixtures the engine tests share."""

from __future__ import annotations

import pytest

from paintnoise_desktop.core.jobs import CancelToken, Progress, Result
from paintnoise_desktop.engine.settings import EngineSettings


@pytest.fixture
def settings(tmp_path) -> EngineSettings:
    """Engine settings with a models folder of the test's own."""
    return EngineSettings(models_dir=tmp_path / "models")


def run_cancelled_after_first_step(engine, job) -> tuple[Result, list[Progress]]:
    """Run `job` through `engine`, pressing Cancel once its first sampling step is reported."""
    cancel = CancelToken()
    progress: list[Progress] = []

    def report(update: Progress) -> None:
        progress.append(update)
        if update.message.startswith("Painting 1/"):
            cancel.cancel()

    return engine.run(job, report, cancel), progress
