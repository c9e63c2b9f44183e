"""Downloading one model, only when the user asked for it.

Every file goes through one HTTP path: written to `<file>.part`, resumed with a
Range request after a dropped connection or a cancelled job, retried with
backoff, abandoned after `stall_timeout` seconds without data (meanwhile a
silent connection is dropped and resumed every `POLL_S` seconds, so Cancel is
never long unanswered), checked against its sha256 when the catalogue knows
it, and renamed into place only when whole.
Hub models are fetched from `{endpoint}/{repo}/resolve/{revision}/{file}`, where
the endpoint is `HF_ENDPOINT` (tests point it at a local server). A model's
folder carries a marker while files are missing and gets its manifest last.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ...core.errors import ModelError
from ...core.jobs import CancelToken
from ..settings import EngineSettings
from .catalog import ModelFile, ModelSpec
from .registry import INCOMPLETE_MARKER, MANIFEST, expected_path

DEFAULT_ENDPOINT = "https://huggingface.co"
CHUNK_BYTES = 256 * 1024
REPORT_INTERVAL_S = 0.1
POLL_S = 5.0  # the longest a silent connection is waited on before Cancel is looked at again
USER_AGENT = "PaintNoise-Desktop"
OFFLINE_SETTING = "Edit > Settings… > Never use the network"  # the window's menus and label
TRUE_WORDS = ("1", "true", "yes", "on")


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


class RemoteFileMissing(ModelError):
    """The server has no such file (HTTP 404)."""


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


def refuse_if_offline(model_id: str, settings: EngineSettings) -> None:
    reason = offline_reason(settings)
    if reason is not None:
        raise ModelError(
            f"Offline mode is on ({reason}): PaintNoise will not use the network. To download, "
            f"{offline_remedy(settings)}; or copy the model to {expected_path(model_id, settings)}.",
        )


def hub_endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def source_url(spec: ModelSpec, name: str) -> str:
    """Where one of the model's files is fetched from."""
    if spec.url:
        return spec.url
    return f"{hub_endpoint()}/{spec.repo}/resolve/{spec.revision}/{name}"


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
    manifest = {"id": spec.id, "source": spec.source, "files": entries}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    (folder / INCOMPLETE_MARKER).unlink()
    return folder


def _bytes_present(folder: Path, file: ModelFile) -> int:
    for path in (folder / file.local, folder / (file.local + ".part")):
        if path.exists():
            return path.stat().st_size
    return 0


def _install_file(spec: ModelSpec, file: ModelFile, folder: Path, report: TransferCallback,
                  cancel: CancelToken, policy: DownloadPolicy) -> FileResult | None:
    """One catalogue entry: its path, else its fallback; None for a missing optional file."""
    candidates = [(file.path, file.local, file.sha256)]
    if file.fallback:
        candidates.append((file.fallback, file.fallback, None))
    for name, local, sha256 in candidates:
        dest = folder / local
        if dest.exists():  # finished by an earlier, interrupted run
            return FileResult(dest, dest.stat().st_size, _sha256_of(dest, cancel))
        try:
            return download_file(source_url(spec, name), dest, report, cancel, sha256, policy)
        except RemoteFileMissing:
            continue
    if file.optional:
        return None
    raise ModelError(
        f"The file {file.path} of {spec.name} is not on the server ({spec.source}). "
        "The catalogue may be out of date; update PaintNoise.",
    )


def download_file(url: str, dest: Path, on_progress: TransferCallback, cancel: CancelToken,
                  sha256: str | None = None,
                  policy: DownloadPolicy = DownloadPolicy()) -> FileResult:
    """Fetch `url` to `dest` through `dest.part`, resuming what a previous try left there."""
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
            if error.code == 404:
                raise RemoteFileMissing(f"{url} was not found on the server.") from error
            if error.code == 416:  # nothing after the .part: it is whole, or not of this file
                total = _total_from_content_range(error.headers.get("Content-Range"))
                if part.exists() and total == part.stat().st_size:
                    break
                part.unlink(missing_ok=True)
            elif error.code < 500:
                raise ModelError(
                    f"The server refused the download of {dest.name} (HTTP {error.code}). "
                    "Try again later, or download the file yourself and add it in the model manager.",
                    detail=url,
                ) from error
            failures = _wait_before_retry(failures, error, url, policy, cancel)
        except TimeoutError as error:
            if time.monotonic() - heard_at < policy.stall_timeout:
                continue  # quiet for a moment: look at Cancel, then resume on a new connection
            failures = _wait_before_retry(failures, error, url, policy, cancel)
            heard()
        except (urllib.error.URLError, ConnectionError, http.client.HTTPException) as error:
            failures = _wait_before_retry(failures, error, url, policy, cancel)
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


def _wait_before_retry(failures: int, error: BaseException, url: str, policy: DownloadPolicy,
                       cancel: CancelToken) -> int:
    failures += 1
    if failures > policy.retries:
        stalled = isinstance(error, TimeoutError) or "timed out" in str(error)
        what = (f"stalled (no data for {policy.stall_timeout:g} s)" if stalled
                else "could not reach the server")
        raise ModelError(
            f"The download {what}. Check your connection and try again; it will resume "
            "where it stopped.",
            detail=f"{url}: {type(error).__name__}: {error}",
        ) from error
    deadline = time.monotonic() + policy.backoff * 2 ** (failures - 1)
    while time.monotonic() < deadline:
        cancel.raise_if_cancelled()
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
    return failures


def _fetch(url: str, part: Path, on_progress: TransferCallback, cancel: CancelToken,
           policy: DownloadPolicy, heard: Callable[[], None]) -> None:
    """One try: append the rest of the file to `part`; raises if the connection breaks
    or stays silent for `POLL_S` (calling `heard` whenever data arrives)."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=min(POLL_S, policy.stall_timeout)) as response:
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
