"""Live speech-to-speech translation: capture ▶ VAD ▶ ASR ▶ MT ▶ TTS ▶ output, one thread each.

Stages are joined by bounded queues. The endpointer turns audio into utterance events; while an
utterance goes on, its growing audio is re-transcribed and the words two consecutive passes
agree on are committed (LocalAgreement): a committed sentence (or, when set, a long clause) is
spoken before the speaker stops, and a heard sentence end asks the endpointer for the confirming
pass sooner.
Speech is streamed: a line's first short clause plays while the rest is synthesised. When the
Spanish falls behind the speaker, lines are spoken faster (the voice's rate, then time-stretch)
with tighter pauses, and finished utterances waiting for ASR are merged; only a line that would
still start more than `max_lag_s` after its speech is shown but not spoken, with a warning.
With speakers in the room, what the microphone hears while they play is not translated again
(half-duplex), unless `duplex`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from dubber.chain.fit import FitRules
from dubber.chain.glossary import Glossary
from dubber.chain.line import Line, Stamp
from dubber.chain.speak import Speaker
from dubber.chain.translate import translate_lines
from dubber.engines.bundle import Engines
from dubber.engines.protocols import synthesize_all
from dubber.engines.types import TranscribeOptions
from dubber.engines.voice import Voice
from dubber.live.agreement import LocalAgreement, transcribe_words
from dubber.live.catchup import Speedup, catch_up
from dubber.live.clock import StreamClock
from dubber.live.config import LiveConfig
from dubber.live.echo import EchoGate
from dubber.live.endpoint import (
    FRAME,
    Endpointer,
    Final,
    Partial,
    SileroStream,
    VoiceActivity,
    merge,
)
from dubber.live.pipeline import DONE, Queue, StageQueues, run_stages
from dubber.live.sinks import PlacedTrack, SpeakerSink
from dubber.live.sources import AudioSource
from dubber.live.speakers import SpeakerTracker
from dubber.live.subtitles import LiveSubtitles
from dubber.live.waits import StageWaits
from dubber.media.decode import AUDIO_RATE
from dubber.media.dsp import estimate_pitch, time_stretch, trim_silence

log = logging.getLogger(__name__)


class Captions:
    """Where a session shows captions; the default shows nothing."""

    def partial(self, text: str) -> None:
        """English words of the utterance in progress."""

    def source(self, line: Line) -> None:
        """A finished English line."""

    def translation(self, line: Line) -> None:
        """Its Spanish translation."""


OUTPUT_LATENCY_S = 0.2  # speakers sound this long after a write: the echo gate covers it
PARTIAL_TOKENS_MIN = 8  # a partial pass may always decode this many tokens (and the rate's)


class LiveSession:
    """One live run over an audio source; `run()` blocks until the source ends or `stop()`."""

    def __init__(
        self,
        engines: Engines,
        config: LiveConfig | None = None,
        *,
        speakers: SpeakerSink | None = None,
        track: PlacedTrack | None = None,
        srt_base: Path | None = None,
        captions: Captions | None = None,
        glossary: Glossary | None = None,
        clock: StreamClock | None = None,
        vad: VoiceActivity | None = None,
    ) -> None:
        """`clock` (default: real time at `run`'s speed) and `vad` (default: Silero VAD) are
        what a session runs on; a test gives simulated ones."""
        self.config = config or LiveConfig()
        self.engines, self.glossary = engines, glossary
        beam = self.config.beam_size
        # the audio handed to recognition is one utterance already: no VAD
        self._final_options = TranscribeOptions(
            beam_size=beam, vad_filter=False, word_timestamps=False
        )
        self._partial_options = TranscribeOptions(
            beam_size=beam,
            vad_filter=False,
            word_timestamps=True,
            padding_s=self.config.partial_padding_s,
            temperature=(0.0,),
        )
        self._speaker = Speaker(engines.voices, FitRules())
        diarizer = engines.diarizer
        self.cast = SpeakerTracker(diarizer, engines.voices.styles) if diarizer else None
        self._speech: dict[int, np.ndarray] = {}  # a line's audio, until its speaker is known
        self._voice: Voice | None = None  # the voice of the last line spoken
        hears_itself = speakers is not None and not self.config.duplex
        self.echo = EchoGate(self.config.echo_hangover_ms / 1000) if hears_itself else None
        self.waits = StageWaits()
        # (input time, seconds after its English ended that the Spanish placed then finishes)
        self.lag: list[tuple[float, float]] = []
        self._vad = vad or SileroStream()
        self._given_clock = clock
        self.speakers, self.track = speakers, track
        languages = (engines.translator.source_language, engines.translator.target_language)
        self.subtitles = LiveSubtitles(srt_base, languages) if srt_base else None
        self.captions = captions or Captions()
        self.lines: list[Line] = []
        # utterances whose final words came from the pass run at the pause (free) or a new one
        self.finals = {"reused": 0, "decoded": 0}
        self.warnings: list[str] = []
        self.input_seconds = 0.0
        self._errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._source: AudioSource | None = None
        self._begin(clock or StreamClock())
        self._free_at = 0.0  # input time when the speech already placed finishes playing

    def warm_up(self) -> None:
        """Run every model once so the first utterance does not pay for lazy initialisation."""
        noise = np.random.default_rng(0).normal(0, 0.01, AUDIO_RATE).astype(np.float32)
        self._vad(noise[:FRAME])
        self._vad.reset()
        for options in (self._final_options, self._partial_options):
            list(self.engines.recognizer.transcribe(noise, options=options)[0])
        self.engines.translator.translate(
            ["Good morning, everyone."], beam_size=self.config.beam_size
        )
        voices = self.engines.voices
        if self.engines.diarizer is not None:
            self.engines.diarizer.embed(noise)
            for voice in voices.styles:  # every speaker's voice calibrated before anyone speaks
                voices.by_voice(voice)
        for choice in voices.choices():
            synthesize_all(choice.synthesizer, "Buenos días a todos.")

    def run(self, source: AudioSource, speed: float = 1.0) -> list[Line]:
        """Listen to `source` until it ends (or `stop()`), played `speed` times faster than real
        time on the default clock; the lines heard, in order."""
        self._source = source
        self._begin(self._given_clock or StreamClock(speed))
        stages: list[tuple[str, Callable[[], None]]] = [
            ("capture", self._capture),
            ("vad", self._endpoint),
            ("asr", self._recognise),
            ("mt", self._translate),
            ("tts", self._speak),
            ("output", self._output),
        ]
        self.clock.start()
        run_stages(stages, self._guard, self.stop)
        if self._errors:
            raise self._errors[0]
        return self.lines

    def _begin(self, clock: StreamClock) -> None:
        """Fresh queues and endpointer on `clock`: each run starts from silence."""
        self.clock = clock
        self.queues = StageQueues(clock, self.config.queue_size, self.waits)
        self._endpointer = Endpointer(self.config, self._vad)

    def stop(self) -> None:
        """Stop listening; lines already heard are still translated and spoken."""
        if self._source is not None:
            self._source.stop()

    @property
    def peak_queue(self) -> dict[Queue, int]:
        """The deepest each queue got in the last run."""
        return self.queues.peak

    # ---- reporting ----------------------------------------------------------------------

    def report(self) -> dict:
        """What the `--stats` document adds to the lines: lag over time, waits per stage."""
        lags = [lag for _, lag in self.lag]
        return {
            "lag_s": [[round(t, 2), round(lag, 2)] for t, lag in self.lag],
            "lag_max_s": round(max(lags), 3) if lags else None,
            "stage_waits_s": self.waits.report(),
            "echo_muted_s": round(self.echo.muted_s, 2) if self.echo else None,
            "final_passes": dict(self.finals),
            "warnings": list(self.warnings),
        }

    def _guard(self, name: str, work: Callable[[], None]) -> None:
        self.waits.start(name)
        try:
            work()
        except BaseException as error:  # surfaced by run(); the other stages wind down
            self._errors.append(error)
            self.queues.aborted.set()
            self.stop()

    def _warn(self, message: str) -> None:
        with self._lock:
            self.warnings.append(message)
        log.warning(message)

    # ---- stages -------------------------------------------------------------------------

    def _capture(self) -> None:
        assert self._source is not None
        for chunk in self._source.chunks(self.clock):
            if self.echo is not None:
                chunk = self.echo.mute(chunk, self.input_seconds)
            self.input_seconds += len(chunk) / AUDIO_RATE
            if not self.queues.offer(Queue.capture, chunk):
                self._warn("falling behind real time: VAD is late, dropping 32 ms of audio")
        self.queues.put(Queue.capture, DONE)

    def _endpoint(self) -> None:
        endpointer = self._endpointer
        waiting: Final | None = None  # a finished utterance the full ASR queue could not take
        while (chunk := self.queues.get(Queue.capture)) is not DONE:
            for event in endpointer.feed(chunk, self.clock.now()):
                if isinstance(event, Partial):
                    if waiting is None:
                        self.queues.offer(Queue.asr, event)
                    continue
                if waiting is not None:
                    event = merge(waiting, event)
                    self._warn(
                        f"falling behind real time: ASR is busy, merged {event.merged} "
                        "utterances into one"
                    )
                waiting = event if not self.queues.offer(Queue.asr, event) else None
            if waiting is not None and self.queues.offer(Queue.asr, waiting):
                waiting = None
        for event in ([waiting] if waiting else []) + endpointer.flush(self.clock.now()):
            self.queues.put(Queue.asr, event)
        self.queues.put(Queue.asr, DONE)

    def _recognise(self) -> None:
        states: dict[int, LocalAgreement] = {}
        recognizer = self.engines.recognizer
        while (event := self.queues.get(Queue.asr)) is not DONE:
            state = states.setdefault(
                event.utterance, LocalAgreement(clause_words=self.config.clause_words)
            )
            if isinstance(event, Partial):
                if not self.queues.empty(Queue.asr):
                    continue  # a newer pass is already waiting
                if event.speculative:
                    state.previous = transcribe_words(recognizer, event.audio, self._final_options)
                    state.heard_to = event.start + len(event.audio)
                else:
                    self._agree(event, state)
                continue
            del states[event.utterance]
            self._endpointer.hurry = False
            self._conclude(event, state)
        self.queues.put(Queue.mt, DONE)

    def _agree(self, event: Partial, state: LocalAgreement) -> None:
        seconds = len(event.audio) / AUDIO_RATE
        bound = math.ceil(seconds * self.config.partial_tokens_per_s) + PARTIAL_TOKENS_MIN
        options = dataclasses.replace(self._partial_options, max_new_tokens=bound)
        words = transcribe_words(self.engines.recognizer, event.audio, options)
        piece = state.update(words)
        self._endpointer.hurry = state.sentence_pending()
        state.heard_to = event.start + len(event.audio)
        now = self.clock.now()
        first_line = state.first_caption_s is None or state.spoken == len(piece)
        if state.first_caption_s is None and words:
            state.first_caption_s = now
        self.captions.partial(" ".join(w.text for w in words))
        if piece:
            origin = event.start / AUDIO_RATE
            spoken = event.audio[int(piece[0].start * AUDIO_RATE) : int(piece[-1].end * AUDIO_RATE)]
            self._emit_line(
                " ".join(w.text for w in piece),
                spoken,
                origin + piece[0].start,
                origin + piece[-1].end,
                now,
                state.first_caption_s if first_line else now,
                committed_early=True,
            )

    def _conclude(self, event: Final, state: LocalAgreement) -> None:
        if 0 < event.end <= state.heard_to <= event.start + len(event.audio):
            # the speculative pass heard all of this speech and nothing after a cut
            words = state.previous
            self.finals["reused"] += 1
        else:
            words = transcribe_words(self.engines.recognizer, event.audio, self._final_options)
            self.finals["decoded"] += 1
        now = self.clock.now()
        text = " ".join(w.text for w in state.rest(words)).strip()
        if not text:
            return
        start = event.start / AUDIO_RATE
        if state.spoken:
            start = min(max(start, self.lines[-1].end), event.end / AUDIO_RATE)
        caption = state.first_caption_s if state.first_caption_s is not None else now
        self._emit_line(text, event.audio, start, event.end / AUDIO_RATE, event.endpoint_s, caption)
        self.captions.partial("")

    def _emit_line(
        self,
        text: str,
        audio: np.ndarray,
        start: float,
        end: float,
        endpoint: float,
        caption: float,
        *,
        committed_early: bool = False,
    ) -> None:
        now = self.clock.now()
        line = Line(
            index=len(self.lines) + 1,
            start=start,
            end=min(end, endpoint),
            source=text,
            committed_early=committed_early,
            pitch_hz=estimate_pitch(audio, AUDIO_RATE),
        )
        line.stamps = {Stamp.endpoint: endpoint, Stamp.first_caption: min(caption, now)}
        line.stamps[Stamp.asr] = now
        if self.cast is not None:
            self._speech[line.index] = audio
        with self._lock:
            self.lines.append(line)
        self.captions.source(line)
        self.queues.put(Queue.mt, line)

    def _translate(self) -> None:
        done = False
        while not done:
            batch = [self.queues.get(Queue.mt)]
            if batch[-1] is not DONE:  # translate whatever else is waiting in one call
                batch += self.queues.take_waiting(Queue.mt)
            done = DONE in batch
            lines = [line for line in batch if line is not DONE]
            if self.cast is not None:  # who speaks: the voice the speech step will use
                for line in lines:
                    self.cast.place(line, self._speech.pop(line.index))
            translate_lines(
                lines,
                self.engines.translator,
                glossary=self.glossary,
                beam_size=self.config.beam_size,
            )
            now = self.clock.now()
            for line in lines:
                line.stamps[Stamp.mt] = now
                self.captions.translation(line)
                self.queues.put(Queue.tts, line)
        self.queues.put(Queue.tts, DONE)

    def _speak(self) -> None:
        while (line := self.queues.get(Queue.tts)) is not DONE:
            now = self.clock.now()
            if self._too_late(line, now, "before speech synthesis"):
                continue
            choice = self._speaker.prepare(line, self._voice)
            self._voice = line.voice
            start = max(now, self._free_at) + self._queued_seconds()
            spoken = choice.predict(line.translation)
            room = line.end + self.config.lag_bound_s - start
            speedup = catch_up(start - line.end, self.config, spoken_s=spoken, room_s=room)
            line.rate, line.stretch = speedup.rate, speedup.stretch
            pieces = self._speaker.stream(
                line, rate=speedup.rate, first_chars=self.config.first_piece_chars
            )
            for number, speech in enumerate(pieces):
                if number == 0:
                    line.stamps[Stamp.tts] = self.clock.now()
                self.queues.put(Queue.output, (line, self._shaped(speech.samples, speedup)))
        self.queues.put(Queue.output, DONE)

    def _shaped(self, samples: np.ndarray, speedup: Speedup) -> np.ndarray:
        """A piece stretched, with its pauses cut short, when catching up."""
        rate = self.engines.voices.sample_rate
        if speedup.tighten:
            samples = trim_silence(samples, rate)
        return time_stretch(samples, rate, speedup.stretch) if speedup.stretch > 1 else samples

    def _queued_seconds(self) -> float:
        """Seconds of Spanish the lines waiting for speech will take (predicted)."""
        lines = self.queues.peek(Queue.tts)
        voices = self.engines.voices
        return sum(voices.for_pitch(line.pitch_hz).predict(line.translation) for line in lines)

    def _too_late(self, line: Line, start: float, where: str) -> bool:
        lag = start - line.end
        if lag <= self.config.max_lag_s:
            return False
        line.dropped = f"{lag:.1f} s behind {where}"
        self._warn(
            f"falling behind real time: line {line.index} would start {lag:.1f} s after its"
            " speech; shown but not spoken"
        )
        return True

    def _output(self) -> None:
        rate = self.engines.voices.sample_rate
        while (item := self.queues.get(Queue.output)) is not DONE:
            line, samples = item
            start = max(self.clock.now(), self._free_at)
            if line.dropped or (
                line.placed_start is None and self._too_late(line, start, "at playback")
            ):
                continue
            if line.placed_start is None:
                line.placed_start = start
            line.placed_end = self._free_at = start + len(samples) / rate
            self.lag.append((start, line.placed_end - line.end))
            if self.echo is not None:
                self.echo.playing(start, line.placed_end + OUTPUT_LATENCY_S)
            if self.track is not None:
                self.track.place(start, samples)
            if self.speakers is not None:
                self.speakers.write(samples)
            if self.subtitles is not None:
                self.subtitles.update(self._spoken())
        if self.subtitles is not None:
            self.subtitles.write(self._spoken())

    def _spoken(self) -> list[Line]:
        """The lines whose speech is placed so far (the recognition thread adds lines)."""
        with self._lock:
            return [line for line in self.lines if line.placed_start is not None]
