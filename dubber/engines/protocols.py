"""What every engine of a stage implements, local or remote.

Options travel as per-call keyword arguments, so a remote engine forwards exactly what a local
one would be asked for; nothing is set on concrete classes behind the protocol's back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from dubber.engines.types import Segment, Speech, TranscribeOptions, TranscriptionInfo, Translation
from dubber.speakers.diarize import Turn


@runtime_checkable
class Recognizer(Protocol):
    """Speech to text."""

    name: str
    multilingual: bool

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        """The most likely spoken language of 16 kHz mono audio and its probability."""
        ...

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        language: str | None = None,
        options: TranscribeOptions = TranscribeOptions(),
    ) -> tuple[Iterator[Segment], TranscriptionInfo]:
        """Transcribe 16 kHz mono float32 audio; segments are produced lazily."""
        ...


@runtime_checkable
class Translator(Protocol):
    """Text in one language to text in another."""

    name: str
    source_language: str
    target_language: str
    length_hints: bool  # whether it can aim at `max_syllables` (engines that cannot ignore it)

    def translate(
        self,
        texts: Sequence[str],
        *,
        num_hypotheses: int = 1,
        beam_size: int | None = None,
        max_syllables: Sequence[int | None] | None = None,
    ) -> list[Translation]:
        """Translate each text; each result holds up to `num_hypotheses` candidates. `beam_size`
        None keeps the engine's own; engines without a beam ignore it. `max_syllables` asks, text
        by text (None: no limit), for translations short enough to say in that many syllables."""
        ...


@runtime_checkable
class Synthesizer(Protocol):
    """Text to speech, in pieces as they are made (as Piper's own `synthesize` yields them)."""

    name: str
    language: str
    sample_rate: int
    style: str | None  # the style (speaker, voice) it speaks with; None: the model has one
    styles: tuple[str, ...]  # every style the loaded model can switch to

    def with_style(self, style: str) -> Synthesizer:
        """The same loaded model speaking with another of its styles."""
        ...

    def synthesize(self, text: str, *, rate: float = 1.0) -> Iterator[Speech]:
        """Speak `text`, a piece (a sentence, or a clause of a long one) at a time; each piece
        ends with the pause that follows it, so the pieces play back to back. `rate` > 1 speaks
        faster, < 1 slower, through the voice's own control."""
        ...


@runtime_checkable
class Diarizer(Protocol):
    """Who spoke when: speaker turns of a recording, speakers numbered from 0 in order of
    first appearance."""

    name: str

    def diarize(self, audio: np.ndarray, speakers: int | None = None) -> list[Turn]:
        """Turns of 16 kHz mono `audio`; `speakers` fixes how many there are (None: found)."""
        ...

    def embed(self, audio: np.ndarray) -> np.ndarray:
        """The voice of one speaker's 16 kHz speech as a unit vector (cosine: alike)."""
        ...


def synthesize_all(synthesizer: Synthesizer, text: str, *, rate: float = 1.0) -> Speech:
    """The whole of `text` spoken, as one clip."""
    return Speech.join(synthesizer.synthesize(text, rate=rate), synthesizer.sample_rate)
