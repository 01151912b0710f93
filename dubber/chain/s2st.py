"""Speech-to-speech translation of a short recording, as the server's `s2st` model and
`dubber eval s2st` do it: recognise, group into lines, translate, speak each line."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dubber.chain.fit import FitRules
from dubber.chain.glossary import Glossary
from dubber.chain.line import Line
from dubber.chain.speak import Speaker, measure_pitch
from dubber.chain.transcribe import recognise_lines
from dubber.chain.translate import translate_lines
from dubber.engines.bundle import Engines
from dubber.engines.protocols import synthesize_all
from dubber.engines.types import Speech
from dubber.media.dsp import join_with_pauses

PAUSE_SECONDS = 0.25  # between the Spanish lines


@dataclass(frozen=True)
class SpeechTranslation:
    """The lines of a recording, with their translations, and the Spanish speech of all."""

    lines: list[Line]
    speech: Speech

    @property
    def source(self) -> str:
        """Everything recognised, as one text."""
        return " ".join(line.source for line in self.lines)

    @property
    def translation(self) -> str:
        """Everything translated, as one text."""
        return " ".join(line.translation for line in self.lines)


def translate_speech(
    audio: np.ndarray, engines: Engines, glossary: Glossary | None = None
) -> SpeechTranslation:
    """16 kHz `audio` in the source language to speech in the target language."""
    language = engines.translator.source_language
    lines = [line for line in recognise_lines(engines.recognizer, audio, language=language)]
    for line in lines:
        measure_pitch(line, audio)
    translate_lines(lines, engines.translator, glossary=glossary)
    speaker = Speaker(engines.voices, FitRules())
    clips, previous = [], None
    for line in lines:
        choice = speaker.prepare(line, previous)
        previous = line.voice
        if line.translation.strip():
            clips.append(synthesize_all(choice.synthesizer, line.translation).samples)
    rate = engines.voices.sample_rate
    return SpeechTranslation(
        lines, Speech(join_with_pauses(clips, round(PAUSE_SECONDS * rate)), rate)
    )
