"""Fake engines on the protocols of `dubber.engines.protocols`: no model, deterministic, and
recording what they were asked, so the job, the session, the server and the studio can be
tested in the fast tier (Piper ships a test voice for the same reason)."""

from __future__ import annotations

import copy
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dubber.dub.job import DubJob, DubOptions, DubReport
from dubber.dub.outputs import OutputPaths
from dubber.engines.bundle import Engines
from dubber.engines.language import LanguageCheck
from dubber.engines.protocols import Recognizer
from dubber.engines.types import (
    Hypothesis,
    Segment,
    Speech,
    TranscribeOptions,
    TranscriptionInfo,
    Translation,
    Word,
)
from dubber.engines.voice import Voice
from dubber.engines.voices import VoiceBank
from dubber.media.decode import AUDIO_RATE
from dubber.media.dsp import estimate_pitch
from dubber.media.probe import probe
from dubber.speakers.diarize import Turn

LOUD = 0.02  # RMS over which a 20 ms frame counts as speech
FRAME = AUDIO_RATE // 50


def _instant() -> None:
    """No simulated cost (the default `delay` of the fakes)."""


def loud_spans(audio: np.ndarray, min_gap: float = 0.3) -> list[tuple[float, float]]:
    """The stretches of `audio` (16 kHz) whose 20 ms frames are loud, joined over gaps shorter
    than `min_gap` seconds."""
    frames = len(audio) // FRAME
    rms = np.sqrt(np.mean(audio[: frames * FRAME].reshape(frames, FRAME) ** 2, axis=1))
    spans: list[tuple[float, float]] = []
    for index in np.flatnonzero(rms > LOUD):
        start, end = index * FRAME / AUDIO_RATE, (index + 1) * FRAME / AUDIO_RATE
        if spans and start - spans[-1][1] < min_gap:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


class ScriptedRecognizer:
    """Hears each loud stretch of the audio as the next sentence of its script (round the
    script again when it runs out), its words spread evenly over the stretch."""

    name = "fake-asr"
    multilingual = False

    def __init__(self, script: Sequence[str]) -> None:
        self.script = list(script)
        self.calls = 0
        self.delay: Callable[[], None] = _instant  # called once a call: a simulated cost

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        return "en", 1.0

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        language: str | None = None,
        options: TranscribeOptions = TranscribeOptions(),
    ) -> tuple[Iterator[Segment], TranscriptionInfo]:
        self.delay()
        self.calls += 1
        spans = loud_spans(audio)
        segments = (
            _segment(self.script[i % len(self.script)], start, end)
            for i, (start, end) in enumerate(spans)
        )
        return segments, TranscriptionInfo("en", 1.0, len(audio) / AUDIO_RATE)


def _segment(text: str, start: float, end: float) -> Segment:
    tokens = text.split()
    step = (end - start) / len(tokens)
    words = tuple(
        Word(token, start + i * step, start + (i + 1) * step) for i, token in enumerate(tokens)
    )
    return Segment(text, start, end, words)


@dataclass
class TranslatorCall:
    """One call of the fake translator."""

    texts: list[str]
    num_hypotheses: int
    max_syllables: list[int | None] | None


