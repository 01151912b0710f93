"""The value types engines produce and the protocols they implement."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class Word:
    """One recognised word with its time span in seconds."""

    text: str
    start: float
    end: float
    probability: float = 1.0


@dataclass(frozen=True)
class Segment:
    """A stretch of recognised speech."""

    text: str
    start: float
    end: float
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class TranscriptionInfo:
    """What the recogniser learnt about the whole input."""

    language: str
    language_probability: float
    duration: float


@dataclass(frozen=True)
class Hypothesis:
    """One candidate translation with its model score (log-probability, higher is better)."""

    text: str
    score: float


@dataclass(frozen=True)
class Translation:
    """All candidate translations of one source text, best first."""

    source: str
    hypotheses: tuple[Hypothesis, ...]

    @property
    def text(self) -> str:
        """The best translation."""
        return self.hypotheses[0].text if self.hypotheses else ""


@dataclass(frozen=True)
class Speech:
    """Synthesised mono audio: float32 samples in [-1, 1]."""

    samples: np.ndarray = field(repr=False)
    sample_rate: int

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate


@runtime_checkable
class Recognizer(Protocol):
    """Speech to text."""

    name: str
    multilingual: bool

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        """The most likely spoken language of 16 kHz mono audio and its probability."""
        ...

    def transcribe(
        self, audio: np.ndarray, *, language: str | None = None
    ) -> tuple[Iterator[Segment], TranscriptionInfo]:
        """Transcribe 16 kHz mono float32 audio; segments are produced lazily."""
        ...


@runtime_checkable
class Translator(Protocol):
    """Text in one language to text in another."""

    name: str
    source_language: str
    target_language: str

    def translate(self, texts: Sequence[str], *, num_hypotheses: int = 1) -> list[Translation]:
        """Translate each text; each result holds up to `num_hypotheses` candidates."""
        ...


@runtime_checkable
class Synthesizer(Protocol):
    """Text to speech."""

    name: str
    language: str
    sample_rate: int

    def synthesize(self, text: str, *, rate: float = 1.0) -> Speech:
        """Speak `text`; `rate` > 1 speaks faster, < 1 slower, through the voice's own control."""
        ...
