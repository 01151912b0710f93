"""The real-time demo: `dubber live`'s session run over a media file of the library while the
page plays it, its captions and each piece of Spanish speech streamed to the page as they are
produced, with each line's latency."""

from __future__ import annotations

import base64
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from dubber.chain.line import Line
from dubber.engines.bundle import EngineChoice
from dubber.engines.choose import Purpose
from dubber.errors import UsageError
from dubber.live.config import LiveConfig
from dubber.live.session import Captions, LiveSession
from dubber.live.sources import SamplesSource
from dubber.live.stats import end_to_audio
from dubber.media.decode import decode_audio, to_pcm16
from dubber.studio.engines import EngineCache
from dubber.studio.events import EventHub
from dubber.studio.jobs import describe_failure
from dubber.studio.library import Library

log = logging.getLogger(__name__)

LIVE_CHOICE = EngineChoice(purpose=Purpose.live)


class PageCaptions(Captions):
    """A session's captions as events; remembers its lines to report each one's latency once
    its first Spanish sample is placed."""

    def __init__(self, hub: EventHub) -> None:
        self.hub = hub
        self._lines: list[Line] = []
        self._reported: set[int] = set()
        self._lock = threading.Lock()

    def partial(self, text: str) -> None:
        self.hub.publish("live-partial", {"text": text})

    def source(self, line: Line) -> None:
        with self._lock:
            self._lines.append(line)
        self.hub.publish(
            "live-source",
            {"line": line.index, "start": line.start, "end": line.end, "text": line.source},
        )

    def translation(self, line: Line) -> None:
        self.hub.publish("live-translation", {"line": line.index, "text": line.translation})

    def report_latencies(self) -> None:
        """Publish the latency of every line whose speech has started since the last call."""
        with self._lock:
            placed = [line for line in self._lines if line.placed_start is not None]
            new = [line for line in placed if line.index not in self._reported]
            self._reported |= {line.index for line in new}
        for line in new:
            self.hub.publish(
                "live-latency",
                {"line": line.index, "seconds": round(end_to_audio(line) or 0.0, 3)},
            )


class PageTrack:
    """The session's track: each piece of Spanish speech goes to the page as 16-bit PCM with
    the input-clock time it starts at, which the page schedules against the video's clock."""

    def __init__(self, hub: EventHub, sample_rate: int, captions: PageCaptions) -> None:
        self.hub, self.sample_rate, self.captions = hub, sample_rate, captions

    def place(self, start_s: float, samples: np.ndarray) -> None:
        pcm = base64.b64encode(to_pcm16(samples).tobytes()).decode("ascii")
        self.hub.publish(
            "live-audio",
            {"start": round(start_s, 3), "rate": self.sample_rate, "samples": len(samples),
             "pcm": pcm},
        )  # fmt: skip
        self.captions.report_latencies()


class LiveDemo:
    """One real-time demo at a time, run in a thread."""

    def __init__(self, library: Library, engines: EngineCache, hub: EventHub) -> None:
        self.library, self.engines, self.hub = library, engines, hub
        self._session: LiveSession | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self.media: str | None = None

    @property
    def running(self) -> bool:
        """Whether a demo is being prepared or played."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, media: str) -> None:
        """Prepare the live pipeline for `media` and play it; the page hears `live-state`."""
        path = self.library.media(media)
        with self._lock:
            if self.running:
                raise UsageError(f"the real-time demo is playing {self.media}: stop it first")
            self.media = media
            self._stopping.clear()
            self._thread = threading.Thread(
                target=self._run, args=(media, path), name="studio-live", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """End the demo: lines already heard are still translated and spoken."""
        self._stopping.set()
        session = self._session
        if session is not None:
            session.stop()

    def close(self, timeout: float) -> None:
        """Stop the demo and wait (up to `timeout` seconds) for it to end."""
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout)

    def _state(self, state: str, **more: Any) -> None:
        self.hub.publish("live-state", {"state": state, "media": self.media, **more})

    def _run(self, media: str, path: Path) -> None:
        try:
            self._state("loading")
            engines = self.engines.get(LIVE_CHOICE)
            audio = decode_audio(path)
            captions = PageCaptions(self.hub)
            track = PageTrack(self.hub, engines.voices.sample_rate, captions)
            session = LiveSession(engines, LiveConfig(), track=track, captions=captions)
            self._state("warming")
            session.warm_up()
            if self._stopping.is_set():
                self._state("stopped")
                return
            self._session = session
            self._state("playing", voice=engines.voices.describe())
            lines = session.run(SamplesSource(audio, media))
            captions.report_latencies()
            report = session.report()
            self._state(
                "stopped" if self._stopping.is_set() else "finished", lines=len(lines),
                lag_max_s=report["lag_max_s"], warnings=report["warnings"],
            )  # fmt: skip
        except BaseException as error:  # the server keeps serving whatever a demo does
            log.warning("real-time demo of %s failed: %s", media, error)
            self._state("failed", error=describe_failure(error))
        finally:
            self._session = None
