"""The engines a dub or a live session needs, loaded once and shared by every input."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dubber.engines.choose import choose_recognizer, load_synthesizer, load_translator
from dubber.engines.types import Recognizer, Translator
from dubber.engines.voices import VoiceBank
from dubber.errors import UsageError
from dubber.settings import RuntimeOptions
from dubber.store.store import Store

log = logging.getLogger(__name__)

LANGUAGE_CHECK_SECONDS = 30
LANGUAGE_CHECK_CONFIDENCE = 0.6


@dataclass(frozen=True)
class EngineChoice:
    """What the user asked for; None or 'auto' means the best installed."""

    asr_model: str | None = None
    translator: str = "auto"
    mt_model: str | None = None
    voice: str | None = None
    match_voice_to_pitch: bool = True


@dataclass
class PipelineEngines:
    """A recogniser, a translator and the voices, plus a language detector when one exists."""

    asr_model: str
    recognizer: Recognizer
    translator: Translator
    voices: VoiceBank
    detector: Recognizer | None = None
    find_detector: Callable[[], Recognizer | None] | None = field(default=None, repr=False)

    @classmethod
    def load(
        cls,
        store: Store,
        runtime: RuntimeOptions,
        choice: EngineChoice,
        source_language: str = "en",
        target_language: str = "es",
        detect_language: bool = False,
    ) -> PipelineEngines:
        """Load every engine once (and warm the voices up by calibrating their speaking rate).

        With an English-only recogniser, the multilingual model that checks a file's language is
        loaded now when `detect_language`, else on the first check.
        """
        from dubber.engines.whisper import WhisperRecognizer

        asr_model = choice.asr_model or choose_recognizer(store, source_language).model_id
        recognizer = WhisperRecognizer(store.path(asr_model), runtime)
        translator = load_translator(
            store, choice.translator, source_language, target_language, runtime, choice.mt_model
        )
        synthesizer, voice_id = load_synthesizer(store, choice.voice, target_language, runtime)
        voices = VoiceBank.build(
            synthesizer, voice_id, choice.match_voice_to_pitch, store.home / "calibration"
        )
        if recognizer.multilingual:
            return cls(asr_model, recognizer, translator, voices, detector=recognizer)
        if detect_language:
            detector = _multilingual_detector(store, runtime)
            return cls(asr_model, recognizer, translator, voices, detector=detector)
        find = functools.partial(_multilingual_detector, store, runtime)
        return cls(asr_model, recognizer, translator, voices, find_detector=find)

    def check_language(self, audio: np.ndarray, media: Path, expected: str = "en") -> None:
        """Refuse speech that is clearly not in the expected language (when a detector exists)."""
        if self.detector is None and self.find_detector is not None:
            self.detector, self.find_detector = self.find_detector(), None
        if self.detector is None:
            log.info("no multilingual Whisper model installed: spoken language not checked")
            return
        language, probability = self.detector.detect_language(
            audio[: LANGUAGE_CHECK_SECONDS * 16000]
        )
        if language != expected and probability >= LANGUAGE_CHECK_CONFIDENCE:
            raise UsageError(
                f"{media}: the speech is in '{language}' (p={probability:.2f}), not '{expected}';"
                " dubber dubs English speech"
            )


def _multilingual_detector(store: Store, runtime: RuntimeOptions) -> Recognizer | None:
    from dubber.engines.whisper import WhisperRecognizer

    for manifest in store.catalogue.all():
        multilingual = len(manifest.source_languages) > 1
        if manifest.kind == "asr" and multilingual and store.is_installed(manifest.id):
            return WhisperRecognizer(store.path(manifest.id), runtime)
    return None
