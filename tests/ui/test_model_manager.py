"""The model manager and the download offer, driven through a real EngineBridge and engine."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest
from PySide6.QtWidgets import QMainWindow, QMessageBox

from paintnoise_desktop.core.jobs import CancelToken, LoadModelJob, Status
from paintnoise_desktop.engine.models.catalog import load_catalog
from paintnoise_desktop.engine.runner import Engine
from paintnoise_desktop.engine.settings import EngineSettings, load_settings
from paintnoise_desktop.ui.dialogs import Dialogs
from paintnoise_desktop.ui.model_manager import ModelManagerDialog
from paintnoise_desktop.ui.model_offer import offer_download
from tests.model_server import ModelServer, checkpoint_bytes, url_model, write_catalog
from tests.tinymodels.sam import build_sam

WAIT_MS = 20_000


@pytest.fixture
def models(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    monkeypatch.setenv("PAINTNOISE_MODELS_DIR", str(folder))
    monkeypatch.setenv("PAINTNOISE_SETTINGS", str(tmp_path / "settings.json"))
    build_sam(folder / "sam-vit-b", name="sam_vit_b_01ec64.pth")
    return folder


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A loopback host serving a small 'sam-vit-h' checkpoint the catalogue points at."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    served = ModelServer(tmp_path / "served").start()
    served.data = checkpoint_bytes(tmp_path)
    served.add("/sam_vit_h_4b8939.pth", served.data)
    catalog = write_catalog(tmp_path / "catalog.json", [
        url_model("sam-vit-h", f"{served.url}/sam_vit_h_4b8939.pth", served.data,
                  hashlib.sha256(served.data).hexdigest()),
        url_model("sam-vit-b", f"{served.url}/sam_vit_b_01ec64.pth", b"x" * 100)])
    monkeypatch.setenv("PAINTNOISE_CATALOG", str(catalog))
    yield served
    served.stop()


def test_every_catalogue_model_is_listed_with_its_status(qtbot, models, tmp_path, make_bridge):
    dialog = ModelManagerDialog(make_bridge())
    qtbot.addWidget(dialog)

    assert dialog.table.rowCount() == len(load_catalog())
    assert dialog.status_of("sam-vit-b") == "installed"
    assert dialog.status_of("sd2-inpainting") == "not installed"
    sd2 = dialog._row_of("sd2-inpainting")
    assert dialog.table.item(sd2, 1).text() == "inpainting"
    assert dialog.table.item(sd2, 3).text().endswith("GB")

    checkpoint = build_sam(tmp_path / "elsewhere", name="elsewhere.pth")
    assert dialog.add_path("sam-vit-h", checkpoint)
    assert dialog.status_of("sam-vit-h") == "added by path"
    assert load_settings().model_paths == {"sam-vit-h": str(checkpoint)}
    assert not dialog.add_path("sd2-inpainting", checkpoint)
    assert "not a .safetensors file" in dialog.status_label.text()


def _answer(monkeypatch, answer) -> list[str]:
    """Answer every QMessageBox question with `answer`; the texts asked, in order."""
    asked = []

    def exec_(box) -> int:
        asked.append(f"{box.text()}\n{box.informativeText()}")
        return answer

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    return asked


def test_download_asks_first_then_shows_progress_then_installed(qtbot, models, server,
                                                                 make_bridge, monkeypatch):
    bridge = make_bridge()
    dialog = ModelManagerDialog(bridge)
    qtbot.addWidget(dialog)
    dialog.show()
    messages = []
    bridge.progress.connect(lambda progress: messages.append(progress.message))
    assert dialog.status_of("sam-vit-h") == "not installed"
    dialog.select_model("sam-vit-h")

    asked = _answer(monkeypatch, QMessageBox.No)
    dialog.download_button.click()
    assert len(asked) == 1 and asked[0].startswith("Test sam-vit-h: not installed.")
    assert "About 0.0 GB; licence: Apache-2.0" in asked[0]
    assert not bridge.busy and server.requests == []
    dialog.select_model("sam-vit-b")
    dialog.download_button.click()
    assert len(asked) == 1 and dialog.status_label.text() == "Test sam-vit-b is installed already."
    dialog.select_model("sam-vit-h")

    asked = _answer(monkeypatch, QMessageBox.Yes)
    with qtbot.waitSignal(bridge.finished, timeout=WAIT_MS) as finished:
        dialog.download_button.click()
        assert dialog.progress_bar.isVisible() and dialog.cancel_button.isEnabled()

    assert len(asked) == 1
    assert finished.args[0].status is Status.FINISHED
    assert any(" MB at " in message for message in messages)
    assert dialog.status_of("sam-vit-h") == "installed"
    assert not dialog.progress_bar.isVisible()
    assert (models / "sam-vit-h" / "sam_vit_h_4b8939.pth").read_bytes() == server.data


def test_cancel_stops_the_download_and_leaves_it_resumable(qtbot, models, server, make_bridge):
    server.delay = 0.05
    bridge = make_bridge()
    dialog = ModelManagerDialog(bridge)
    qtbot.addWidget(dialog)

    with qtbot.waitSignal(bridge.progress, timeout=WAIT_MS,
                          check_params_cb=lambda progress: "MB at" in progress.message):
        dialog.start_downloads(("sam-vit-h",))
    with qtbot.waitSignal(bridge.finished, timeout=WAIT_MS) as finished:
        dialog.cancel_button.click()

    assert finished.args[0].status is Status.CANCELLED
    assert "resumes" in dialog.status_label.text()
    assert dialog.status_of("sam-vit-h") == "download not finished"
    assert (models / "sam-vit-h" / "sam_vit_h_4b8939.pth.part").exists()


def test_verify_reports_on_the_selected_model(qtbot, models, server, make_bridge):
    """(The server's catalogue gives sam-vit-b no checksum, so a tiny model can be whole.)"""
    dialog = ModelManagerDialog(make_bridge())
    qtbot.addWidget(dialog)
    dialog.select_model("sam-vit-b")
    dialog.verify_button.click()
    qtbot.waitUntil(lambda: "sam-vit-b: OK" in dialog.status_label.text(), timeout=WAIT_MS)

    (models / "sam-vit-b" / "sam_vit_b_01ec64.pth").write_bytes(b"not a checkpoint")
    dialog.verify("sam-vit-b")
    qtbot.waitUntil(lambda: "is broken" in dialog.status_label.text(), timeout=WAIT_MS)
    assert dialog.status_of("sam-vit-b").startswith("broken: sam_vit_b_01ec64.pth is broken")

    build_sam(models / "sam-vit-b", name="sam_vit_b_01ec64.pth")
    dialog.verify("sam-vit-b")
    qtbot.waitUntil(lambda: "sam-vit-b: OK" in dialog.status_label.text(), timeout=WAIT_MS)
    assert dialog.status_of("sam-vit-b") == "installed"


def test_offline_mode_turns_download_off_and_says_why(qtbot, models, server, make_bridge,
                                                      monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    bridge = make_bridge()
    dialog = ModelManagerDialog(bridge)
    qtbot.addWidget(dialog)

    assert not dialog.download_button.isEnabled()
    assert "HF_HUB_OFFLINE=1 is set in the environment" in dialog.download_button.toolTip()
    assert "HF_HUB_OFFLINE=1 is set in the environment" in dialog.status_label.text()
    assert not dialog.start_downloads(("sam-vit-h",))
    assert server.requests == [] and not bridge.busy

    monkeypatch.delenv("HF_HUB_OFFLINE")
    dialog = ModelManagerDialog(bridge, EngineSettings(offline=True))
    qtbot.addWidget(dialog)
    assert not dialog.download_button.isEnabled()
    assert "Never use the network" in dialog.status_label.text()

    dialog.apply_settings(EngineSettings(offline=False))
    assert dialog.download_button.isEnabled() and dialog.download_button.toolTip() == ""
    assert dialog.status_label.text() == ""


def test_a_missing_model_result_offers_the_download(qtbot, models, server, make_bridge,
                                                     monkeypatch):
    bridge = make_bridge()
    window = QMainWindow()
    qtbot.addWidget(window)
    asked = _answer(monkeypatch, QMessageBox.Yes)
    result = Engine().run(LoadModelJob(1, "sam-vit-h"), lambda progress: None, CancelToken())
    assert result.status is Status.FAILED and result.missing_models == ("sam-vit-h",)

    with qtbot.waitSignal(bridge.finished, timeout=WAIT_MS):
        Dialogs().offer_model_download(window, result.missing_models, bridge)

    assert len(asked) == 1 and "not installed" in asked[0] and "Apache-2.0" in asked[0]
    manager = window.findChild(ModelManagerDialog)
    assert manager is not None and manager.isVisible() and not manager.isModal()
    qtbot.waitUntil(lambda: manager.status_of("sam-vit-h") == "installed", timeout=WAIT_MS)


def test_saying_no_or_being_offline_starts_nothing(qtbot, models, server, make_bridge, monkeypatch):
    bridge = make_bridge()
    _answer(monkeypatch, QMessageBox.No)
    assert offer_download(None, ("sam-vit-h",), bridge) is None
    told = []
    monkeypatch.setattr(QMessageBox, "information", lambda *args: told.append(args[2]))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert offer_download(None, ("sam-vit-h",), bridge) is None
    assert "offline mode is on (HF_HUB_OFFLINE=1 is set in the environment)" in told[0]
    assert "unset HF_HUB_OFFLINE" in told[0] and str(models / "sam-vit-h") in told[0]
    assert server.requests == [] and not bridge.busy


def test_the_dialogs_do_not_import_torch():
    code = ("import sys, paintnoise_desktop.ui.model_offer, paintnoise_desktop.ui.settings_dialog;"
            " print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.stdout.strip() == "False"
