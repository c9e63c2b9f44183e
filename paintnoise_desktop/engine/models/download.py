"""Downloading one model, only when the user asked for it.

Every file goes through one HTTP path: written to `<file>.part`, resumed with a
Range request after a dropped connection or a cancelled job, retried with
backoff, abandoned after `stall_timeout` seconds without data (meanwhile a
silent connection is dropped and resumed every `POLL_S` seconds, so Cancel is
never long unanswered), checked against its sha256 when the catalogue knows
it, and renamed into place only when whole.
Hub models are fetched from `{endpoint}/{repo}/resolve/{revision}/{file}`, where
the endpoint is `HF_ENDPOINT` (tests point it at a local server). The user's hub
token (`HF_TOKEN`, else the login file `hf auth login` writes) goes to the hub's
own host only, never to the file store it redirects to, and is never logged.
A machine that cannot reach the server at all (the name does not resolve, the
connection is refused) is told so at once, not after a minute of retries; each
of the hub's refusals (log in, accept a licence, gone) gets its own sentence.
A model's folder carries a marker while files are missing and gets its manifest last.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import json
import logging
import os
import shutil
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ...core.errors import ModelError
from ...core.jobs import CancelToken
from ..settings import EngineSettings
from .catalog import ModelFile, ModelSpec, load_catalog
from .registry import INCOMPLETE_MARKER, MANIFEST, expected_path

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://huggingface.co"
CHUNK_BYTES = 256 * 1024
REPORT_INTERVAL_S = 0.1
POLL_S = 5.0  # the longest a silent connection is waited on before Cancel is looked at again
USER_AGENT = "PaintNoise-Desktop"
OFFLINE_SETTING = "Edit > Settings… > Never use the network"  # the window's menus and label
TRUE_WORDS = ("1", "true", "yes", "on")
HUB_LOGIN = "log in with HF_TOKEN or `hf auth login`"
INVALID_TOKEN = "Invalid credentials in Authorization header"  # the hub's X-Error-Message
DISABLED_REPO = "Access to this resource is disabled."  # likewise, for a repo taken down
UNREACHABLE_ERRNOS = (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ECONNREFUSED)


@dataclass(frozen=True)
class Transfer:
    done: int  # bytes on disk so far
    total: int | None  # bytes expected, when known
    speed: float  # bytes per second over this session


TransferCallback = Callable[[Transfer], None]


@dataclass(frozen=True)
class DownloadPolicy:
    stall_timeout: float = 30.0  # seconds without a byte before a try is given up
    retries: int = 5
    backoff: float = 2.0  # seconds before the first retry, doubled after each


@dataclass(frozen=True)
class FileResult:
    path: Path
    size: int
    sha256: str


class Refused(Exception):
    """The server answered with a 4xx status, which trying again will not change.

    `code` and `server_message` are the hub's `X-Error-Code` and `X-Error-Message`
    headers (RepoNotFound, GatedRepo, EntryNotFound, RevisionNotFound, ...).
    """

    def __init__(self, url: str, status: int, code: str | None, server_message: str | None,
                 file: str | None = None) -> None:
        super().__init__(f"{url}: HTTP {status} {code or ''} {server_message or ''}".rstrip())
        self.url, self.status, self.code, self.server_message = url, status, code, server_message
        self.file = file  # the catalogue file that is not on the server, for a missing file

    @property
    def file_missing(self) -> bool:
        """A 404 for one file of a repository that is there (a fallback may exist)."""
        return self.status == 404 and self.code not in ("RepoNotFound", "RevisionNotFound")


class GaveUp(Exception):
    """The server could not be reached, or kept failing until the retries ran out.

    `kind` is "unreachable", "no answer" (no connection in time), "stalled" (connected,
    then silent), "server" (5xx or 429) or "broken" (the connection broke off).
    """

    def __init__(self, url: str, kind: str, tries: int, cause: BaseException) -> None:
        super().__init__(f"{url}: {kind} after {tries} tries: {type(cause).__name__}: {cause}")
        self.url, self.kind, self.tries, self.cause = url, kind, tries, cause


def offline_from_environment() -> str | None:
    """`HF_HUB_OFFLINE=<value>` when the environment turns the network off, else None."""
    value = os.environ.get("HF_HUB_OFFLINE", "").strip()
    return f"HF_HUB_OFFLINE={value}" if value.lower() in TRUE_WORDS else None


def offline_reason(settings: EngineSettings) -> str | None:
    """Where offline mode comes from, in words for messages; None when the network may be used.

    The environment comes first: it overrides the setting, and only the user's shell can undo it.
    """
    variable = offline_from_environment()
    if variable:
        return f"{variable} is set in the environment"
    if settings.offline:
        return OFFLINE_SETTING
    return None


def offline_remedy(settings: EngineSettings) -> str:
    """How the user turns offline mode off, as a clause: 'unset HF_HUB_OFFLINE …'."""
    if offline_from_environment():
        return "unset HF_HUB_OFFLINE in the environment and start PaintNoise again"
    return f"turn off {OFFLINE_SETTING}"


def offline_ways(model_id: str, settings: EngineSettings) -> str:
    """How a model is installed without the network, as a clause."""
    return (f"copy its files into {expected_path(model_id, settings)} (`paintnoise models path "
            f"{model_id}` prints it), or run `paintnoise models add {model_id} PATH` with files "
            "you already have")


def refuse_if_offline(model_id: str, settings: EngineSettings) -> None:
    reason = offline_reason(settings)
    if reason is not None:
        raise ModelError(
            f"Offline mode is on ({reason}): PaintNoise will not use the network. To download, "
            f"{offline_remedy(settings)}; or {offline_ways(model_id, settings)}.",
        )


def hub_endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def source_url(spec: ModelSpec, name: str) -> str:
    """Where one of the model's files is fetched from."""
    if spec.url:
        return spec.url
    return f"{hub_endpoint()}/{spec.repo}/resolve/{spec.revision}/{name}"


