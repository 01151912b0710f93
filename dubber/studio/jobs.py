"""The studio's dubs: one at a time in a worker thread, through the same planning and `DubJob`
as `dubber dub`, with progress and failures published as events, and cancellation at the next
progress report."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dubber.dub.batch import dub_files, plan_dubs
from dubber.dub.document import DubDocument
from dubber.dub.job import Progress, Stage
from dubber.engines.voices import VoiceBank
from dubber.errors import DubberError, StoppedError, UsageError
from dubber.studio.edits import LineEdit, apply_edits, engine_choice
from dubber.studio.engines import EngineCache
from dubber.studio.events import EventHub
from dubber.studio.library import Library, State, edited_since_dub, outputs_for
from dubber.studio.options import DubSettings
from dubber.studio.speakers import SpeakerEdit, apply_speaker_edits
from dubber.studio.versions import Versions

log = logging.getLogger(__name__)

# The share of a dub each stage's progress covers (recognition and translation overlap).
STAGE_SPANS = {
    Stage.recognise: (0.0, 0.35),
    Stage.translate: (0.35, 0.4),
    Stage.speak: (0.4, 0.9),
    Stage.mix: (0.9, 1.0),
}
PUBLISH_EVERY_S = 0.25


@dataclass
class Job:
    """One dub (or re-dub of an edited document) of a media file of the library."""

    media: str
    settings: DubSettings
    document: Path | None = None  # re-dub from this edited document
    changed: list[int] = field(default_factory=list)  # the lines a re-dub changed
    state: State = State.queued
    stage: str = ""
    fraction: float = 0.0
    error: str | None = None
    result: dict[str, Any] = field(default_factory=dict)
    cancelled: threading.Event = field(default_factory=threading.Event)
    submitted: float = field(default_factory=time.monotonic)
    left_folder: bool = False  # its file was seen missing: the job no longer speaks for it

    @property
    def running(self) -> bool:
        """Queued or dubbing."""
        return self.state in (State.queued, State.dubbing)

    def to_json(self) -> dict[str, Any]:
        """What the library shows of the job."""
        return {
            "media": self.media,
            "state": self.state.value,
            "stage": self.stage,
            "fraction": round(self.fraction, 3),
            "error": self.error,
            "redub": self.document is not None,
            "changed": self.changed,
            **self.result,
        }


def describe_failure(error: BaseException) -> str:
    """The one line the page shows for a failed dub: a DubberError's message, exactly as the
    command line prints it, or what the operating system refused."""
    if isinstance(error, DubberError):
        return str(error)
    if isinstance(error, OSError):
        where = f": {error.filename}" if error.filename else ""
        return f"{error.strerror or error}{where}"
    return f"internal error ({type(error).__name__}: {error}): please report it"


class DubQueue:
    """Dubs submitted from the page, run in turn; the state of each file's latest job."""

    def __init__(
        self, library: Library, engines: EngineCache, hub: EventHub, work_root: Path
    ) -> None:
        self.library, self.engines, self.hub, self.work_root = library, engines, hub, work_root
        self.versions = Versions(library.root)
        self._jobs: dict[str, Job] = {}
        self._settings: dict[str, DubSettings] = {}  # the last settings each file was dubbed with
        self._pending: queue.Queue[Job | None] = queue.Queue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    # -- what the page asks for -----------------------------------------------------------

    def jobs(self) -> dict[str, Job]:
        """The latest job of each file that has one."""
        with self._lock:
            return dict(self._jobs)

    def busy(self) -> bool:
        """Whether a dub is queued or running."""
        with self._lock:
            return any(job.running for job in self._jobs.values())

    def settings(self, media: str) -> DubSettings:
        """The settings `media` was last dubbed with here (else the defaults)."""
        return self._settings.get(media, DubSettings())

    def dub(self, media: str, settings: DubSettings, from_scratch: bool = False) -> Job:
        """Queue a dub of `media`. A file whose dub document was edited is dubbed from that
        document (the edits spoken, nothing else redone) unless `from_scratch`; a dub from
        scratch keeps the earlier dub as a version first, so no edit is lost."""
        path = self.library.media(media)
        if edited_since_dub(path) and not from_scratch:
            return self._submit(Job(media, self.settings(media), outputs_for(path).document, []))
        self._refuse_if_running(media)
        self.versions.keep(path)
        return self._submit(Job(media, settings))

    def redub(self, media: str, edits: list[LineEdit], cast: Sequence[SpeakerEdit] = ()) -> Job:
        """Apply `edits` and the speaker edits `cast` to the dub document of `media` and queue a
        re-dub from it: only the lines that changed are spoken again (the others come from the
        clip cache)."""
        document, changed = self.save_edits(media, edits, cast)
        return self._submit(Job(media, self.settings(media), document, changed))

    def save_edits(
        self, media: str, edits: list[LineEdit], cast: Sequence[SpeakerEdit] = ()
    ) -> tuple[Path, list[int]]:
        """Apply the speaker edits `cast`, then the line `edits`, to the dub document of `media`
        and save it (the file is outdated until it is re-dubbed); the document's path and the
        lines that changed."""
        self._refuse_if_running(media)
        path, document = self._document(media)
        saved, changed = len(document.history), set()
        if cast:
            styles = self._voices(document).styles
            changed.update(apply_speaker_edits(document, cast, styles))
        changed.update(apply_edits(document, edits))
        if len(document.history) > saved:
            document.save(path)
        return path, sorted(changed)

    def voices(self, media: str) -> VoiceBank:
        """The voices of the model that spoke the dub of `media` (its engines loaded, or taken
        from those loaded): the ones its speakers can be given."""
        return self._voices(self._document(media)[1])

    def _voices(self, document: DubDocument) -> VoiceBank:
        return self.engines.speaking(document.voice, engine_choice(document)).voices

    def _document(self, media: str) -> tuple[Path, DubDocument]:
        path = outputs_for(self.library.media(media)).document
        if not path.is_file():
            raise UsageError(f"{media} has no dub document yet: dub it first")
        return path, DubDocument.load(path)

    def restore(self, media: str, version: str) -> None:
        """Put a kept version of `media`'s dub back (the current one is kept in turn)."""
        path = self.library.media(media)
        self._refuse_if_running(media)
        self.versions.restore(path, version)

    def cancel(self, media: str) -> None:
        """Stop the queued or running dub of `media` (at its next progress report)."""
        with self._lock:
            job = self._jobs.get(media)
        if job is None or not job.running:
            raise UsageError(f"{media} is not being dubbed")
        job.cancelled.set()

    def close(self, timeout: float) -> None:
        """Cancel every dub and wait (up to `timeout` seconds) for the worker to stop."""
        with self._lock:
            for job in self._jobs.values():
                job.cancelled.set()
        self._pending.put(None)
        if self._worker is not None:
            self._worker.join(timeout)

    # -- the worker ------------------------------------------------------------------------

    def _refuse_if_running(self, media: str) -> None:
        with self._lock:
            job = self._jobs.get(media)
        if job is not None and job.running:
            raise UsageError(f"{media} is being dubbed: wait for it to finish or cancel it")

    def _submit(self, job: Job) -> Job:
        self._refuse_if_running(job.media)
        with self._lock:
            self._jobs[job.media] = job
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="studio-dub", daemon=True)
                self._worker.start()
        self._pending.put(job)
        self._publish(job)
        return job

    def _publish(self, job: Job) -> None:
        self.hub.publish("job", job.to_json())

    def _work(self) -> None:
        while (job := self._pending.get()) is not None:
            if job.cancelled.is_set():
                self._end(job, State.cancelled, "dub cancelled")
                continue
            job.state, job.stage = State.dubbing, "loading models"
            self._publish(job)
            try:
                self._run(job)
            except BaseException as error:  # the server keeps serving whatever a dub does
                if job.cancelled.is_set():
                    self._end(job, State.cancelled, "dub cancelled")
                    continue
                if not isinstance(error, (DubberError, OSError)):
                    log.exception("dub of %s failed", job.media)
                self._end(job, State.failed, describe_failure(error))
            else:
                self._settings[job.media] = job.settings
                self._end(job, State.dubbed)

    def _run(self, job: Job) -> None:
        started = time.perf_counter()
        media = self.library.media(job.media)
        options = job.settings.options(job.document)
        if job.document is not None:
            document = DubDocument.load(job.document)
            engines = self.engines.speaking(document.voice, engine_choice(document))
        else:
            engines = self.engines.get(job.settings.choice(), check_language=True)
        requests = plan_dubs([media], None, options, force=True)
        for report in dub_files(requests, options, engines, self.work_root, self._progress(job)):
            job.result = {
                "synthesized": report.synthesized,
                "reused": report.reused,
                "seconds": round(time.perf_counter() - started, 2),
                "remixed": round(report.remixed, 1),
                "stages": {stage.value: round(s, 2) for stage, s in report.seconds.items()},
            }

    def _progress(self, job: Job) -> Callable[[str], AbstractContextManager[Progress]]:
        last = [0.0]

        @contextmanager
        def progress(_: str) -> Iterator[Progress]:
            def report(stage: Stage, completed: float, total: float | None) -> None:
                if job.cancelled.is_set():
                    raise StoppedError("dub cancelled")
                low, high = STAGE_SPANS[Stage(stage)]
                part = min(completed / total, 1.0) if total else 0.5
                job.fraction = max(job.fraction, low + (high - low) * part)
                changed, job.stage = job.stage != stage.value, stage.value
                if changed or time.monotonic() - last[0] >= PUBLISH_EVERY_S:
                    last[0] = time.monotonic()
                    self._publish(job)

            yield report

        return progress

    def _end(self, job: Job, state: State, error: str | None = None) -> None:
        job.state, job.error, job.stage = state, error, ""
        job.fraction = 1.0 if state is State.dubbed else job.fraction
        self._publish(job)
        what = "re-dub" if job.document is not None else "dub"
        if state is State.dubbed:
            seconds = job.result.get("seconds", time.monotonic() - job.submitted)
            log.info("%s of %s done in %.1f s", what, job.media, seconds)
        elif state is State.cancelled:
            log.info("%s of %s cancelled: the file is as it was", what, job.media)
        else:
            log.warning("%s of %s failed: %s", what, job.media, error)
