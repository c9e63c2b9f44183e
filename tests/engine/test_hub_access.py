"""Hub access as users have it: a token when they have one, and one true sentence per refusal.

A loopback hub answers with the statuses and `X-Error-Code` / `X-Error-Message` headers
the real hub sends (huggingface_hub's `hf_raise_for_status` reads the same ones), and
redirects files to a second loopback server standing in for its file store.
"""

from __future__ import annotations

import logging
import socket
import time

import pytest

from paintnoise_desktop.core.errors import JobCancelled, ModelError
from paintnoise_desktop.core.jobs import CancelToken
from paintnoise_desktop.engine.models import download as download_module
from paintnoise_desktop.engine.models.catalog import get_spec
from paintnoise_desktop.engine.models.download import DownloadPolicy, install_model
from paintnoise_desktop.engine.models.registry import install_status
from paintnoise_desktop.engine.settings import EngineSettings
from tests.model_server import ModelServer, Refusal, hub_model, url_model, write_catalog

FAST = DownloadPolicy(stall_timeout=5.0, retries=2, backoff=0.01)
TOKEN = "hf_TestSecretToken1234567890"
REPO = "org/tiny-clip"
BASE = f"/{REPO}/resolve/0123abcd"
CONFIG = b'{"model_type": "clip"}'


@pytest.fixture(autouse=True)
def no_token(tmp_path, monkeypatch):
    """No token anywhere unless a test puts one there."""
    for variable in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))


@pytest.fixture
def hub(tmp_path, monkeypatch):
    served = ModelServer(tmp_path / "hub").start()
    monkeypatch.setenv("HF_ENDPOINT", served.url)
    yield served
    served.stop()


@pytest.fixture
def cdn(tmp_path):
    served = ModelServer(tmp_path / "cdn").start()
    yield served
    served.stop()


@pytest.fixture
def catalog(tmp_path, monkeypatch):
    """A catalogue with the model under test and another of the same role (the alternative)."""
    other = hub_model("other-clip", "org/other-clip", "4567cdef", [{"path": "config.json",
                                                                    "size": 22}])
    other["name"] = "Other CLIP"
    path = write_catalog(tmp_path / "catalog.json", [
        hub_model("tiny-clip", REPO, "0123abcd", [{"path": "config.json", "size": len(CONFIG)}]),
        other,
    ])
    monkeypatch.setenv("PAINTNOISE_CATALOG", str(path))


def download(settings: EngineSettings, model_id: str = "tiny-clip", policy=FAST):
    return install_model(get_spec(model_id), settings, lambda transfer: None, CancelToken(),
                         policy)


def refused_message(settings: EngineSettings, model_id: str = "tiny-clip") -> str:
    with pytest.raises(ModelError) as raised:
        download(settings, model_id)
    assert TOKEN not in str(raised.value) and TOKEN not in raised.value.detail
    return str(raised.value)


def offline_ways(settings: EngineSettings, model_id: str = "tiny-clip") -> list[str]:
    return [str(settings.models_dir / model_id), f"`paintnoise models path {model_id}`",
            f"`paintnoise models add {model_id} PATH`"]


# --- the token ---------------------------------------------------------------------------