def token_path() -> Path:
    """The login file `hf auth login` writes, found as huggingface_hub finds it."""
    if os.environ.get("HF_TOKEN_PATH"):
        return Path(os.environ["HF_TOKEN_PATH"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(os.environ.get("HF_HOME") or Path(cache) / "huggingface").expanduser() / "token"


def hub_token() -> str | None:
    """The user's hub token: `HF_TOKEN`, else `HUGGING_FACE_HUB_TOKEN`, else the login file."""
    for variable in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        value = os.environ.get(variable, "").strip()
        if value:
            return value
    try:
        return token_path().read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _on_hub(url: str) -> bool:
    return _origin(url) == _origin(hub_endpoint())


def check_free_space(folder: Path, needed: int) -> None:
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    if free < needed:
        raise ModelError(
            f"Not enough disk space in {existing}: the download needs {needed / 1e9:.1f} GB "
            f"and {free / 1e9:.1f} GB are free. Free some space or choose another models folder "
            "in Settings.",
        )


def install_model(spec: ModelSpec, settings: EngineSettings, on_progress: TransferCallback,
                  cancel: CancelToken, policy: DownloadPolicy = DownloadPolicy()) -> Path:
    """Download every file of `spec` into its folder in the models folder; returns the folder."""
    refuse_if_offline(spec.id, settings)
    folder = expected_path(spec.id, settings)
    remaining = sum(max(0, file.size - _bytes_present(folder, file)) for file in spec.files)
    check_free_space(folder, int(remaining * 1.05))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / INCOMPLETE_MARKER).touch()
    (folder / MANIFEST).unlink(missing_ok=True)
    try:
        entries = _install_files(spec, folder, on_progress, cancel, policy)
    except (Refused, GaveUp) as failure:
        kept = sum(_bytes_present(folder, file) for file in spec.files)
        if not kept:
            _forget_empty(folder)
        raise ModelError(_failure_message(spec, settings, failure, kept, policy),
                         detail=str(failure)) from failure
    manifest = {"id": spec.id, "source": spec.source, "files": entries}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    (folder / INCOMPLETE_MARKER).unlink()
    return folder


def _install_files(spec: ModelSpec, folder: Path, on_progress: TransferCallback,
                   cancel: CancelToken, policy: DownloadPolicy) -> list[dict]:
    total = spec.size_bytes
    finished = 0
    started = time.monotonic()
    entries = []
    for file in spec.files:
        def report(transfer: Transfer, before: int = finished) -> None:
            elapsed = max(time.monotonic() - started, 1e-6)
            done = before + transfer.done
            on_progress(Transfer(done, max(total, done), transfer.speed or done / elapsed))

        result = _install_file(spec, file, folder, report, cancel, policy)
        if result is not None:
            entries.append({"path": result.path.relative_to(folder).as_posix(),
                            "size": result.size, "sha256": result.sha256})
            finished += result.size
    return entries


def _bytes_present(folder: Path, file: ModelFile) -> int:
    """Bytes of `file` on disk: whole, in a `.part`, or under its fallback name."""
    for name in (file.local, file.fallback):
        for path in (folder / name, folder / f"{name}.part") if name else ():
            if path.exists():
                return path.stat().st_size
    return 0


def _forget_empty(folder: Path) -> None:
    """Remove a model folder that holds no file but the download marker (so nothing to resume)."""
    if not any(path.name != INCOMPLETE_MARKER and not path.is_dir()
               for path in folder.rglob("*")):
        shutil.rmtree(folder)


def _install_file(spec: ModelSpec, file: ModelFile, folder: Path, report: TransferCallback,
                  cancel: CancelToken, policy: DownloadPolicy) -> FileResult | None:
    """One catalogue entry: its path, else its fallback; None for a missing optional file."""
    candidates = [(file.path, file.local, file.sha256)]
    if file.fallback:
        candidates.append((file.fallback, file.fallback, None))
    missing = None
    for name, local, sha256 in candidates:
        dest = folder / local
        if dest.exists():  # finished by an earlier, interrupted run
            return FileResult(dest, dest.stat().st_size, _sha256_of(dest, cancel))
        try:
            return download_file(source_url(spec, name), dest, report, cancel, sha256, policy)
        except Refused as refusal:
            if not refusal.file_missing:
                raise
            missing = refusal
    if file.optional:
        return None
    raise Refused(missing.url, 404, missing.code, missing.server_message, file=file.path)


def download_file(url: str, dest: Path, on_progress: TransferCallback, cancel: CancelToken,
                  sha256: str | None = None,
                  policy: DownloadPolicy = DownloadPolicy()) -> FileResult:
    """Fetch `url` to `dest` through `dest.part`, resuming what a previous try left there.

    Raises `Refused` for a 4xx answer and `GaveUp` when the server cannot be reached
    or the retries are spent.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    failures = 0
    heard_at = time.monotonic()

    def heard() -> None:
        nonlocal heard_at
        heard_at = time.monotonic()

    while True:
        cancel.raise_if_cancelled()
        try:
            _fetch(url, part, on_progress, cancel, policy, heard)
            break
        except urllib.error.HTTPError as error:
            if error.code == 416:  # nothing after the .part: it is whole, or not of this file
                total = _total_from_content_range(error.headers.get("Content-Range"))
                if part.exists() and total == part.stat().st_size:
                    break
                part.unlink(missing_ok=True)
            elif error.code < 500 and error.code != 429:
                raise Refused(error.filename or url, error.code, error.headers.get("X-Error-Code"),
                              error.headers.get("X-Error-Message")) from error
            failures = _wait_before_retry(failures, error, "server", url, policy, cancel)
        except (TimeoutError, urllib.error.URLError, ConnectionError,
                http.client.HTTPException) as error:
            if _unreachable_reason(error):  # the machine itself says no: retrying will not help
                raise GaveUp(url, "unreachable", failures + 1, error) from error
            if not isinstance(error, TimeoutError):  # urllib wraps a connect timeout
                kind = "no answer" if isinstance(getattr(error, "reason", None),
                                                 TimeoutError) else "broken"
                failures = _wait_before_retry(failures, error, kind, url, policy, cancel)
            elif time.monotonic() - heard_at >= policy.stall_timeout:
                failures = _wait_before_retry(failures, error, "stalled", url, policy, cancel)
                heard()
            # else connected but quiet for a moment: look at Cancel, then resume anew
    digest = _sha256_of(part, cancel)
    if sha256 and digest != sha256.lower():
        part.unlink()
        raise ModelError(
            f"The downloaded file {dest.name} is damaged (its checksum does not match). "
            "It was deleted; download it again.",
            detail=f"{url}: expected sha256 {sha256}, got {digest}",
        )
    part.replace(dest)
    return FileResult(dest, dest.stat().st_size, digest)


def _unreachable_reason(error: BaseException) -> str | None:
    """Why the server cannot be reached at all (no network), in words; None for other errors."""
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, socket.gaierror):
        return "its name could not be looked up"
    if isinstance(reason, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(reason, OSError) and reason.errno in UNREACHABLE_ERRNOS:
        return "the network is unreachable"
    return None


def _wait_before_retry(failures: int, error: BaseException, kind: str, url: str,
                       policy: DownloadPolicy, cancel: CancelToken) -> int:
    failures += 1
    if failures > policy.retries:
        raise GaveUp(url, kind, failures, error) from error
    wait = policy.backoff * 2 ** (failures - 1)
    log.info("download of %s failed (%s: %s); retry %d of %d in %g s", url,
             type(error).__name__, error, failures, policy.retries, wait)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        cancel.raise_if_cancelled()
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
    return failures


class _TokenStaysHome(urllib.request.HTTPRedirectHandler):
    """Follows redirects, carrying the token only to the origin it was sent to.

    The token is an unredirected header, which urllib drops on every redirect; it is
    put back for a redirect within the hub, never for the hub's file store (a CDN).
    """

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        token = req.unredirected_hdrs.get("Authorization")
        if new is not None and token and _origin(newurl) == _origin(req.full_url):
            new.add_unredirected_header("Authorization", token)
        return new


def _open(url: str, offset: int, timeout: float) -> http.client.HTTPResponse:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    token = hub_token() if _on_hub(url) else None
    if token:
        request.add_unredirected_header("Authorization", f"Bearer {token}")
    return urllib.request.build_opener(_TokenStaysHome).open(request, timeout=timeout)


def _fetch(url: str, part: Path, on_progress: TransferCallback, cancel: CancelToken,
           policy: DownloadPolicy, heard: Callable[[], None]) -> None:
    """One try: append the rest of the file to `part`; raises if the connection breaks
    or stays silent for `POLL_S` (calling `heard` whenever data arrives)."""
    offset = part.stat().st_size if part.exists() else 0
    with _open(url, offset, min(POLL_S, policy.stall_timeout)) as response:
        if response.status == 206:
            total = _total_from_content_range(response.headers.get("Content-Range"))
        else:  # a full answer: the server ignored the Range, so start over
            offset = 0
            length = response.headers.get("Content-Length")
            total = int(length) if length else None
        done = offset
        started, last_report = time.monotonic(), 0.0
        with open(part, "ab" if offset else "wb") as out:
            while chunk := response.read1(CHUNK_BYTES):
                out.write(chunk)
                heard()
                done += len(chunk)
                now = time.monotonic()
                if now - last_report >= REPORT_INTERVAL_S:
                    on_progress(Transfer(done, total, (done - offset) / max(now - started, 1e-6)))
                    last_report = now
                cancel.raise_if_cancelled()
        if total is not None and done < total:
            raise http.client.IncompleteRead(b"", total - done)
        now = time.monotonic()
        on_progress(Transfer(done, total, (done - offset) / max(now - started, 1e-6)))


def _failure_message(spec: ModelSpec, settings: EngineSettings, failure: Refused | GaveUp,
                     kept: int, policy: DownloadPolicy) -> str:
    """One true sentence (two at most) for why `spec` could not be downloaded, and what to do."""
    host = urlsplit(failure.url).netloc
    on_hub = _on_hub(failure.url)
    server = f"the Hugging Face hub ({host})" if on_hub else f"the server {host}"
    ways = offline_ways(spec.id, settings)
    if isinstance(failure, GaveUp):
        resume = (f" The {kept / 1e6:.1f} MB already downloaded are kept: the next try resumes "
                  "from there." if kept else "")
        if failure.kind == "unreachable":
            return (f"PaintNoise could not reach {server}: {_unreachable_reason(failure.cause)}, "
                    f"so {spec.name} was not downloaded. Check the network connection and try "
                    f"again, or install it without the network: {ways}.{resume}")
        if failure.kind == "stalled":
            return (f"The download of {spec.name} stalled: {server} sent no data for "
                    f"{policy.stall_timeout:g} s, {failure.tries} times in a row. It may be "
                    f"having trouble; try again later.{resume}")
        if failure.kind == "no answer":
            return (f"{_capital(server)} did not answer (no connection within "
                    f"{min(POLL_S, policy.stall_timeout):g} s, {failure.tries} tries), so "
                    f"{spec.name} was not downloaded. It may be having trouble; check the network "
                    f"connection and try again later.{resume}")
        if failure.kind == "server":
            status = getattr(failure.cause, "code", "?")
            trouble = "is busy" if status == 429 else "is having trouble"
            return (f"{_capital(server)} {trouble} (HTTP {status}, {failure.tries} tries), so "
                    f"{spec.name} was not downloaded. Try again later.{resume}")
        return (f"The connection to {server} broke off {failure.tries} times, so {spec.name} "
                f"was not downloaded. Check the network connection and try again later.{resume}")

    status, code = failure.status, failure.code
    elsewhere = _elsewhere(spec, ways)
    if status == 404 or failure.server_message == DISABLED_REPO:
        if failure.file:
            what = f"its file {failure.file} is not on {server} any more"
        elif code == "RevisionNotFound":
            what = f"the revision {spec.revision} of {spec.repo} is not on {server} any more"
        else:
            what = f"{spec.repo or spec.source} is not on {server} any more"
        return f"{spec.name} cannot be downloaded: {what} (HTTP {status}). {_capital(elsewhere)}."
    token_sent = on_hub and hub_token() is not None
    catalogue_gated = getattr(spec, "access", "open") == "gated"
    if on_hub and (code == "GatedRepo" or status == 403 or (status == 401 and catalogue_gated)):
        page = (catalogue_gated and getattr(spec, "licence_url", None)
                or f"{hub_endpoint()}/{spec.repo}")
        then = " with the account your token belongs to" if token_sent else f", then {HUB_LOGIN}"
        return (f"{spec.name} is gated: {server} sends {spec.repo} only to users who accepted "
                f"its licence (HTTP {status}). Open {page}, accept the licence{then}, "
                "and try again.")
    if on_hub and status == 401 and failure.server_message == INVALID_TOKEN:
        return (f"{_capital(server)} did not accept your token (HTTP 401, invalid credentials), "
                f"so {spec.name} was not downloaded. Log in again with `hf auth login` or set a "
                "valid HF_TOKEN, and try again.")
    if on_hub and status == 401 and token_sent:
        return (f"{_capital(server)} answered that {spec.repo} does not exist any more or is "
                f"private (HTTP 401, with your token), so {spec.name} was not downloaded. "
                f"{_capital(elsewhere)}.")
    if on_hub and status == 401:
        return (f"{_capital(server)} answered that {spec.repo} does not exist any more or needs "
                f"you to log in (HTTP 401), so {spec.name} was not downloaded. If you have "
                f"access to it, {HUB_LOGIN} and try again; if it is gone, {elsewhere}.")
    return (f"{_capital(server)} refused the download of {spec.name} (HTTP {status}). "
            f"Install it without the network: {ways}.")


def _elsewhere(spec: ModelSpec, ways: str) -> str:
    """What to do when a model cannot come from its source: another catalogue model of its
    role, or its files from elsewhere."""
    others = [f"`paintnoise models download {other.id}` ({other.name})"
              for other in load_catalog().values()
              if other.role == spec.role and other.id != spec.id]
    own = f"install it without the network: {ways}"
    if not others:
        return own
    return f"choose another {spec.role} model: {' or '.join(others)}; or {own}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _total_from_content_range(value: str | None) -> int | None:
    if not value or "/" not in value:
        return None
    total = value.rsplit("/", 1)[1]
    return int(total) if total.isdigit() else None


def _sha256_of(path: Path, cancel: CancelToken) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while block := stream.read(4 * 1024 * 1024):
            digest.update(block)
            cancel.raise_if_cancelled()
    return digest.hexdigest()
