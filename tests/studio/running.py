"""A studio server run as a user runs it (`python -m dubber studio FOLDER`), and raw HTTP
requests to it, sent exactly as written (no client-side clean-up of the path)."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

READY = re.compile(r"dubber studio: (http://\S+)")


@dataclass
class Answer:
    """An HTTP answer: status, headers and body (parsed when JSON)."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class RunningStudio:
    """A studio server process and what it printed."""

    process: subprocess.Popen
    url: str
    printed: list[str] = field(default_factory=list)
    token: str = ""

    @property
    def port(self) -> int:
        port = urlsplit(self.url).port
        assert port is not None, self.url
        return port

    def request(
        self,
        method: str,
        path: str,
        body: bytes | dict | None = None,
        headers: dict[str, str] | None = None,
        token: bool = True,
    ) -> Answer:
        """Send one request; `token` adds the session token."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = dict(headers or {})
        if token and self.token:
            sent.setdefault("X-Dubber-Token", self.token)
        if isinstance(body, dict):
            body = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        answer = Answer(response.status, dict(response.getheaders()), response.read())
        connection.close()
        return answer

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30) -> tuple[int, float]:
        """Stop it as Ctrl-C does; its exit code and the seconds it took."""
        began = time.monotonic()
        self.process.send_signal(sig)
        code = self.process.wait(timeout)
        return code, time.monotonic() - began

    @property
    def output(self) -> str:
        return "".join(self.printed)


@contextmanager
def studio_server(
    folder: Path, *arguments: str, env: dict[str, str] | None = None
) -> Iterator[RunningStudio]:
    """`dubber studio FOLDER ARGS` until the block ends, its page's token read."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dubber", "studio", str(folder), *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        text=True,
    )
    printed: list[str] = []
    found = threading.Event()

    def read() -> None:
        for line in process.stdout:
            printed.append(line)
            if READY.search(line):
                found.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not found.wait(120):
            raise AssertionError(f"the studio did not start: {''.join(printed)}")
        url = READY.search("".join(printed)).group(1)
        studio = RunningStudio(process, url, printed)
        studio.token = parse_qs(urlsplit(url).query)["token"][0]  # the address carries it
        yield studio
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