@pytest.mark.parametrize("variable", ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"])
def test_a_token_in_the_environment_reaches_the_hub_but_not_its_file_store(
        hub, cdn, settings, catalog, monkeypatch, caplog, capsys, variable):
    monkeypatch.setenv(variable, TOKEN)
    hub.tokens[f"/{REPO}/"] = (TOKEN, Refusal(401, "RepoNotFound", "Repository not found"))
    cdn.add("/blobs/abc123", CONFIG)
    hub.redirects[f"{BASE}/config.json"] = f"{cdn.url}/blobs/abc123"
    caplog.set_level(logging.DEBUG)

    folder = download(settings)

    assert (folder / "config.json").read_bytes() == CONFIG
    assert [r.authorization for r in hub.requests] == [f"Bearer {TOKEN}"]
    assert [(r.path, r.authorization) for r in cdn.requests] == [("/blobs/abc123", None)]
    assert TOKEN not in caplog.text and TOKEN not in "".join(capsys.readouterr())


def test_a_redirect_within_the_hub_keeps_the_token(hub, settings, catalog, monkeypatch):
    """The hub moves renamed repositories with a redirect on its own host."""
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    hub.add("/org/renamed-clip/resolve/0123abcd/config.json", CONFIG)
    hub.redirects[f"{BASE}/config.json"] = "/org/renamed-clip/resolve/0123abcd/config.json"

    download(settings)

    assert [r.authorization for r in hub.requests] == [f"Bearer {TOKEN}"] * 2


@pytest.mark.parametrize("where", ["HF_HOME", "HF_TOKEN_PATH"])
def test_the_login_file_gives_the_token(hub, settings, catalog, tmp_path, monkeypatch, where):
    if where == "HF_HOME":  # where `hf auth login` writes it
        login_file = tmp_path / "hf-home" / "token"
    else:
        login_file = tmp_path / "elsewhere" / "my-token"
        monkeypatch.setenv("HF_TOKEN_PATH", str(login_file))
    login_file.parent.mkdir(parents=True)
    login_file.write_text(TOKEN + "\n")
    hub.add(f"{BASE}/config.json", CONFIG)

    download(settings)

    assert [r.authorization for r in hub.requests] == [f"Bearer {TOKEN}"]


def test_no_token_goes_to_a_server_that_is_not_the_hub(hub, cdn, settings, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    cdn.add("/files/tiny_sam.pth", b"weights")
    path = write_catalog(tmp_path / "sam.json", [
        url_model("sam-vit-b", f"{cdn.url}/files/tiny_sam.pth", b"weights")])
    monkeypatch.setenv("PAINTNOISE_CATALOG", str(path))

    download(settings, "sam-vit-b")

    assert [r.authorization for r in cdn.requests] == [None]


def test_without_a_token_no_authorization_is_sent(hub, settings, catalog):
    hub.add(f"{BASE}/config.json", CONFIG)

    download(settings)

    assert [r.authorization for r in hub.requests] == [None]


# --- one sentence per answer -------------------------------------------------------------

def test_401_without_a_token_says_log_in_or_the_repository_is_gone(hub, settings, catalog):
    """The hub answers an anonymous request for a removed repository with 401."""
    hub.refusals[f"/{REPO}/"] = Refusal(401, "RepoNotFound", "Repository not found")

    message = refused_message(settings)

    assert message.startswith(f"The Hugging Face hub ({hub.url[7:]}) answered that {REPO} does "
                              "not exist any more or needs you to log in (HTTP 401)")
    assert "log in with HF_TOKEN or `hf auth login`" in message
    assert "`paintnoise models download other-clip` (Other CLIP)" in message
    assert all(way in message for way in offline_ways(settings))
    assert "try again later" not in message.lower() and "resum" not in message.lower()
    assert len(hub.requests) == 1  # a refusal is not retried
    assert install_status("tiny-clip", settings) == "not installed"
    assert not (settings.models_dir / "tiny-clip").exists()


def test_401_with_a_token_says_the_repository_is_gone_or_private(
        hub, settings, catalog, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    hub.refusals[f"/{REPO}/"] = Refusal(401, "RepoNotFound", "Repository not found")

    message = refused_message(settings)

    assert f"answered that {REPO} does not exist any more or is private (HTTP 401, with your " \
           "token)" in message
    assert "log in with" not in message
    assert "`paintnoise models download other-clip` (Other CLIP)" in message
    assert all(way in message for way in offline_ways(settings))


def test_a_token_the_hub_rejects_is_named_as_the_problem(hub, settings, catalog, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    hub.refusals["/"] = Refusal(401, None, "Invalid credentials in Authorization header")

    message = refused_message(settings)

    assert "did not accept your token (HTTP 401, invalid credentials)" in message
    assert "Log in again with `hf auth login` or set a valid HF_TOKEN" in message


def test_a_gated_repository_without_a_token_says_accept_the_licence_and_log_in(
        hub, settings, catalog):
    hub.tokens[f"/{REPO}/"] = (TOKEN, Refusal(
        401, "GatedRepo", f"Access to model {REPO} is restricted. You must have access to it "
        "and be authenticated to access it. Please log in."))

    message = refused_message(settings)

    assert message == (
        f"Test tiny-clip is gated: the Hugging Face hub ({hub.url[7:]}) sends {REPO} only to "
        f"users who accepted its licence (HTTP 401). Open {hub.url}/{REPO}, accept the licence, "
        "then log in with HF_TOKEN or `hf auth login`, and try again.")


def test_403_says_which_page_to_open_to_accept_the_licence(hub, settings, catalog, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    hub.refusals[f"/{REPO}/"] = Refusal(
        403, "GatedRepo", f"Access to model {REPO} is restricted and you are not in the "
        "authorized list.")

    message = refused_message(settings)

    assert message == (
        f"Test tiny-clip is gated: the Hugging Face hub ({hub.url[7:]}) sends {REPO} only to "
        f"users who accepted its licence (HTTP 403). Open {hub.url}/{REPO}, accept the licence "
        "with the account your token belongs to, and try again.")
    assert len(hub.requests) == 1


def test_404_for_the_repository_says_it_is_gone_and_names_the_alternatives(
        hub, settings, catalog, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)  # with a token the hub says 404 for a removed repo
    hub.refusals[f"/{REPO}/"] = Refusal(404, "RepoNotFound", "Repository not found")

    message = refused_message(settings)

    assert message.startswith(f"Test tiny-clip cannot be downloaded: {REPO} is not on the "
                              f"Hugging Face hub ({hub.url[7:]}) any more (HTTP 404). Choose "
                              "another image-text scoring model: `paintnoise models download "
                              "other-clip` (Other CLIP); or install it without the network: ")
    assert all(way in message for way in offline_ways(settings))
    assert len(hub.requests) == 1  # a gone repository is not asked for a fallback file


def test_404_for_a_pinned_revision_says_the_revision_is_gone(hub, settings, catalog):
    hub.refusals[f"/{REPO}/"] = Refusal(404, "RevisionNotFound", "Invalid rev id: 0123abcd")

    message = refused_message(settings)

    assert f"the revision 0123abcd of {REPO} is not on the Hugging Face hub" in message


def test_a_file_gone_from_a_download_server_is_named_with_the_alternatives(
        cdn, settings, tmp_path, monkeypatch):
    path = write_catalog(tmp_path / "sam.json", [
        url_model("sam-vit-b", f"{cdn.url}/files/sam_b.pth", b"weights"),
        url_model("sam-vit-h", f"{cdn.url}/files/sam_h.pth", b"weights")])
    monkeypatch.setenv("PAINTNOISE_CATALOG", str(path))

    message = refused_message(settings, "sam-vit-b")

    assert message.startswith(f"Test sam-vit-b cannot be downloaded: its file sam_b.pth is not "
                              f"on the server {cdn.url[7:]} any more (HTTP 404). Choose another "
                              "proposals model: `paintnoise models download sam-vit-h` (Test "
                              "sam-vit-h); or install it without the network: ")
    assert all(way in message for way in offline_ways(settings, "sam-vit-b"))


def test_5xx_is_retried_then_says_try_again_later(hub, settings, catalog, caplog):
    hub.refusals[f"/{REPO}/"] = Refusal(503)
    caplog.set_level(logging.INFO)

    message = refused_message(settings)

    assert message == (f"The Hugging Face hub ({hub.url[7:]}) is having trouble (HTTP 503, 3 "
                       "tries), so Test tiny-clip was not downloaded. Try again later.")
    assert len(hub.requests) == FAST.retries + 1
    assert "retry 2 of 2" in caplog.text  # the retries are in the log
    assert not (settings.models_dir / "tiny-clip").exists()  # nothing to resume


def test_5xx_after_part_of_a_file_says_the_download_resumes(hub, settings, tmp_path, monkeypatch):
    data = bytes(range(256)) * 2048
    hub.add(f"{BASE}/model.safetensors", data)
    hub.chunk = 16 * 1024
    path = write_catalog(tmp_path / "big.json", [hub_model("tiny-clip", REPO, "0123abcd", [
        {"path": "model.safetensors", "size": len(data)}])])
    monkeypatch.setenv("PAINTNOISE_CATALOG", str(path))
    cancel = CancelToken()
    with pytest.raises(JobCancelled):
        install_model(get_spec("tiny-clip"), settings, lambda t: t.done and cancel.cancel(),
                      cancel, FAST)
    kept = (settings.models_dir / "tiny-clip" / "model.safetensors.part").stat().st_size
    hub.refusals[f"/{REPO}/"] = Refusal(502)

    message = refused_message(settings)

    assert message.endswith(f"Try again later. The {kept / 1e6:.1f} MB already downloaded are "
                            "kept: the next try resumes from there.")
    assert install_status("tiny-clip", settings) == "download not finished"


def test_a_model_the_catalogue_calls_gated_sends_the_user_to_its_licence_page(
        hub, settings, tmp_path, monkeypatch):
    """Without the hub's GatedRepo header, the catalogue's word is enough."""
    entry = hub_model("tiny-clip", REPO, "0123abcd", [{"path": "config.json", "size": 22}])
    entry.update(access="gated", licence_url="https://licences.test/tiny-clip")
    monkeypatch.setenv("PAINTNOISE_CATALOG", str(write_catalog(tmp_path / "gated.json", [entry])))
    hub.refusals["/"] = Refusal(401)

    message = refused_message(settings)

    assert "Test tiny-clip is gated" in message
    assert "Open https://licences.test/tiny-clip, accept the licence, then log in" in message


def test_a_hub_that_takes_no_connection_says_it_did_not_answer(
        settings, catalog, monkeypatch):
    """A listening socket whose queue is full drops new connections: connecting times out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    waiting = [socket.socket() for _ in range(4)]
    for client in waiting:
        client.setblocking(False)
        client.connect_ex(("127.0.0.1", port))
    time.sleep(0.1)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setattr(download_module, "POLL_S", 0.2)
    try:
        message = refused_message(settings)
    finally:
        for client in [*waiting, listener]:
            client.close()

    assert message == (f"The Hugging Face hub (127.0.0.1:{port}) did not answer (no connection "
                       "within 0.2 s, 3 tries), so Test tiny-clip was not downloaded. It may be "
                       "having trouble; check the network connection and try again later.")


def test_a_refused_download_leaves_no_folder_behind_even_with_subfolders(
        hub, settings, tmp_path, monkeypatch):
    entry = hub_model("tiny-sd", "org/tiny-sd", "0123abcd", [
        {"path": "unet/config.json", "size": 22}])
    monkeypatch.setenv("PAINTNOISE_CATALOG", str(write_catalog(tmp_path / "sd.json", [entry])))
    hub.refusals["/"] = Refusal(401, "RepoNotFound")

    refused_message(settings, "tiny-sd")

    assert install_status("tiny-sd", settings) == "not installed"
    assert not (settings.models_dir / "tiny-sd").exists()
