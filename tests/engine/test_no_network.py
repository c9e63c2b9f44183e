"""A download on a machine without a network fails within seconds and names the offline ways in.

The hub endpoint is pointed at a name that cannot resolve (`.invalid` is reserved for
that) and at a closed loopback port, the two answers a machine without a network gives
at once. The download runs as the user's download job does (`download_model` with the
default retry policy); the time is the download's own, not the engine's first torch import.
"""

from __future__ import annotations

import socket
import time

import pytest

from paintnoise_desktop.core.errors import ModelError
from paintnoise_desktop.core.jobs import CancelToken
from paintnoise_desktop.engine.models.model_jobs import download_model
from paintnoise_desktop.engine.models.registry import install_status
from paintnoise_desktop.engine.settings import EngineSettings

MODEL = "clip-vit-base-patch32"  # a hub model of the built-in catalogue


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(("endpoint", "reason"), [
    ("http://no-such-host.invalid", "its name could not be looked up"),
    ("closed port", "the connection was refused"),
])
def test_a_download_without_a_network_fails_at_once_with_the_offline_ways_in(
        tmp_path, monkeypatch, endpoint, reason):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    if endpoint == "closed port":
        endpoint = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    settings = EngineSettings(models_dir=tmp_path / "models")
    steps = []

    started = time.monotonic()
    with pytest.raises(ModelError) as raised:
        download_model(MODEL, settings, lambda *step: steps.append(step), CancelToken())
    elapsed = time.monotonic() - started

    assert elapsed < 10.0, f"took {elapsed:.1f} s"
    assert steps == [(0.0, "Downloading CLIP ViT-B/32")]
    message = str(raised.value)
    host = endpoint.split("//")[1]
    assert message.startswith(f"PaintNoise could not reach the Hugging Face hub ({host}): "
                              f"{reason}, so CLIP ViT-B/32 was not downloaded.")
    assert f"copy its files into {tmp_path / 'models' / MODEL}" in message
    assert f"`paintnoise models path {MODEL}`" in message
    assert f"`paintnoise models add {MODEL} PATH`" in message
    assert "resum" not in message.lower()
    assert install_status(MODEL, settings) == "not installed"
    assert not (tmp_path / "models" / MODEL).exists()
