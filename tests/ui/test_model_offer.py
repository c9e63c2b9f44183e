"""One offer for everything an action lacks: one question, one Download, all of them fetched."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PySide6.QtWidgets import QMainWindow, QMessageBox

from paintnoise_desktop.core.jobs import CancelToken, FindJob, Status
from paintnoise_desktop.engine.runner import Engine
from paintnoise_desktop.engine.settings import EngineSettings
from paintnoise_desktop.ui.dialogs import Dialogs
from paintnoise_desktop.ui.model_manager import ModelManagerDialog
from tests.model_server import ModelServer, checkpoint_bytes, url_model, write_catalog

WAIT_MS = 20_000


@pytest.fixture(autouse=True)
def online(monkeypatch):
    """The test suite runs offline (HF_HUB_OFFLINE=1); these tests say when they are offline."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)


@pytest.fixture
def told(monkeypatch):
    """The texts of the information boxes shown (none of them waits for an answer)."""
    texts = []
    monkeypatch.setattr(QMessageBox, "information", lambda *args: texts.append(args[2]))
    return texts


@pytest.fixture
def asked(monkeypatch, told):
    """Every question box shown (text, informative text, detail); answered by `asked.answer`."""

    class Asked(list):
        answer = QMessageBox.No

    boxes = Asked()

    def exec_(box) -> int:
        boxes.append((box.text(), box.informativeText(), box.detailedText()))
        return boxes.answer

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    return boxes


@pytest.fixture
def window(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    return window


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Two small Segment Anything style checkpoints on a loopback host, in their own catalogue."""
    served = ModelServer(tmp_path / "served").start()
    served.files = {}
    for model_id in ("sam-vit-h", "sam-vit-b"):
        data = checkpoint_bytes(tmp_path, values=50_000 + len(served.files))
        served.add(f"/{model_id}.pth", data)
        served.files[model_id] = data
    catalog = write_catalog(tmp_path / "catalog.json", [
        url_model(model_id, f"{served.url}/{model_id}.pth", data,
                  hashlib.sha256(data).hexdigest())
        for model_id, data in served.files.items()])
    monkeypatch.setenv("PAINTNOISE_CATALOG", str(catalog))
    yield served
    served.stop()


def test_a_find_lacking_both_models_asks_once_for_both(qtbot, window, asked, told, make_bridge):
    bridge = make_bridge()
    result = Engine().run(FindJob(1, np.zeros((32, 32, 3), np.uint8), "cup"),
                          lambda progress: None, CancelToken())
    assert result.missing_models == ("sam-vit-b", "clip-vit-base-patch32")

    Dialogs().offer_model_download(window, result.missing_models, bridge)

    [(text, informative, detail)] = asked
    assert text.startswith("This needs 2 models that are not installed:")
    assert ("\u2022 Segment Anything ViT-B: finds the objects in the photo. About 0.4 GB; "
            "licence: Apache-2.0") in text
    assert "\u2022 CLIP ViT-B/32: matches the objects to your words. About 0.6 GB; licence: MIT" \
        in text
    assert text.endswith("Download them now (about 1.0 GB in all)?")
    assert informative == (
        "Not now? Download them later from Models > Model Manager\u2026, or run: paintnoise "
        "models download sam-vit-b clip-vit-base-patch32; or copy them into the folder "
        "`paintnoise models path ID` prints.")
    assert "sam-vit-b: from https://" in detail and "clip-vit-base-patch32: from " in detail
    assert told == [] and not bridge.busy and window.findChild(ModelManagerDialog) is None
    assert window.statusBar().currentMessage().startswith("Nothing was downloaded. Download them")


def test_one_download_button_fetches_every_model(qtbot, window, asked, server, make_bridge,
                                                 tmp_path):
    bridge = make_bridge(settings=EngineSettings(models_dir=tmp_path / "models"))
    asked.answer = QMessageBox.Yes
    finished = []
    bridge.finished.connect(finished.append)

    Dialogs().offer_model_download(window, ("sam-vit-h", "sam-vit-b"), bridge)

    assert len(asked) == 1
    manager = window.findChild(ModelManagerDialog)
    assert manager is not None and manager.isVisible() and not manager.isModal()
    qtbot.waitUntil(lambda: len(finished) == 2, timeout=WAIT_MS)
    assert all(result.status is Status.FINISHED for result in finished)
    for model_id, data in server.files.items():
        assert (tmp_path / "models" / model_id / f"{model_id}.pth").read_bytes() == data
        assert manager.status_of(model_id) == "installed"
    assert "sam-vit-h: " in manager.status_label.text()
    assert "sam-vit-b: " in manager.status_label.text()
    assert not manager.progress_bar.isVisible() and manager.download_button.isEnabled()


def test_a_second_offer_joins_the_open_manager_queue(qtbot, window, asked, server, make_bridge,
                                                     tmp_path):
    server.delay = 0.02
    bridge = make_bridge(settings=EngineSettings(models_dir=tmp_path / "models"))
    asked.answer = QMessageBox.Yes
    finished = []
    bridge.finished.connect(finished.append)

    Dialogs().offer_model_download(window, ("sam-vit-h",), bridge)
    Dialogs().offer_model_download(window, ("sam-vit-h", "sam-vit-b"), bridge)

    assert len(window.findChildren(ModelManagerDialog)) == 1
    qtbot.waitUntil(lambda: len(finished) == 2, timeout=WAIT_MS)
    assert [request.path for request in server.requests].count("/sam-vit-h.pth") == 1
    assert (tmp_path / "models" / "sam-vit-b" / "sam-vit-b.pth").exists()


def test_a_gated_model_names_the_page_where_its_licence_is_accepted(window, asked, tmp_path,
                                                                   monkeypatch, make_bridge):
    gated = url_model("sd2-inpainting", "https://example.org/sd.safetensors", b"x" * 1000)
    gated.update(role="inpainting", layout="diffusers", access="gated",
                 licence="CreativeML Open RAIL++-M",
                 licence_url="https://huggingface.co/example/sd2")
    monkeypatch.setenv("PAINTNOISE_CATALOG", str(write_catalog(tmp_path / "c.json", [gated])))

    Dialogs().offer_model_download(window, ("sd2-inpainting",), make_bridge())

    [(text, _, _)] = asked
    assert text.startswith("This needs a model that is not installed:")
    assert ("paints what you type into the photo. About 0.0 GB; licence: CreativeML Open "
            "RAIL++-M. Its hub page lets you download it only once you have accepted the "
            "licence at https://huggingface.co/example/sd2; then log in with HF_TOKEN or "
            "`hf auth login`, so the download is sent as you.") in text
    assert text.endswith("Download it now (about 0.0 GB in all)?")


def test_offline_mode_from_the_bridge_settings_explains_instead_of_asking(
        window, asked, told, make_bridge, tmp_path):
    bridge = make_bridge(settings=EngineSettings(offline=True, models_dir=tmp_path / "mine"))

    Dialogs().offer_model_download(window, ("sam-vit-b", "clip-vit-base-patch32"), bridge)

    assert asked == [] and not bridge.busy
    [message] = told
    assert message.startswith("Segment Anything ViT-B and CLIP ViT-B/32 are not installed, and "
                              "offline mode is on (Edit > Settings\u2026 > Never use the network)")
    assert str(tmp_path / "mine" / "sam-vit-b") in message
    assert str(tmp_path / "mine" / "clip-vit-base-patch32") in message
