"""Downloads against a loopback server: progress, cancel and resume, checksums, disk space, stalls."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import namedtuple

import pytest

from paintnoise_desktop.core.errors import JobCancelled, ModelError
from paintnoise_desktop.core.jobs import CancelToken
from paintnoise_desktop.engine.models import download
from paintnoise_desktop.engine.models.catalog import get_spec
from paintnoise_desktop.engine.models.download import DownloadPolicy, install_model
from paintnoise_desktop.engine.models.registry import INCOMPLETE_MARKER, MANIFEST, find_model
from tests.model_server import ModelServer, checkpoint_bytes, hub_model, url_model, write_catalog

FAST = DownloadPolicy(stall_timeout=5.0, retries=2, backoff=0.01)


@pytest.fixture
def server(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    served = ModelServer(tmp_path / "served").start()
    monkeypatch.setenv("HF_ENDPOINT", served.url)
    yield served
    served.stop()


@pytest.fixture
def payload(tmp_path) -> bytes:
    data = checkpoint_bytes(tmp_path)
    assert len(data) > 4 * download.CHUNK_BYTES
    return data


def use_catalog(tmp_path, monkeypatch, *models: dict) -> None:
    path = write_catalog(tmp_path / f"catalog-{len(list(tmp_path.glob('catalog-*')))}.json",
                         list(models))
    monkeypatch.setenv("PAINTNOISE_CATALOG", str(path))


def test_a_download_reports_growing_progress_and_installs_the_file(
        server, settings, payload, tmp_path, monkeypatch):
    server.add("/files/tiny_sam.pth", payload)
    digest = hashlib.sha256(payload).hexdigest()
    use_catalog(tmp_path, monkeypatch, url_model("sam-vit-b", f"{server.url}/files/tiny_sam.pth",
                                                 payload, digest))
    monkeypatch.setattr(download, "REPORT_INTERVAL_S", 0.0)
    seen = []

    folder = install_model(get_spec("sam-vit-b"), settings, seen.append, CancelToken(), FAST)

    assert (folder / "tiny_sam.pth").read_bytes() == payload
    done = [transfer.done for transfer in seen]
    assert len(done) >= 4 and done == sorted(done) and done[-1] == len(payload)
    assert all(transfer.total == len(payload) for transfer in seen)
    assert not (folder / INCOMPLETE_MARKER).exists()
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["files"] == [{"path": "tiny_sam.pth", "size": len(payload), "sha256": digest}]
    assert find_model("sam-vit-b", settings) == folder


def test_cancel_leaves_a_part_file_and_the_next_download_resumes_it(
        server, settings, payload, tmp_path, monkeypatch):
    server.add("/files/tiny_sam.pth", payload)
    use_catalog(tmp_path, monkeypatch, url_model("sam-vit-b", f"{server.url}/files/tiny_sam.pth",
                                                 payload))
    spec = get_spec("sam-vit-b")
    cancel = CancelToken()

    def cancel_after_first_chunk(transfer) -> None:
        if transfer.done > 0:
            cancel.cancel()

    with pytest.raises(JobCancelled):
        install_model(spec, settings, cancel_after_first_chunk, cancel, FAST)
    folder = settings.models_dir / "sam-vit-b"
    part = folder / "tiny_sam.pth.part"
    assert 0 < part.stat().st_size < len(payload)
    assert not (folder / "tiny_sam.pth").exists()
    assert find_model("sam-vit-b", settings) is None  # half a download is not an installed model
    kept = part.stat().st_size

    install_model(spec, settings, lambda transfer: None, CancelToken(), FAST)

    assert (folder / "tiny_sam.pth").read_bytes() == payload
    assert server.requests[-1].range == f"bytes={kept}-"
    assert not part.exists()


def test_a_checksum_mismatch_is_an_error_and_nothing_is_installed(
        server, settings, payload, tmp_path, monkeypatch):
    server.add("/files/tiny_sam.pth", payload)
    use_catalog(tmp_path, monkeypatch, url_model("sam-vit-b", f"{server.url}/files/tiny_sam.pth",
                                                 payload, "0" * 64))

    with pytest.raises(ModelError, match="checksum"):
        install_model(get_spec("sam-vit-b"), settings, lambda transfer: None, CancelToken(), FAST)

    folder = settings.models_dir / "sam-vit-b"
    assert not (folder / "tiny_sam.pth").exists()
    assert not (folder / "tiny_sam.pth.part").exists()
    assert find_model("sam-vit-b", settings) is None


def test_too_little_disk_space_refuses_before_downloading(
        server, settings, payload, tmp_path, monkeypatch):
    server.add("/files/tiny_sam.pth", payload)
    use_catalog(tmp_path, monkeypatch, url_model("sam-vit-b", f"{server.url}/files/tiny_sam.pth",
                                                 payload))
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(download.shutil, "disk_usage", lambda path: usage(10**9, 10**9, 1000))

    with pytest.raises(ModelError, match="Not enough disk space"):
        install_model(get_spec("sam-vit-b"), settings, lambda transfer: None, CancelToken(), FAST)
    assert server.requests == []


def test_a_stalled_server_ends_in_a_stall_error(server, settings, payload, tmp_path, monkeypatch):
    server.add("/files/tiny_sam.pth", payload)
    server.stall_at = 2 * server.chunk
    use_catalog(tmp_path, monkeypatch, url_model("sam-vit-b", f"{server.url}/files/tiny_sam.pth",
                                                 payload))
    monkeypatch.setattr(download, "POLL_S", 0.1)
    policy = DownloadPolicy(stall_timeout=0.35, retries=1, backoff=0.01)

    with pytest.raises(ModelError, match="stalled") as raised:
        install_model(get_spec("sam-vit-b"), settings, lambda transfer: None, CancelToken(), policy)

    assert str(raised.value) == (
        f"The download of Test sam-vit-b stalled: the Hugging Face hub ({server.url[7:]}) sent "
        "no data for 0.35 s, 2 times in a row. It may be having trouble; try again later. The "
        f"{server.stall_at / 1e6:.1f} MB already downloaded are kept: the next try resumes from "
        "there.")

    # silent connections were dropped and resumed, then given up after the one retry
    assert len(server.requests) >= 4
    assert {request.range for request in server.requests[1:]} == {f"bytes={server.stall_at}-"}
    part = settings.models_dir / "sam-vit-b" / "tiny_sam.pth.part"
    assert part.stat().st_size == server.stall_at


def test_cancel_is_answered_while_the_server_is_silent(
        server, settings, payload, tmp_path, monkeypatch):
    server.add("/files/tiny_sam.pth", payload)
    server.stall_at = server.chunk
    use_catalog(tmp_path, monkeypatch, url_model("sam-vit-b", f"{server.url}/files/tiny_sam.pth",
                                                 payload))
    monkeypatch.setattr(download, "POLL_S", 0.1)
    patient = DownloadPolicy(stall_timeout=60.0, retries=0, backoff=0.01)
    cancel = CancelToken()
    threading.Timer(0.3, cancel.cancel).start()

    with pytest.raises(JobCancelled):
        install_model(get_spec("sam-vit-b"), settings, lambda transfer: None, cancel, patient)
    assert (settings.models_dir / "sam-vit-b" / "tiny_sam.pth.part").stat().st_size == server.chunk


def test_hub_models_come_from_resolve_urls_with_fallbacks_and_renames(
        server, settings, tmp_path, monkeypatch):
    base = "/org/tiny-clip/resolve/0123abcd"
    server.add(f"{base}/config.json", b'{"model_type": "clip"}')
    server.add(f"{base}/pytorch_model.bin", b"fallback weights")
    server.add(f"{base}/unet/weights.fp16.safetensors", b"half weights")
    use_catalog(tmp_path, monkeypatch, hub_model("tiny-clip", "org/tiny-clip", "0123abcd", [
        {"path": "config.json", "size": 22},
        {"path": "tokenizer.json", "size": 10, "optional": True},
        {"path": "model.safetensors", "fallback": "pytorch_model.bin", "size": 16},
        {"path": "unet/weights.fp16.safetensors", "local": "unet/weights.safetensors", "size": 12},
    ]))

    folder = install_model(get_spec("tiny-clip"), settings, lambda t: None, CancelToken(), FAST)

    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        "config.json", MANIFEST, "pytorch_model.bin", "unet/weights.safetensors"]
    assert (folder / "unet/weights.safetensors").read_bytes() == b"half weights"
    assert {request.path for request in server.requests} >= {
        f"{base}/config.json", f"{base}/tokenizer.json", f"{base}/model.safetensors",
        f"{base}/pytorch_model.bin"}


def test_a_required_file_missing_on_the_server_is_a_clear_error(
        server, settings, tmp_path, monkeypatch):
    use_catalog(tmp_path, monkeypatch, hub_model("tiny-clip", "org/tiny-clip", "main", [
        {"path": "config.json", "size": 22}]))

    with pytest.raises(ModelError, match="its file config.json is not on the Hugging Face hub"):
        install_model(get_spec("tiny-clip"), settings, lambda t: None, CancelToken(), FAST)
    assert find_model("tiny-clip", settings) is None


def test_resume_follows_the_hubs_redirect_to_its_file_store(
        server, settings, payload, tmp_path, monkeypatch):
    resolve = "/org/tiny-sd/resolve/main/unet/weights.safetensors"
    server.add("/cdn/blob-1234", payload)
    server.redirects[resolve] = "/cdn/blob-1234"
    use_catalog(tmp_path, monkeypatch, hub_model("tiny-sd", "org/tiny-sd", "main", [
        {"path": "unet/weights.safetensors", "size": len(payload)}]))
    spec = get_spec("tiny-sd")
    cancel = CancelToken()
    with pytest.raises(JobCancelled):
        install_model(spec, settings, lambda t: t.done and cancel.cancel(), cancel, FAST)

    install_model(spec, settings, lambda t: None, CancelToken(), FAST)

    assert (settings.models_dir / "tiny-sd/unet/weights.safetensors").read_bytes() == payload
    assert server.requests[-2].path == resolve and server.requests[-2].range is not None
    assert server.requests[-1].path == "/cdn/blob-1234"
    assert server.requests[-1].range == server.requests[-2].range  # the Range survived the hop


def test_a_server_that_ignores_range_gets_the_file_again_from_the_start(
        server, settings, payload, tmp_path, monkeypatch):
    server.add("/files/tiny_sam.pth", payload)
    use_catalog(tmp_path, monkeypatch, url_model("sam-vit-b", f"{server.url}/files/tiny_sam.pth",
                                                 payload, hashlib.sha256(payload).hexdigest()))
    spec = get_spec("sam-vit-b")
    cancel = CancelToken()
    with pytest.raises(JobCancelled):
        install_model(spec, settings, lambda t: t.done and cancel.cancel(), cancel, FAST)
    server.ignore_range = True

    folder = install_model(spec, settings, lambda t: None, CancelToken(), FAST)

    assert server.requests[-1].range is not None
    assert (folder / "tiny_sam.pth").read_bytes() == payload  # not the old part + the whole file


def test_a_part_file_that_is_already_whole_is_installed_without_downloading_it_again(
        server, settings, payload, tmp_path, monkeypatch):
    server.add("/files/tiny_sam.pth", payload)
    use_catalog(tmp_path, monkeypatch, url_model("sam-vit-b", f"{server.url}/files/tiny_sam.pth",
                                                 payload, hashlib.sha256(payload).hexdigest()))
    folder = settings.models_dir / "sam-vit-b"
    folder.mkdir(parents=True)
    (folder / "tiny_sam.pth.part").write_bytes(payload)  # stopped just before the rename

    install_model(get_spec("sam-vit-b"), settings, lambda t: None, CancelToken(), FAST)

    assert [r.range for r in server.requests] == [f"bytes={len(payload)}-"]  # answered 416
    assert (folder / "tiny_sam.pth").read_bytes() == payload
