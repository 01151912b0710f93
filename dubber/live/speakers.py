"""Live: who says each line. The speaker encoder's embedding of a line's speech is matched to
the speakers heard before (`VoicePrints`); each speaker keeps the voice they were given when
first heard."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dubber.chain.cast import CastMember, VoicePrints
from dubber.chain.line import Line
from dubber.engines.protocols import Diarizer
from dubber.engines.voice import Voice
from dubber.media.decode import AUDIO_RATE

MIN_SPEECH_S = 1.0  # a shorter line is too short to tell: it is the previous speaker's


class SpeakerTracker:
    """The cast of a live session, built as lines come."""

    def __init__(self, diarizer: Diarizer, voices: Sequence[Voice]) -> None:
        self._diarizer = diarizer
        self._prints = VoicePrints(voices)
        self._last: str | None = None

    @property
    def cast(self) -> dict[str, CastMember]:
        """The speakers heard so far, by label."""
        return self._prints.cast

    def place(self, line: Line, audio: np.ndarray) -> None:
        """Give `line` (its speech: `audio`, 16 kHz) its speaker and that speaker's voice."""
        label = self._last
        if label is None or len(audio) >= MIN_SPEECH_S * AUDIO_RATE:
            label = self._prints.identify(self._diarizer.embed(audio), line.pitch_hz)
        self._last = line.speaker = label
        line.voice = self.cast[label].voice
