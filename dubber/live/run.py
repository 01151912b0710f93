"""A live run from start to end: outputs opened, models warmed up, the session run, and every
output flushed however it ends (end of input, Ctrl-C or an error)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dubber.chain.glossary import Glossary
from dubber.engines.bundle import Engines
from dubber.errors import UsageError
from dubber.live.config import LiveConfig
from dubber.live.session import Captions, LiveSession
from dubber.live.sinks import PlacedTrack, SpeakerSink
from dubber.live.sources import AudioSource, FileSource, MicrophoneSource, StdinSource
from dubber.live.stats import write_stats
from dubber.live.subtitles import subtitle_path
from dubber.media.decode import AUDIO_RATE
from dubber.outputs import OutputPlan


@dataclass(frozen=True)
class LiveOutputs:
    """Where a live run's results go."""

    speakers: bool = True
    output_device: str | int | None = None
    wav: Path | None = None  # the Spanish speech placed when it was produced
    srt: Path | None = None  # NAME.srt -> NAME.en.srt and NAME.es.srt, written as lines come
    stats: Path | None = None  # per-line latencies (JSON)

    def plan(self, inputs: list[Path], force: bool, languages: tuple[str, str]) -> OutputPlan:
        """Every file the run writes (subtitles in both `languages`), to check before it
        starts."""
        plan = OutputPlan(inputs, force)
        if self.wav is not None:
            plan.add(self.wav, "Spanish speech", formats=(".wav",))
        if self.srt is not None:
            for language in languages:
                plan.add(subtitle_path(self.srt, language), f"{language} subtitles", (".srt",))
        if self.stats is not None:
            plan.add(self.stats, "latency stats", formats=(".json",))
        return plan


def open_source(
    spec: str | None, rate: int = AUDIO_RATE, microphone: str | int | None = None
) -> AudioSource:
    """A file played at real-time pace, '-' for raw PCM on stdin, or (None) the microphone."""
    if spec == "-":
        return StdinSource(rate=rate)
    if spec is not None:
        return FileSource(Path(spec))
    return MicrophoneSource(microphone)


def run_live(
    engines: Engines,
    source: AudioSource,
    config: LiveConfig,
    outputs: LiveOutputs,
    *,
    speed: float = 1.0,
    captions: Captions | None = None,
    glossary: Glossary | None = None,
    on_listening: Callable[[str], None] | None = None,
) -> LiveSession:
    """Run a live session over `source` until it ends or Ctrl-C; the session, with its lines."""
    if speed != 1.0 and not isinstance(source, FileSource):
        raise UsageError("--speed only applies to --input FILE")
    rate = engines.voices.sample_rate
    sink = SpeakerSink(outputs.output_device, rate) if outputs.speakers else None
    track = PlacedTrack(rate) if outputs.wav is not None else None
    session = LiveSession(
        engines, config, speakers=sink, track=track, srt_base=outputs.srt,
        captions=captions, glossary=glossary,
    )  # fmt: skip
    session.warm_up()
    if on_listening is not None:
        on_listening(source.description)
    try:
        session.run(source, speed)
    finally:
        if sink is not None:
            sink.close()
        if track is not None and outputs.wav is not None:
            track.write(outputs.wav, session.input_seconds)
        if outputs.stats is not None:
            write_stats(outputs.stats, session.lines, session.report())
    return session