@dataclass
class EchoTranslator:
    """ "Translates" a text into itself marked `es:`; n-best adds versions with words dropped
    from the end; a syllable target gets the first words only. Records every call; `delay` is
    called once a call (a simulated cost)."""

    name: str = "fake-mt"
    source_language: str = "en"
    target_language: str = "es"
    length_hints: bool = True
    calls: list[TranslatorCall] = field(default_factory=list)
    delay: Callable[[], None] = _instant

    def translate(
        self,
        texts: Sequence[str],
        *,
        num_hypotheses: int = 1,
        beam_size: int | None = None,
        max_syllables: Sequence[int | None] | None = None,
    ) -> list[Translation]:
        self.delay()
        limits = list(max_syllables) if max_syllables is not None else None
        self.calls.append(TranslatorCall(list(texts), num_hypotheses, limits))
        results = []
        for i, text in enumerate(texts):
            words = text.split()
            if limits is not None and limits[i] is not None:
                words = words[: max(1, limits[i] // 2)]
            versions = [words[: len(words) - dropped] for dropped in range(num_hypotheses)]
            candidates = tuple(
                Hypothesis("es: " + " ".join(kept), -float(n))
                for n, kept in enumerate(versions)
                if kept
            )
            results.append(Translation(text, candidates))
        return results


class BeepSynthesizer:
    """Speaks a text as a tone (200 Hz) lasting 60 ms a letter and 200 ms a pause mark (times
    `pace`), faster with `rate`; one piece per sentence. `styles` it can switch to (a style
    named male or female is a gendered voice); `delay` is called before each piece (a
    simulated cost)."""

    name = "fake-tts"
    language = "es"
    sample_rate = 16000
    style: str | None = None
    styles: tuple[str, ...] = ()
    hz = 200.0
    pace = 1.0
    delay: Callable[[], None] = staticmethod(_instant)

    def __init__(
        self, style: str | None = None, styles: Sequence[str] = (), *, pace: float = 1.0
    ) -> None:
        self.style, self.styles, self.pace = style, tuple(styles), pace

    def with_style(self, style: str) -> BeepSynthesizer:
        if style not in self.styles:
            return self
        styled = copy.copy(self)
        styled.style = style
        return styled

    def synthesize(self, text: str, *, rate: float = 1.0) -> Iterator[Speech]:
        for sentence in text.split(". "):
            self.delay()
            letters = sum(c.isalnum() for c in sentence)
            pauses = sum(c in ",.;:?!" for c in sentence)
            seconds = self.pace * (0.06 * letters + 0.2 * pauses + 0.1) / rate
            t = np.arange(round(seconds * self.sample_rate)) / self.sample_rate
            tone = 0.3 * np.sin(2 * np.pi * self.hz * t)
            yield Speech(tone.astype(np.float32), self.sample_rate)


MALE, FEMALE = Voice("fake-tts", "male"), Voice("fake-tts", "female")


def fake_voices(
    calibration_dir: Path, *, match_pitch: bool = False, pace: float = 1.0
) -> VoiceBank:
    """The beep voice, calibrated into `calibration_dir` (one folder per `pace`: calibration
    is kept by voice id); with `match_pitch`, a male and a female beep voice (MALE, FEMALE)."""
    if match_pitch:
        return VoiceBank.build(
            BeepSynthesizer("male", ("male", "female"), pace=pace),
            Voice("fake-tts"),
            True,
            calibration_dir,
        )
    return VoiceBank.build(BeepSynthesizer(pace=pace), Voice("fake-tts"), False, calibration_dir)


def fake_engines(
    calibration_dir: Path,
    script: Sequence[str],
    *,
    recognizer: Recognizer | None = None,
    voices: VoiceBank | None = None,
) -> Engines:
    """Engines for a dub with no model: the scripted recogniser (or `recognizer`), the echo
    translator and the beep voice calibrated into `calibration_dir` (or `voices`)."""
    return Engines(
        asr_model="fake-asr",
        recognizer=recognizer if recognizer is not None else ScriptedRecognizer(script),
        mt_model="fake-mt",
        translator=EchoTranslator(),
        voices=voices if voices is not None else fake_voices(calibration_dir),
        check_language=LanguageCheck(),
    )


class ScriptedDiarizer:
    """Gives the speaker turns it was made with (counting its calls); its speaker encoder hears
    only pitch: voices 40 Hz apart are a right angle apart."""

    name = "fake-diarizer"

    def __init__(self, turns: Sequence[Turn] = ()) -> None:
        self.turns, self.calls = list(turns), 0

    def diarize(self, audio: np.ndarray, speakers: int | None = None) -> list[Turn]:
        self.calls += 1
        return list(self.turns)

    def embed(self, audio: np.ndarray) -> np.ndarray:
        angle = ((estimate_pitch(audio, AUDIO_RATE) or 100.0) - 100.0) / 40.0 * np.pi / 2
        return np.array([np.cos(angle), np.sin(angle)])


def beeps(spans: Sequence[tuple[float, float]], seconds: float, hz: float = 150.0) -> np.ndarray:
    """16 kHz audio of `seconds` with a tone (pitch `hz`) in each of `spans`, quiet between."""
    audio = np.zeros(round(seconds * AUDIO_RATE), np.float32)
    for start, end in spans:
        begin, stop = round(start * AUDIO_RATE), round(end * AUDIO_RATE)
        t = np.arange(stop - begin) / AUDIO_RATE
        audio[begin:stop] = 0.3 * np.sin(2 * np.pi * hz * t)
    return audio


def dub_file(engines: Engines, media: Path, output: Path, work: Path, **options) -> DubReport:
    """One file's dub with these `DubOptions`, as `dubber dub` runs it, showing no progress."""
    outputs = OutputPaths.beside(output, "en", "es")
    return DubJob(engines, DubOptions(**options), probe(media), outputs, work, _no_progress).run()


def _no_progress(*_: object) -> None:
    """A progress callback that shows nothing."""


# -- live mode: spoken words on a tape, an energy VAD and a simulated input clock ---------------

WORD_GAP = 0.06  # seconds between the words of a sentence (under any endpointing pause)
_FINGERPRINT = 0.002  # faint noise over the whole tape: every stretch of it is unique
_MIN_PIECE = 32  # samples that must match the tape (a single equal sample is chance)


@dataclass(frozen=True)
class Said:
    """A word on the tape and when it is said."""

    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Tape:
    """Fake English speech with its transcript: each word a tone burst (40 ms a letter and
    100 ms), at the pitch of its sentence's speaker, over faint noise."""

    audio: np.ndarray
    words: tuple[Said, ...]
    sentences: tuple[tuple[str, float, float], ...]  # text, start, end

    @classmethod
    def speak(
        cls,
        sentences: Sequence[str],
        *,
        pause: float | Sequence[float] = 1.5,
        hz: float | Sequence[float] = 150.0,
        lead: float = 1.0,
        tail: float = 1.5,
    ) -> Tape:
        """`sentences` said one after another, `pause` seconds apart (one, or one for each gap),
        each at its own pitch `hz`, after `lead` seconds of quiet and followed by `tail`."""
        count = len(sentences)
        pauses = [pause] * (count - 1) if isinstance(pause, (int, float)) else list(pause)
        pitches = [hz] * count if isinstance(hz, (int, float)) else list(hz)
        words: list[tuple[Said, float]] = []
        spans = []
        cursor = lead
        for number, sentence in enumerate(sentences):
            begin = cursor
            for token in sentence.split():
                length = 0.1 + 0.04 * sum(c.isalnum() for c in token)
                words.append((Said(token, cursor, cursor + length), pitches[number]))
                cursor += length + WORD_GAP
            spans.append((sentence, begin, cursor - WORD_GAP))
            cursor += (pauses[number] if number < count - 1 else tail) - WORD_GAP
        audio = np.random.default_rng(0).uniform(
            -_FINGERPRINT, _FINGERPRINT, round(cursor * AUDIO_RATE)
        )
        for said, pitch in words:
            begin, stop = round(said.start * AUDIO_RATE), round(said.end * AUDIO_RATE)
            t = np.arange(stop - begin) / AUDIO_RATE
            audio[begin:stop] += 0.3 * np.sin(2 * np.pi * pitch * t)
        return cls(audio.astype(np.float32), tuple(w for w, _ in words), tuple(spans))

    @property
    def seconds(self) -> float:
        """How long the tape plays."""
        return len(self.audio) / AUDIO_RATE

    @property
    def text(self) -> list[str]:
        """Every word said, in order."""
        return [w.text for w in self.words]


class TapeRecognizer:
    """Hears, in any audio cut from the tape (an utterance, a pass over a growing one, merged
    utterances), the tape's words more than half inside it, timed where they are in that audio:
    a recogniser that is always right. Loud audio not from the tape (an echo) is heard as
    `unknown`. `delay` is called once a call (a simulated cost)."""

    name = "fake-asr"
    multilingual = False

    def __init__(self, tape: Tape, unknown: str = "hmm") -> None:
        self.tape, self.unknown = tape, unknown
        self._order = np.argsort(tape.audio, kind="stable")
        self._sorted = tape.audio[self._order]
        self.calls = 0
        self.delay: Callable[[], None] = _instant

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        return "en", 1.0

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        language: str | None = None,
        options: TranscribeOptions = TranscribeOptions(),
    ) -> tuple[Iterator[Segment], TranscriptionInfo]:
        self.delay()
        self.calls += 1
        words = self.hear(audio)
        info = TranscriptionInfo(
            language="en", language_probability=1.0, duration=len(audio) / AUDIO_RATE
        )
        if not words:
            return iter([]), info
        text = " ".join(w.text for w in words)
        segment = Segment(text=text, start=words[0].start, end=words[-1].end, words=tuple(words))
        return iter([segment]), info

    def hear(self, audio: np.ndarray) -> list[Word]:
        """The words in `audio`, in order."""
        words: list[Word] = []
        foreign = audio.astype(np.float32).copy()
        for at, origin, length in self._pieces(audio):
            foreign[at : at + length] = 0.0
            shift = (at - origin) / AUDIO_RATE
            begin, end = origin / AUDIO_RATE, (origin + length) / AUDIO_RATE
            for said in self.tape.words:
                inside = min(said.end, end) - max(said.start, begin)
                if inside > (said.end - said.start) / 2:
                    start, stop = max(said.start, begin) + shift, min(said.end, end) + shift
                    words.append(Word(text=said.text, start=start, end=stop))
        words += [Word(text=self.unknown, start=a, end=b) for a, b in loud_spans(foreign)]
        return sorted(words, key=lambda w: w.start)

    def _pieces(self, audio: np.ndarray) -> Iterator[tuple[int, int, int]]:
        """(where in `audio`, where on the tape, how many samples) of each stretch of `audio`
        copied from the tape."""
        tape, known = self.tape.audio, self._sorted
        found = np.minimum(np.searchsorted(known, audio), len(known) - 1)
        candidates = np.flatnonzero((known[found] == audio) & (audio != 0))
        index = 0
        while index < len(candidates):
            at = int(candidates[index])
            first, last = (np.searchsorted(known, audio[at], side) for side in ("left", "right"))
            for origin in map(int, self._order[first:last]):
                span = min(len(audio) - at, len(tape) - origin)
                differ = np.flatnonzero(audio[at : at + span] != tape[origin : origin + span])
                length = int(differ[0]) if differ.size else span
                if length >= _MIN_PIECE:
                    yield at, origin, length
                    index = int(np.searchsorted(candidates, at + length)) - 1
                    break
            index += 1


class EnergyVad:
    """Stands in for Silero VAD in a live session: the speech probability of a 32 ms frame
    grows with its loudness (0.5 at the fakes' LOUD level)."""

    def reset(self) -> None:
        """Silero's state is reset between utterances; an energy detector keeps none."""

    def __call__(self, frame: np.ndarray) -> float:
        rms = float(np.sqrt(np.mean(frame.astype(np.float64) ** 2)))
        return min(1.0, rms / (2 * LOUD))


LIVE_STAGES = ("capture", "vad", "asr", "mt", "tts", "output")  # LiveSession.run's threads


class SimulatedTime:
    """A live session's input clock as a discrete-event simulation. Simulated time stands still
    while any stage thread works, and jumps to the next wake-up (the source's next chunk, the end
    of an engine's simulated cost: `spend`) once every stage thread waits, for that or for a
    queue. A session so runs as fast as the machine allows and the same way every time; engine
    work costs no simulated time unless the engine spends it.

    A session runs on it when given its `clock()`, whose queues let it see when a stage waits.
    """

    def __init__(self, stages: Sequence[str] = LIVE_STAGES) -> None:
        self.lock = threading.Lock()
        self._changed = threading.Condition(self.lock)
        self._stages = frozenset(stages)
        self.seconds = 0.0
        self._running = False
        self._members: dict[int, threading.Thread] = {}
        self._waiting: dict[int, Callable[[], bool]] = {}  # thread -> what ends its wait
        self._alarms: dict[int, float] = {}  # sleeping thread -> when it wakes

    def clock(self, speed: float = 1.0) -> SimulatedClock:
        """A StreamClock on simulated time (the speed is ignored: there is no wall clock)."""
        return SimulatedClock(self, speed)

    def queue(self, maxsize: int = 0) -> SimulatedQueue:
        """A queue.Queue whose waits the simulation sees."""
        return SimulatedQueue(self, maxsize)

    def start(self) -> None:
        """Simulated time zero: the session's threads are about to start."""
        with self.lock:
            self.seconds, self._running = 0.0, True
            self._members.clear()
        threading.Thread(target=self._tick, name="simulated-time", daemon=True).start()

    def spend(self, seconds: float) -> None:
        """The calling stage works for `seconds` of simulated time (nothing outside a run)."""
        if self._running:
            self.sleep_until(self.seconds + seconds)

    def costs(self, seconds: float) -> Callable[[], None]:
        """A fake engine's `delay` that spends `seconds`."""
        return lambda: self.spend(seconds)

    def sleep_until(self, seconds: float) -> None:
        with self.lock:
            self.wait(lambda: self.seconds >= seconds, alarm=seconds)

    def wait(
        self,
        ready: Callable[[], bool],
        timeout: float | None = None,
        alarm: float | None = None,
    ) -> bool:
        """Hold the lock: wait until `ready()` (simulated time may move on meanwhile); False
        when `timeout` (wall seconds: only an aborting session's stages reach it) runs out."""
        me = threading.current_thread()
        if self._running and me.name in self._stages:
            self._members.setdefault(me.ident, me)
        if ready() or timeout == 0:
            return ready()
        deadline = None if timeout is None else time.monotonic() + timeout
        self._waiting[me.ident] = ready
        if alarm is not None:
            self._alarms[me.ident] = alarm
        try:
            self._advance()
            while not ready():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._changed.wait(left)
            return True
        finally:
            del self._waiting[me.ident]
            self._alarms.pop(me.ident, None)

    def changed(self) -> None:
        """Hold the lock: something a waiting thread may wait for has happened."""
        self._changed.notify_all()

    def _advance(self) -> None:
        """Hold the lock: when every stage thread waits and none can go on, move simulated
        time to the earliest alarm."""
        if not self._running or len(self._members) < len(self._stages):
            return
        for ident, thread in self._members.items():
            ready = self._waiting.get(ident)
            if thread.is_alive() and (ready is None or ready()):
                return
        if self._alarms:
            self.seconds = max(self.seconds, min(self._alarms.values()))
            self._changed.notify_all()

    def _tick(self) -> None:
        """Notice the stage threads that end (they wait for nothing), until all have."""
        with self.lock:
            while self._running:
                members = list(self._members.values())
                if len(members) == len(self._stages) and not any(t.is_alive() for t in members):
                    self._running = False
                    return
                self._advance()
                self._changed.wait(0.002)


class SimulatedClock:
    """`StreamClock` on simulated time."""

    def __init__(self, simulation: SimulatedTime, speed: float = 1.0) -> None:
        self.simulation, self.speed = simulation, speed

    def start(self) -> None:
        self.simulation.start()

    def now(self) -> float:
        return self.simulation.seconds

    def sleep_until(self, input_seconds: float) -> None:
        self.simulation.sleep_until(input_seconds)

    def queue(self, maxsize: int) -> SimulatedQueue:
        return self.simulation.queue(maxsize)


class SimulatedQueue:
    """The part of `queue.Queue` a live session uses, with its waits seen by the simulation
    (`mutex` is the simulation's lock)."""

    def __init__(self, simulation: SimulatedTime, maxsize: int = 0) -> None:
        self.simulation, self.maxsize = simulation, maxsize
        self.mutex = simulation.lock
        self.queue: deque = deque()

    def qsize(self) -> int:
        return len(self.queue)

    def empty(self) -> bool:
        return not self.queue

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self.queue)

    def put(self, item: object, block: bool = True, timeout: float | None = None) -> None:
        with self.mutex:
            if not self.simulation.wait(lambda: not self.full(), timeout if block else 0):
                raise queue.Full
            self.queue.append(item)
            self.simulation.changed()

    def put_nowait(self, item: object) -> None:
        self.put(item, block=False)

    def get(self, block: bool = True, timeout: float | None = None) -> object:
        with self.mutex:
            if not self.simulation.wait(lambda: bool(self.queue), timeout if block else 0):
                raise queue.Empty
            item = self.queue.popleft()
            self.simulation.changed()
            return item

    def get_nowait(self) -> object:
        return self.get(block=False)
