"""A loopback HTTP server standing in for model hosts in download tests.

Serves files from a folder, honours `Range: bytes=N-`, records every request
(with the Authorization header it carried), answers hub-style paths
(`/{repo}/resolve/{revision}/{file}`) like any other path, and can stall after a
number of bytes to exercise the stall timeout. Like the hub it can refuse paths
with an error status and the hub's `X-Error-Code` / `X-Error-Message` headers,
require a token on others, and redirect to another server (the hub's file store).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass(frozen=True)
class SeenRequest:
    path: str
    range: str | None
    authorization: str | None = None


@dataclass(frozen=True)
class Refusal:
    """An error answer as the hub sends one."""

    status: int
    code: str | None = None  # X-Error-Code: RepoNotFound, GatedRepo, EntryNotFound, ...
    message: str | None = None  # X-Error-Message


class ModelServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[SeenRequest] = []
        self.stall_at: int | None = None  # go silent at this byte of the file, on every request
        self.chunk = 64 * 1024
        self.delay = 0.0  # seconds between chunks, to make a download slow enough to cancel
        self.ignore_range = False  # answer every request with the whole file, as some hosts do
        self.redirects: dict[str, str] = {}  # path -> path or URL it moved to (LFS to a CDN)
        self.refusals: dict[str, Refusal] = {}  # path prefix -> the answer to every request
        self.tokens: dict[str, tuple[str, Refusal]] = {}  # prefix -> token, answer without it
        self._stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                authorization = self.headers.get("Authorization")
                server.requests.append(
                    SeenRequest(self.path, self.headers.get("Range"), authorization))
                refusal = server.refusal_for(self.path, authorization)
                if refusal is not None:
                    self.refuse(refusal)
                    return
                if self.path in server.redirects:
                    self.send_response(302)
                    self.send_header("Location", server.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                file = server.root / self.path.lstrip("/")
                if not file.is_file():
                    self.send_error(404)
                    return
                data = file.read_bytes()
                start = 0
                wanted = self.headers.get("Range")
                if wanted and wanted.startswith("bytes=") and not server.ignore_range:
                    start = int(wanted[6:].split("-")[0])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                for offset in range(start, len(data), server.chunk):
                    if server.stall_at is not None and offset >= server.stall_at:
                        server._stop.wait(60)
                        return
                    if server.delay and server._stop.wait(server.delay):
                        return
                    piece = data[offset:offset + server.chunk]
                    try:
                        self.wfile.write(piece)
                    except (BrokenPipeError, ConnectionResetError):
                        return

            def refuse(self, refusal: Refusal) -> None:
                body = json.dumps({"error": refusal.message or "refused"}).encode()
                self.send_response(refusal.status)
                if refusal.code:
                    self.send_header("X-Error-Code", refusal.code)
                if refusal.message:
                    self.send_header("X-Error-Message", refusal.message)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ModelServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def refusal_for(self, path: str, authorization: str | None) -> Refusal | None:
        for prefix, refusal in self.refusals.items():
            if path.startswith(prefix):
                return refusal
        for prefix, (token, refusal) in self.tokens.items():
            if path.startswith(prefix) and authorization != f"Bearer {token}":
                return refusal
        return None

    def add(self, url_path: str, data: bytes) -> None:
        target = self.root / url_path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def write_catalog(path: Path, models: list[dict]) -> Path:
    path.write_text(json.dumps({"format": 1, "models": models}), encoding="utf-8")
    return path


def checkpoint_bytes(folder: Path, values: int = 300_000) -> bytes:
    """A real PyTorch checkpoint (zip archive of tensors) of about 4 x `values` bytes."""
    import torch

    path = folder / "weights.pth"
    torch.save({"weight": torch.arange(values, dtype=torch.float32)}, path)
    return path.read_bytes()


def url_model(model_id: str, url: str, data: bytes, sha256: str | None = None) -> dict:
    """A catalogue entry for a single-file (Segment Anything style) model at `url`."""
    return {
        "id": model_id, "name": f"Test {model_id}", "role": "proposals",
        "layout": "sam-checkpoint", "url": url,
        "files": [{"path": url.rsplit("/", 1)[1], "size": len(data), "sha256": sha256}],
        "licence": "Apache-2.0", "min_memory_gb": 1.0, "resolution": 64,
    }


def hub_model(model_id: str, repo: str, revision: str, files: list[dict]) -> dict:
    return {
        "id": model_id, "name": f"Test {model_id}", "role": "image-text scoring",
        "layout": "transformers", "repo": repo, "revision": revision, "files": files,
        "licence": "MIT", "min_memory_gb": 1.0, "resolution": 32,
    }
