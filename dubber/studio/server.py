"""The studio server: its parts over one folder, the socket it listens on, and a run that
stops cleanly on Ctrl-C (event streams closed, dubs cancelled, the demo stopped)."""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import uvicorn

from dubber.errors import UsageError
from dubber.settings import RuntimeOptions
from dubber.store.store import Store
from dubber.studio.engines import EngineCache
from dubber.studio.events import EventHub
from dubber.studio.jobs import DubQueue
from dubber.studio.library import TARGET_LANGUAGE, Library, State, disk_state
from dubber.studio.live import LiveDemo
from dubber.studio.options import voice_ids
from dubber.studio.security import new_token

log = logging.getLogger(__name__)

MAX_UPLOAD_MB = 2048
STOP_TIMEOUT_S = 30.0  # how long a stop waits for a dub to reach its next progress report
GRACE_S = 2.0  # how long a stop waits for open requests


@dataclass
class Studio:
    """Everything one run of the studio shares: the folder, the session token, the engines,
    the dubs, the real-time demo and the events to pages."""

    library: Library
    dubs: DubQueue
    live: LiveDemo
    hub: EventHub
    voices: list[str]
    hosts: frozenset[str] | None
    max_upload: int = MAX_UPLOAD_MB * 2**20
    token: str = field(default_factory=new_token)

    @classmethod
    def open(
        cls,
        folder: Path,
        store: Store,
        runtime: RuntimeOptions,
        hosts: frozenset[str] | None,
        max_upload_mb: int = MAX_UPLOAD_MB,
    ) -> Studio:
        """A studio over `folder` (which must be a folder)."""
        if not folder.is_dir():
            what = "does not exist" if not folder.exists() else "is not a folder"
            raise UsageError(f"{folder} {what}: give the folder of media to open in the studio")
        library, hub = Library(folder), EventHub()
        engines = EngineCache(store, runtime)
        dubs = DubQueue(library, engines, hub, store.home / "work")
        live = LiveDemo(library, engines, hub)
        voices = voice_ids(store, TARGET_LANGUAGE)
        return cls(library, dubs, live, hub, voices, hosts, max_upload_mb * 2**20)

    def library_state(self, media: str) -> State:
        """The state of one file: its job's while it has one in progress or failed, else the
        state on disk."""
        job = self.dubs.jobs().get(media)
        if job is not None and job.state is not State.dubbed:
            return job.state
        return disk_state(self.library.media(media))

    def refuse_while_live(self) -> None:
        """Dubs wait for the real-time demo: both at once would not keep up in real time."""
        if self.live.running:
            raise UsageError("the real-time demo is playing: stop it before dubbing")

    def close(self) -> None:
        """End every stream, cancel the dubs and stop the demo."""
        self.hub.close()
        self.live.close(STOP_TIMEOUT_S)
        self.dubs.close(STOP_TIMEOUT_S)


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


def url_of(host: str, port: int, fragment: str = "") -> str:
    """The address to open in a browser."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/" + (f"#{fragment}" if fragment else "")


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
    from dubber.studio.routes import build_app

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
