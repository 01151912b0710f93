"""The studio server: its parts over one folder, the socket it listens on, and a run that
stops cleanly on Ctrl-C (event streams closed, dubs cancelled, the demo stopped)."""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Callable
from types import FrameType
from urllib.parse import urlencode

import uvicorn

from dubber.errors import UsageError
from dubber.studio.routes import build_app
from dubber.studio.security import TOKEN_QUERY
from dubber.studio.studio import Studio

log = logging.getLogger(__name__)

GRACE_S = 2.0  # how long a stop waits for open requests


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on `host`:`port` (0: a free port); a port in use is one UsageError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} is in use: choose another with --port") from None
        raise UsageError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    except OverflowError:
        sock.close()
        raise UsageError(f"port {port} is not a port number (1-65535)") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(host: str, port: int, token: str, fragment: str = "") -> str:
    """The address to open in a browser: it carries the session's token (the page then keeps
    it in a cookie and drops it from the address)."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    query = urlencode({TOKEN_QUERY: token})
    return f"http://{shown}:{port}/?{query}" + (f"#{fragment}" if fragment else "")


class _Server(uvicorn.Server):
    """Uvicorn, which also ends the studio's event streams as soon as a stop is asked for (an
    open stream would otherwise hold the stop until the grace period ends)."""

    def __init__(self, config: uvicorn.Config, on_stop: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_stop = on_stop

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._on_stop()
        super().handle_exit(sig, frame)


def serve(studio: Studio, sock: socket.socket) -> None:
    """Serve `studio` on `sock` until Ctrl-C (or SIGTERM); KeyboardInterrupt after a clean stop
    on Ctrl-C."""
    config = uvicorn.Config(
        build_app(studio),
        log_level=logging.WARNING,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=int(GRACE_S),
    )
    server = _Server(config, studio.hub.close)
    try:
        server.run(sockets=[sock])
    finally:
        studio.close()
        sock.close()
