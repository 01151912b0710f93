"""A local HTTP stand-in for the Hugging Face Hub: the two endpoints `huggingface_hub` uses to
fetch a file (paths-info, resolve with HEAD, GET and Range), serving real files from disk.

It can cut a file's first download after some bytes (the client must resume with a Range
request), and it records every request, so tests see what a pull really asked for.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


@dataclass
class HubStandIn:
    """Files by (repo, path in the repo); `cut` maps a path to the byte count after which its
    first GET is cut off; `requests` holds (method, path, Range header) for each request (the
    URL's path for what is not a served file)."""

    url: str = ""
    files: dict[tuple[str, str], Path] = field(default_factory=dict)
    cut: dict[str, int] = field(default_factory=dict)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)

    def serve(self, repo: str, path: str, file: Path) -> None:
        self.files[(repo, path)] = file

    def downloads(self) -> list[str]:
        """The served files whose content was asked for (GET), in order."""
        served = {path for _, path in self.files}
        return [path for method, path, _ in self.requests if method == "GET" and path in served]


@functools.cache
def _sha256(path: Path) -> str:
    """A served file's sha256, read once (the files do not change while served)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _handler(hub: HubStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def do_POST(self) -> None:  # /api/models/{owner}/{name}/paths-info/{revision}
            parts = urllib.parse.urlparse(self.path).path.strip("/").split("/")
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            hub.requests.append(("POST", self.path, None))
            if parts[:2] != ["api", "models"] or len(parts) != 6 or parts[4] != "paths-info":
                return self._send(404, b"{}")
            repo = "/".join(parts[2:4])
            asked = urllib.parse.parse_qs(body).get("paths", [])
            infos = []
            for path in asked:
                file = hub.files.get((repo, path))
                if file is not None:
                    size, digest = file.stat().st_size, _sha256(file)
                    lfs = {"size": size, "oid": digest, "pointerSize": 134}
                    infos.append({"type": "file", "path": path, "size": size, "oid": digest[:40]})
                    infos[-1]["lfs"] = lfs
            self._send(200, json.dumps(infos).encode(), "application/json")

        def do_HEAD(self) -> None:
            self._resolve(body=False)

        def do_GET(self) -> None:
            self._resolve(body=True)

        def _resolve(self, body: bool) -> None:  # /{owner}/{name}/resolve/{revision}/{path}
            parts = urllib.parse.unquote(urllib.parse.urlparse(self.path).path).strip("/")
            owner, name, resolve, revision, path = (parts.split("/", 4) + [""] * 5)[:5]
            method = "GET" if body else "HEAD"
            file = hub.files.get((f"{owner}/{name}", path))
            if resolve != "resolve" or file is None:
                hub.requests.append((method, self.path, None))
                return self._send(404, b"not found")
            hub.requests.append((method, path, self.headers.get("Range")))
            data = file.read_bytes()
            start = 0
            if self.headers.get("Range", "").startswith("bytes="):
                start = int(self.headers["Range"][6:].split("-")[0])
            headers = {
                "X-Repo-Commit": revision,
                "ETag": f'"{_sha256(file)}"',
                "Accept-Ranges": "bytes",
            }
            if start:
                headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            if not body:
                headers["Content-Length"] = str(len(data))
                return self._send(200, b"", headers=headers, length=len(data))
            rest = data[start:]
            limit = hub.cut.pop(path, None)
            self._send(206 if start else 200, rest, headers=headers, cut=limit)

        def _send(
            self,
            status: int,
            payload: bytes,
            content_type: str = "application/octet-stream",
            headers: dict[str, str] | None = None,
            length: int | None = None,
            cut: int | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload) if length is None else length))
            for key, value in (headers or {}).items():
                if key != "Content-Length":
                    self.send_header(key, value)
            self.end_headers()
            if cut is None:
                self.wfile.write(payload)
                return
            self.wfile.write(payload[:cut])  # then the connection drops mid-file
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)

    return Handler


@contextmanager
def hub_standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[HubStandIn]:
    """A running stand-in on a loopback port, with `huggingface_hub` pointed at it and allowed
    online (as HF_ENDPOINT and HF_HUB_OFFLINE=0 would before it is imported)."""
    from huggingface_hub import constants

    hub = HubStandIn()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setattr(constants, "ENDPOINT", hub.url)
    monkeypatch.setattr(
        constants,
        "HUGGINGFACE_CO_URL_TEMPLATE",
        hub.url + "/{repo_id}/resolve/{revision}/{filename}",
    )
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("DUBBER_OFFLINE", raising=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
