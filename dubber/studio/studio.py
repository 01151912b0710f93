"""What one run of the studio shares: the folder, the session token, the engines, the dubs, the
real-time demo and the events to pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dubber.errors import UsageError
from dubber.settings import RuntimeOptions
from dubber.store.store import Store
from dubber.studio.engines import EngineCache
from dubber.studio.events import EventHub
from dubber.studio.jobs import DubQueue, Job
from dubber.studio.library import TARGET_LANGUAGE, Library, State, disk_state
from dubber.studio.live import LiveDemo
from dubber.studio.options import voice_menu
from dubber.studio.security import new_token

MAX_UPLOAD_MB = 2048
STOP_TIMEOUT_S = 30.0  # how long a stop waits for a dub to reach its next progress report


@dataclass
class Studio:
    """Everything one run of the studio shares: the folder, the session token, the engines,
    the dubs, the real-time demo and the events to pages."""

    library: Library
    dubs: DubQueue
    live: LiveDemo
    hub: EventHub
    voices: list[dict[str, str]]  # the dub form's voices: id and label ("" the best)
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
        voices = voice_menu(store, TARGET_LANGUAGE)
        return cls(library, dubs, live, hub, voices, hosts, max_upload_mb * 2**20)

    def library_state(self, media: str, on_disk: State | None = None) -> State:
        """The state of one file: its job's while it has one in progress or failed, else the
        state on disk (`on_disk` when known; a cancelled dub left the file as it was)."""
        job = self.dubs.jobs().get(media)
        if job is not None and job.running:
            return job.state
        if job is not None and job.state is State.failed and not job.left_folder:
            return job.state
        return on_disk or disk_state(self.library.media(media))

    def missing(self, present: set[str]) -> list[Job]:
        """The jobs whose files are no longer in the folder (`present` names those that are);
        each is marked, so that the file, if it comes back, is shown as it stands on disk."""
        gone = [job for name, job in self.dubs.jobs().items() if name not in present]
        for job in gone:
            job.left_folder = True
        return gone

    def refuse_while_live(self) -> None:
        """Dubs wait for the real-time demo: both at once would not keep up in real time."""
        if self.live.running:
            raise UsageError("the real-time demo is playing: stop it before dubbing")

    def close(self) -> None:
        """End every stream, cancel the dubs and stop the demo."""
        self.hub.close()
        self.live.close(STOP_TIMEOUT_S)
        self.dubs.close(STOP_TIMEOUT_S)
