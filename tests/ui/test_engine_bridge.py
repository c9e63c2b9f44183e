"""The engine bridge: ids, order, progress, cancel, supersession and errors, through real jobs."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest

from paintnoise_desktop.core.jobs import (
    DownloadJob,
    FindJob,
    InpaintJob,
    LoadModelJob,
    Result,
    Status,
)
from paintnoise_desktop.engine.runner import Engine
from paintnoise_desktop.ui.engine_bridge import JobState
from tests.model_server import ModelServer, checkpoint_bytes, url_model, write_catalog

from .conftest import SlowEngine, photo

WAIT_MS = 20_000


def square_mask(height: int, width: int) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    mask[height // 3: 2 * height // 3, width // 3: 2 * width // 3] = 255
    return mask


def inpaint_job(job_id: int, **kwargs) -> InpaintJob:
    image = photo(96, 64)
    return InpaintJob(job_id, image=image, mask=square_mask(64, 96),
                      inpainter="opencv-telea", seed=1, **kwargs)


def collect(bridge) -> tuple[list, list, list]:
    progress, results, busy = [], [], []
    bridge.progress.connect(progress.append)
    bridge.finished.connect(results.append)
    bridge.busyChanged.connect(busy.append)
    return progress, results, busy


def test_real_inpaint_job_reports_progress_and_its_result(qtbot, make_bridge):
    bridge = make_bridge()
    progress, results, busy = collect(bridge)
    with qtbot.waitSignal(bridge.finished, timeout=WAIT_MS):
        job_id = bridge.submit(inpaint_job)
        assert bridge.busy
    assert job_id == 1
    [result] = results
    assert result.job_id == 1 and result.ok, result.message
    assert progress and all(p.job_id == 1 for p in progress)
    assert [p.fraction for p in progress] == sorted(p.fraction for p in progress)
    variant = result.variants[0]
    before = photo(96, 64)
    outside = square_mask(64, 96) == 0
    assert np.array_equal(variant.image[outside], before[outside])
    assert not np.array_equal(variant.image, before)
    assert busy == [True, False] and not bridge.busy


def test_jobs_get_increasing_ids_and_run_in_order(qtbot, make_bridge):
    bridge = make_bridge(engine_factory=lambda settings: SlowEngine(seconds=0.05))
    _, results, busy = collect(bridge)
    ids = [bridge.submit(lambda job_id: LoadModelJob(job_id, "any")) for _ in range(3)]
    qtbot.waitUntil(lambda: len(results) == 3, timeout=WAIT_MS)
    assert ids == [1, 2, 3]
    assert [r.job_id for r in results] == ids
    assert all(r.ok for r in results)
    assert busy == [True, False]


def test_cancel_stops_the_running_job_and_drops_queued_ones(qtbot, make_bridge):
    bridge = make_bridge(engine_factory=lambda settings: SlowEngine(seconds=30))
    progress, results, _ = collect(bridge)
    running = bridge.submit(lambda job_id: LoadModelJob(job_id, "a"))
    queued = bridge.submit(lambda job_id: LoadModelJob(job_id, "b"))
    qtbot.waitUntil(lambda: bridge.state(running) is JobState.RUNNING, timeout=WAIT_MS)
    assert bridge.state(queued) is JobState.QUEUED
    qtbot.waitUntil(lambda: len(progress) > 0, timeout=WAIT_MS)
    bridge.cancel()
    qtbot.waitUntil(lambda: len(results) == 2, timeout=5_000)
    assert [(r.job_id, r.status) for r in results] == [
        (running, Status.CANCELLED), (queued, Status.CANCELLED)]
    assert not bridge.busy
    assert all(p.job_id == running for p in progress)


def test_cancel_by_id_leaves_other_jobs_alone(qtbot, make_bridge):
    bridge = make_bridge(engine_factory=lambda settings: SlowEngine(seconds=0.1))
    _, results, _ = collect(bridge)
    first = bridge.submit(lambda job_id: LoadModelJob(job_id, "a"))
    second = bridge.submit(lambda job_id: LoadModelJob(job_id, "b"))
    bridge.cancel(second)
    qtbot.waitUntil(lambda: len(results) == 2, timeout=WAIT_MS)
    assert {r.job_id: r.status for r in results} == {
        first: Status.FINISHED, second: Status.CANCELLED}


def test_a_newer_find_supersedes_an_older_one(qtbot, make_bridge):
    bridge = make_bridge(engine_factory=lambda settings: SlowEngine(seconds=0.3))
    _, results, _ = collect(bridge)
    image = photo(32, 32)
    older = bridge.submit(lambda job_id: FindJob(job_id, image=image, text="cup"))
    load = bridge.submit(lambda job_id: LoadModelJob(job_id, "a"))
    newer = bridge.submit(lambda job_id: FindJob(job_id, image=image, text="spoon"))
    qtbot.waitUntil(lambda: len(results) == 3, timeout=WAIT_MS)
    assert {r.job_id: r.status for r in results} == {
        older: Status.CANCELLED, load: Status.FINISHED, newer: Status.FINISHED}


def test_errors_come_back_as_failed_results_with_a_message(qtbot, make_bridge):
    bridge = make_bridge()
    _, results, _ = collect(bridge)
    with qtbot.waitSignal(bridge.finished, timeout=WAIT_MS):
        bridge.submit(lambda job_id: InpaintJob(
            job_id, image=photo(40, 30), mask=np.zeros((10, 10), np.uint8),
            inpainter="opencv-telea"))
    [result] = results
    assert result.status is Status.FAILED
    assert result.message and "\n" not in result.message


def test_a_missing_model_is_named_in_the_result(qtbot, make_bridge):
    bridge = make_bridge()
    _, results, _ = collect(bridge)
    with qtbot.waitSignal(bridge.finished, timeout=WAIT_MS):
        bridge.submit(lambda job_id: InpaintJob(
            job_id, image=photo(40, 30), mask=square_mask(30, 40), inpainter="sd15-inpainting"))
    [result] = results
    assert result.status is Status.FAILED
    assert result.missing_models == ("sd15-inpainting",)
    assert "sd15-inpainting" in result.message


def test_an_engine_that_cannot_start_fails_the_job_instead_of_hanging(qtbot, make_bridge):
    def broken_factory(settings):
        raise RuntimeError("no engine today")

    bridge = make_bridge(engine_factory=broken_factory)
    _, results, _ = collect(bridge)
    with qtbot.waitSignal(bridge.finished, timeout=WAIT_MS):
        bridge.submit(lambda job_id: LoadModelJob(job_id, "a"))
    assert results[0].status is Status.FAILED
    assert "no engine today" in results[0].message


def test_the_engine_module_is_imported_in_the_worker_not_at_window_start():
    code = ("import sys; from paintnoise_desktop.ui import main_window; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("cancel_first", [True, False])
def test_shutdown_stops_the_thread_with_a_job_running(qtbot, make_bridge, cancel_first):
    bridge = make_bridge(engine_factory=lambda settings: SlowEngine(seconds=30))
    running = bridge.submit(lambda job_id: LoadModelJob(job_id, "a"))
    qtbot.waitUntil(lambda: bridge.state(running) is JobState.RUNNING, timeout=WAIT_MS)
    if cancel_first:
        bridge.cancel(running)
    bridge.shutdown()
    assert not bridge._thread.isRunning()


def test_a_device_line_that_cannot_be_read_never_fails_the_job(qtbot, make_bridge, monkeypatch):
    from paintnoise_desktop.engine.models import device

    def broken(_device):
        raise RuntimeError("driver went away")

    monkeypatch.setattr(device, "memory_summary", broken)
    bridge = make_bridge()
    with qtbot.waitSignal(bridge.finished, timeout=WAIT_MS) as finished:
        bridge.submit(inpaint_job)
    result = finished.args[0]
    assert result.ok and result.variants and result.device_status == ""


def test_unload_waits_for_the_queued_jobs_and_runs_on_the_engine_thread(qtbot, make_bridge):
    import threading

    unloaded_in = []

    class CountingEngine(SlowEngine):
        def unload_models(self) -> str:
            unloaded_in.append(threading.current_thread())
            return super().unload_models()

    events = []
    bridge = make_bridge(engine_factory=lambda settings: CountingEngine(seconds=0.2))
    with qtbot.waitSignal(bridge.modelsUnloaded, timeout=WAIT_MS) as never_loaded:
        bridge.unload_models()
    assert never_loaded.args == [""] and unloaded_in == []  # no engine yet
    bridge.finished.connect(lambda result: events.append("finished"))
    bridge.modelsUnloaded.connect(lambda status: events.append(f"unloaded {status}"))
    bridge.submit(inpaint_job)
    with qtbot.waitSignal(bridge.modelsUnloaded, timeout=WAIT_MS):
        bridge.unload_models()
    assert events == ["finished", "unloaded CPU"]
    assert unloaded_in[0] is not threading.main_thread()


class AnsweringFinds(Engine):
    """The real engine (downloads included); a Find answers at once with no candidates."""

    def _dispatch(self, job, step, cancel):
        if isinstance(job, FindJob):
            return Result(job.job_id, Status.FINISHED)
        return super()._dispatch(job, step, cancel)


@pytest.fixture
def slow_host(tmp_path, monkeypatch):
    """A loopback host serving a 'sam-vit-h' checkpoint slowly (about 2 s), as a far host would."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("PAINTNOISE_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("PAINTNOISE_SETTINGS", str(tmp_path / "settings.json"))
    served = ModelServer(tmp_path / "served").start()
    data = checkpoint_bytes(tmp_path)
    served.add("/sam_vit_h_4b8939.pth", data)
    served.chunk = max(1, len(data) // 20)
    served.delay = 0.1
    catalog = write_catalog(tmp_path / "catalog.json", [url_model(
        "sam-vit-h", f"{served.url}/sam_vit_h_4b8939.pth", data, hashlib.sha256(data).hexdigest())])
    monkeypatch.setenv("PAINTNOISE_CATALOG", str(catalog))
    yield served
    served.stop()


def test_a_download_runs_on_its_own_thread_so_a_find_does_not_wait_for_it(
        qtbot, make_bridge, slow_host):
    bridge = make_bridge(engine_factory=lambda settings: AnsweringFinds(settings))
    progress, results, _busy = collect(bridge)
    download = bridge.submit(lambda job_id: DownloadJob(job_id, "sam-vit-h"))
    qtbot.waitUntil(lambda: any(p.job_id == download for p in progress), timeout=WAIT_MS)
    find = bridge.submit(lambda job_id: FindJob(job_id, image=photo(32, 24), text="cup"))
    qtbot.waitUntil(lambda: any(r.job_id == find for r in results), timeout=WAIT_MS)
    assert [r.job_id for r in results] == [find]  # the download is still going
    assert bridge.state(download) is JobState.RUNNING
    qtbot.waitUntil(lambda: len(results) == 2, timeout=WAIT_MS)
    assert results[1].job_id == download and results[1].ok, results[1].message
    assert len(slow_host.requests) >= 1
