"""The line: one sentence-sized piece of speech carried through every stage of every command.

Recognition gives it its source text, words and time slot; translation its candidates; the speak
step its voice, translation and fit; live mode stamps the times it crossed each stage. Stages add
to it; none reaches back into another, and `stage` says how far it has come. In live mode a line
belongs to one stage thread at a time: each hands it on through a queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from dubber.chain.fit import FitOutcome
from dubber.engines.types import Hypothesis, Word
from dubber.engines.voice import Voice


class LineStage(str, Enum):
    """How far a line has come, in the order the stages take it."""

    heard = "heard"  # recognised: its source text, words and slot
    translated = "translated"  # its candidate translations, none chosen yet
    chosen = "chosen"  # its translation chosen (by length, the only candidate, or given)
    placed = "placed"  # its speech placed in the output (or first played)
    dropped = "dropped"  # live: shown but not spoken


class Stamp(str, Enum):
    """Where a live line was when it was stamped, in pipeline order (input-clock seconds)."""

    endpoint = "endpoint"  # VAD (or agreement) decided the line was complete
    first_caption = "first_caption"  # its first English words were shown
    asr = "asr"  # recognised
    mt = "mt"  # translated
    tts = "tts"  # its first piece of speech synthesised


@dataclass
class Line:
    """One sentence-sized piece of speech; each stage fills in its part."""

    index: int
    start: float  # the original speech, in seconds
    end: float
    source: str
    words: list[Word] = field(default_factory=list)
    speaker: str | None = None  # who says it (diarization's label, e.g. "S1"), if known
    hypotheses: list[Hypothesis] = field(default_factory=list)
    translation: str | None = None  # chosen from the candidates (or given); None until then
    voice: Voice | None = None
    pitch_hz: float | None = None
    rate: float = 1.0  # the voice's own speed-up
    stretch: float = 1.0  # time-stretch on top of it
    placed_start: float | None = None  # where its speech was placed (or first played)
    placed_end: float | None = None
    fit: FitOutcome | None = None
    stamps: dict[Stamp, float] = field(default_factory=dict)
    committed_early: bool = False  # live: spoken while the speaker went on
    dropped: str | None = None  # live: why it was shown but not spoken
    flags: dict[str, str] = field(default_factory=dict)  # what an editor should check, and why

    @property
    def stage(self) -> LineStage:
        """The last stage the line has been through."""
        if self.dropped is not None:
            return LineStage.dropped
        if self.placed_start is not None:
            return LineStage.placed
        if self.translation is not None:
            return LineStage.chosen
        return LineStage.translated if self.hypotheses else LineStage.heard

    @property
    def slot(self) -> float:
        """Seconds the original speaker took."""
        return self.end - self.start

    @property
    def speedup(self) -> float:
        """How much faster than natural it was spoken: rate x stretch."""
        return self.rate * self.stretch
