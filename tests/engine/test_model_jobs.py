"""Loading a model as a job: real tiny models through the real loaders, kept warm in the store."""

from __future__ import annotations

from paintnoise_desktop.core.jobs import CancelToken, DownloadJob, LoadModelJob, Status
from paintnoise_desktop.engine.models.download import Transfer
from paintnoise_desktop.engine.models.model_jobs import transfer_message
from paintnoise_desktop.engine.runner import Engine
from tests.model_server import ModelServer, write_catalog


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
    assert result.missing_models == ("sd2-inpainting",)
    assert "paintnoise models download sd2-inpainting" in result.message


def test_transfer_messages_read_like_a_download_dialog():
    assert transfer_message(Transfer(12_300_000, 2_400_000_000, 25_000_000)) == \
        "12.3 / 2400 MB at 25 MB/s"
    assert transfer_message(Transfer(1_000_000, None, 0.0)) == "1.0 / ? MB at 0 MB/s"


def test_a_model_downloaded_in_the_hubs_fp16_names_loads_through_the_real_loader(
        tiny_models_dir, tmp_path, monkeypatch):
    """The hub names SD weights `*.fp16.safetensors`; the download lays them out as
    save_pretrained does, which is what the inpainting loader reads."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("PAINTNOISE_MODELS_DIR", str(tmp_path / "models"))
    source = tiny_models_dir / "sd2-inpainting"
    server = ModelServer(tmp_path / "served").start()
    try:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        files = []
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            local = path.relative_to(source).as_posix()
            remote = local.replace(".safetensors", ".fp16.safetensors")
            server.add(f"/org/tiny-sd/resolve/0a1b2c/{remote}", path.read_bytes())
            files.append({"path": remote, "local": local, "size": path.stat().st_size})
        catalog = write_catalog(tmp_path / "catalog.json", [{
            "id": "sd2-inpainting", "name": "Tiny inpainting", "role": "inpainting",
            "layout": "diffusers", "repo": "org/tiny-sd", "revision": "0a1b2c", "files": files,
            "licence": "test", "min_memory_gb": 0.1, "resolution": 64}])
        monkeypatch.setenv("PAINTNOISE_CATALOG", str(catalog))
        engine = Engine()

        downloaded = engine.run(DownloadJob(1, "sd2-inpainting"), lambda p: None, CancelToken())
        assert downloaded.status is Status.FINISHED, downloaded.message
        result, _ = run_load(engine, "sd2-inpainting")
    finally:
        server.stop()

    assert result.status is Status.FINISHED, result.message
    assert any(key.startswith("sd2-inpainting@") for key in engine.models.loaded())
