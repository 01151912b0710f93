"""Fake engines on the protocols of `dubber.engines.protocols`: no model, deterministic, and
recording what they were asked, so the job, the session, the server and the studio can be
tested in the fast tier (Piper ships a test voice for the same reason)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dubber.engines.bundle import Engines
from dubber.engines.language import LanguageCheck
from dubber.engines.types import (
    AUDIO_RATE,
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

LOUD = 0.02  # RMS over which a 20 ms frame counts as speech
FRAME = AUDIO_RATE // 50


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

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        return "en", 1.0

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        language: str | None = None,
        options: TranscribeOptions = TranscribeOptions(),
    ) -> tuple[Iterator[Segment], TranscriptionInfo]:
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
    from the end; a syllable target gets the first words only. Records every call."""

    name: str = "fake-mt"
    source_language: str = "en"
    target_language: str = "es"
    length_hints: bool = True
    calls: list[TranslatorCall] = field(default_factory=list)

    def translate(
        self,
        texts: Sequence[str],
        *,
        num_hypotheses: int = 1,
        beam_size: int | None = None,
        max_syllables: Sequence[int | None] | None = None,
    ) -> list[Translation]:
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
    """Speaks a text as a 200 Hz tone lasting 60 ms a letter and 200 ms a pause mark, faster
    with `rate`; one piece per sentence."""

    name = "fake-tts"
    language = "es"
    sample_rate = 16000
    style = None
    styles: tuple[str, ...] = ()

    def with_style(self, style: str) -> BeepSynthesizer:
        return self

    def synthesize(self, text: str, *, rate: float = 1.0) -> Iterator[Speech]:
        for sentence in text.split(". "):
            letters = sum(c.isalnum() for c in sentence)
            pauses = sum(c in ",.;:?!" for c in sentence)
            seconds = (0.06 * letters + 0.2 * pauses + 0.1) / rate
            t = np.arange(round(seconds * self.sample_rate)) / self.sample_rate
            yield Speech((0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), self.sample_rate)


def fake_engines(calibration_dir: Path, script: Sequence[str]) -> Engines:
    """Engines for a dub with no model: the scripted recogniser, the echo translator and the
    beep voice (calibrated into `calibration_dir`)."""
    voices = VoiceBank.build(BeepSynthesizer(), Voice("fake-tts"), False, calibration_dir)
    return Engines(
        asr_model="fake-asr",
        recognizer=ScriptedRecognizer(script),
        mt_model="fake-mt",
        translator=EchoTranslator(),
        voices=voices,
        check_language=LanguageCheck(),
    )


def beeps(spans: Sequence[tuple[float, float]], seconds: float, hz: float = 150.0) -> np.ndarray:
    """16 kHz audio of `seconds` with a tone (pitch `hz`) in each of `spans`, quiet between."""
    audio = np.zeros(round(seconds * AUDIO_RATE), np.float32)
    for start, end in spans:
        begin, stop = round(start * AUDIO_RATE), round(end * AUDIO_RATE)
        t = np.arange(stop - begin) / AUDIO_RATE
        audio[begin:stop] = 0.3 * np.sin(2 * np.pi * hz * t)
    return audio
