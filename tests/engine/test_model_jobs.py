"""Loading a model as a job: real tiny models through the real loaders, kept warm in the store."""

from __future__ import annotations

from paintnoise_desktop.core.jobs import CancelToken, LoadModelJob, Status
from paintnoise_desktop.engine.download import Transfer
from paintnoise_desktop.engine.engine import Engine
from paintnoise_desktop.engine.model_jobs import transfer_message


def run_load(engine: Engine, model_id: str):
    progress = []
    result = engine.run(LoadModelJob(1, model_id), progress.append, CancelToken())
    return result, progress


def test_loading_keeps_the_model_warm_and_reports_memory(models_env):
    engine = Engine()

    result, progress = run_load(engine, "sam-vit-b")

    assert result.status is Status.FINISHED, result.message
    assert [p.fraction for p in progress] == [0.0, 1.0]
    assert progress[-1].message.endswith("is ready. CPU")
    assert any(key.startswith("sam-vit-b@") for key in engine.models.loaded())
    for model_id in ("clip-vit-base-patch32", "sd2-inpainting"):
        result, _ = run_load(engine, model_id)
        assert result.status is Status.FINISHED, result.message
        assert any(key.startswith(f"{model_id}@") for key in engine.models.loaded())
    engine.models.unload()
    assert engine.models.loaded() == []


def test_loading_a_missing_model_names_it_for_the_download_offer(tmp_path, monkeypatch):
    monkeypatch.setenv("PAINTNOISE_MODELS_DIR", str(tmp_path / "empty"))

    result, _ = run_load(Engine(), "sd2-inpainting")

    assert result.status is Status.FAILED
    assert result.missing_model == "sd2-inpainting"
    assert "paintnoise models download sd2-inpainting" in result.message


def test_transfer_messages_read_like_a_download_dialog():
    assert transfer_message(Transfer(12_300_000, 2_400_000_000, 25_000_000)) == \
        "12.3 / 2400 MB at 25 MB/s"
    assert transfer_message(Transfer(1_000_000, None, 0.0)) == "1.0 / ? MB at 0 MB/s"
