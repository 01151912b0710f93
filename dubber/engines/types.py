"""The value types engines take and produce, frozen so that stages can share them safely."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

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


@dataclass(frozen=True, kw_only=True)
class TranscribeOptions:
    """Per-call decoding options, named as faster-whisper names them."""

    beam_size: int = 5
    vad_filter: bool = True
    word_timestamps: bool = True
    condition_on_previous_text: bool = False
    # Whisper pads its input to a 30-s window; with `padding_s` the encoder sees a short clip
    # plus this much padding only: a pass over a 5-s utterance costs half as much, a little less
    # accurate (live partial passes; measured in BENCHMARKS.md). None: the whole window.
    padding_s: float | None = None
    # faster-whisper's fallback: decoded again at the next temperature when the text looks
    # wrong (a loop); a single (0.0,) bounds the cost of a pass, as `max_new_tokens` does
    temperature: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    max_new_tokens: int | None = None


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
    fallback: str | None = None  # the translator that stood in: the main one's was unusable

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

    @classmethod
    def join(cls, pieces: Iterable[Speech], sample_rate: int) -> Speech:
        """The pieces one after another (they carry their own pauses)."""
        arrays = [piece.samples for piece in pieces]
        samples = np.concatenate(arrays).astype(np.float32) if arrays else np.zeros(0, np.float32)
        return cls(samples, sample_rate)
