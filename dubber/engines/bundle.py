"""The engines a command works with, loaded together, and what the user asked for."""

from __future__ import annotations

from dataclasses import dataclass

from dubber.engines.choose import Purpose
from dubber.engines.language import LanguageCheck
from dubber.engines.protocols import Diarizer, Recognizer, Translator
from dubber.engines.voices import VoiceBank


@dataclass(frozen=True, kw_only=True)
class EngineChoice:
    """What the user asked for; None or 'auto' means the best installed."""

    asr_model: str | None = None
    translator: str = "auto"  # auto | opusmt | apertium
    mt_model: str | None = None
    voice: str | None = None
    match_voice_to_pitch: bool = True
    source_language: str = "en"
    target_language: str = "es"
    purpose: Purpose = Purpose.dub  # what `auto` picks a voice for
    voice_threads: int | None = None  # the voice's own CPU budget (live); None: the runtime's
    diarize: bool = False  # tell speakers apart (when the speaker encoder is installed)


@dataclass
class Engines:
    """A recogniser, a translator and the voices, and the check of the spoken language."""

    asr_model: str
    recognizer: Recognizer
    mt_model: str  # a catalogue id, or "apertium"
    translator: Translator
    voices: VoiceBank
    check_language: LanguageCheck
    diarizer: Diarizer | None = None  # None: every line is one speaker's
