"""Offline mode: a download is refused at once, without touching the network."""

from __future__ import annotations

import socket

import pytest

from paintnoise_desktop.core.errors import ModelError
from paintnoise_desktop.core.jobs import CancelToken, DownloadJob, Status
from paintnoise_desktop.engine.models.model_jobs import download_model
from paintnoise_desktop.engine.runner import Engine
from paintnoise_desktop.engine.settings import EngineSettings


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        pytest.fail("a socket was opened in offline mode")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_the_offline_setting_refuses_a_download(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    settings = EngineSettings(models_dir=tmp_path / "models", offline=True)

    with pytest.raises(ModelError) as raised:
        download_model("sd2-inpainting", settings, lambda *a, **k: None, CancelToken())

    message = str(raised.value)
    assert message.startswith("Offline mode is on (Edit > Settings… > Never use the network): "
                              "PaintNoise will not use the network.")
    assert f"copy its files into {tmp_path / 'models' / 'sd2-inpainting'}" in message
    assert "`paintnoise models add sd2-inpainting PATH`" in message
    assert not (tmp_path / "models").exists()


def test_hf_hub_offline_refuses_even_when_the_setting_is_off(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = EngineSettings(models_dir=tmp_path / "models", offline=False)

    with pytest.raises(ModelError) as raised:
        download_model("sam-vit-b", settings, lambda *a, **k: None, CancelToken())

    message = str(raised.value)
    assert message.startswith("Offline mode is on (HF_HUB_OFFLINE=1 is set in the environment)")
    assert "unset HF_HUB_OFFLINE" in message and "Settings" not in message


def test_an_offline_download_job_fails_with_the_message(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    engine = Engine(EngineSettings(models_dir=tmp_path / "models", offline=True))

    result = engine.run(DownloadJob(7, "clip-vit-base-patch32"), lambda progress: None, CancelToken())

    assert result.status is Status.FAILED
    assert "Offline mode is on" in result.message

