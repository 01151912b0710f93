"""Loading engines: one stage at a time for the component commands, or all of them, locally or
on a `dubber serve` server, for dub, live, serve and eval."""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from dubber.engines.bundle import EngineChoice, Engines
from dubber.engines.choose import (
    APERTIUM,
    Choice,
    Purpose,
    choose_recognizer,
    choose_translator,
    choose_voice,
)
from dubber.engines.language import LanguageCheck
from dubber.engines.protocols import Diarizer, Recognizer, Synthesizer, Translator
from dubber.engines.voice import ESPEAK, Voice
from dubber.engines.voices import VoiceBank
from dubber.errors import DamagedModelError, ModelNotInstalledError, UsageError
from dubber.settings import RuntimeOptions
from dubber.store.catalogue import Manifest
from dubber.store.store import Store

if TYPE_CHECKING:
    from dubber.engines.llm import Decoder

log = logging.getLogger(__name__)


def load_engines(
    store: Store,
    runtime: RuntimeOptions,
    choice: EngineChoice,
    *,
    check_language: bool = False,
    server: str | None = None,
) -> Engines:
    """Every engine, loaded once and warmed up (the voices calibrate their speaking rate); on
    the `dubber serve` server at `server` when given, which honours the choice or refuses it.

    With an English-only recogniser, the multilingual model that checks a file's language is
    loaded now when `check_language`, else on the first check.
    """
    if server:
        from dubber.engines.remote import connect

        return connect(server, choice, store)
    # Every model is decided (and a wrong name refused) before any is loaded.
    if choice.asr_model:
        asr_model = resolve_model(store, choice.asr_model, "asr").id
    else:
        asr_model = choose_recognizer(store, choice.source_language).model_id
    source, target = choice.source_language, choice.target_language
    mt_choice = translator_choice(
        store, choice.translator, source, target, choice.mt_model, choice.purpose, runtime.device
    )
    if mt_choice.model_id != APERTIUM:
        mt_choice = Choice(resolve_model(store, mt_choice.model_id, "mt").id, mt_choice.reason)
    voice = Voice.parse(choice.voice) if choice.voice else None
    if voice is not None and voice.model != ESPEAK:
        resolve_model(store, voice.model, "tts")
    recognizer = load_recognizer(store, asr_model, runtime)
    translator = load_translator(store, "auto", source, target, runtime, choice=mt_choice)
    voice_runtime = runtime
    if choice.voice_threads:
        voice_runtime = dataclasses.replace(runtime, threads=choice.voice_threads)
    synthesizer, voice = load_synthesizer(
        store, voice, choice.target_language, voice_runtime, choice.purpose
    )
    voices = VoiceBank.build(
        synthesizer, voice, choice.match_voice_to_pitch, store.home / "calibration"
    )
    if recognizer.multilingual:
        language = LanguageCheck(recognizer)
    elif check_language:
        language = LanguageCheck(_multilingual_recognizer(store, runtime))
    else:
        language = LanguageCheck(find=functools.partial(_multilingual_recognizer, store, runtime))
    diarizer = load_diarizer(store) if choice.diarize else None
    return Engines(
        asr_model, recognizer, mt_choice.model_id, translator, voices, language, diarizer
    )


def load_diarizer(store: Store) -> Diarizer | None:
    """The speaker encoder's diarizer, or None (said once, with how to install it) when the
    encoder is not installed: then dubs voice each line by its pitch, as before."""
    from dubber.engines.diarizer import ENCODER_MODEL, SpeakerDiarizer

    try:
        folder = store.prepare(ENCODER_MODEL)
    except ModelNotInstalledError as missing:
        log.info("speakers are not told apart: %s", missing)
        return None
    return SpeakerDiarizer(folder)


def resolve_model(store: Store, model_id: str, kind: str) -> Manifest:
    """The catalogue entry of `model_id` (or a faster-whisper name such as `tiny.en`), which
    must be a model of `kind`."""
    manifest = store.catalogue.get(model_id)
    if manifest.kind != kind:
        what = {"asr": "a speech recogniser", "mt": "a translator", "tts": "a voice"}[kind]
        raise UsageError(f"'{manifest.id}' is a {manifest.kind} model, not {what}")
    return manifest


def load_recognizer(store: Store, model_id: str | None, runtime: RuntimeOptions) -> Recognizer:
    """Load the named Whisper model, or the best installed one for English."""
    from dubber.engines.whisper import WhisperRecognizer

    choice = Choice(model_id, "asked for") if model_id else choose_recognizer(store)
    manifest = resolve_model(store, choice.model_id, "asr")
    log.info("speech recognition: %s (%s)", manifest.id, choice.reason)
    with loading(store, manifest.id):
        return WhisperRecognizer(store.prepare(manifest.id), runtime)


def load_translator(
    store: Store,
    engine: str,
    source: str,
    target: str,
    runtime: RuntimeOptions,
    model_id: str | None = None,
    *,
    choice: Choice | None = None,
) -> Translator:
    """Load a translator: engine 'opusmt', 'llm', 'apertium' or 'auto' (the best installed), or
    the `choice` already made."""
    from dubber.engines.apertium import ApertiumTranslator
    from dubber.engines.opusmt import OpusMTTranslator

    choice = choice or translator_choice(
        store, engine, source, target, model_id, device=runtime.device
    )
    log.info("translation: %s (%s)", choice.model_id, choice.reason)
    if choice.model_id == APERTIUM:
        return ApertiumTranslator(source, target)
    manifest = resolve_model(store, choice.model_id, "mt")
    if manifest.engine == "llm":
        from dubber.engines.llm import LLMTranslator

        with loading(store, manifest.id):
            decoder = load_llm(store, manifest.id, runtime)
        return LLMTranslator(
            decoder,
            fallback=ApertiumTranslator(source, target),
            source_language=source,
            target_language=target,
        )
    with loading(store, manifest.id):
        return OpusMTTranslator(
            store.prepare(manifest.id),
            runtime,
            source_language=manifest.source_languages[0],
            target_language=manifest.target_languages[0],
        )


def load_llm(store: Store, model_id: str, runtime: RuntimeOptions) -> Decoder:
    """The LLM `model_id` on the runtime for `runtime.device`, loaded once per process: every
    translator made for it (translate, dub, the server, the studio's dubs) shares it."""
    from dubber.engines.llm.runtimes import runtime_for

    name = runtime_for(runtime.device)
    folder = store.prepare(model_id, name)
    log.info("LLM runtime: %s (%s)", name, runtime.device)
    return _loaded_llm(folder, name, runtime)


@functools.lru_cache(maxsize=1)
def _loaded_llm(folder: Path, name: str, runtime: RuntimeOptions) -> Decoder:
    from dubber.engines.llm.runtimes import load_decoder

    return load_decoder(folder, name, runtime)


def load_synthesizer(
    store: Store,
    voice: Voice | None,
    language: str,
    runtime: RuntimeOptions,
    purpose: Purpose = Purpose.dub,
) -> tuple[Synthesizer, Voice]:
    """Load a voice (`MODEL[:STYLE]`, `espeak[:VOICE]`), or the best one for `language` and
    `purpose`; returns it with its id (the model's catalogue id)."""
    if voice is None:
        voice, reason = choose_voice(store, language, purpose)
    else:
        reason = "asked for"
    log.info("voice: %s (%s)", voice, reason)
    if voice.model == ESPEAK:
        from dubber.engines.espeak import EspeakSynthesizer

        return EspeakSynthesizer(voice=voice.style or language), voice
    manifest = resolve_model(store, voice.model, "tts")
    voice = Voice(manifest.id, voice.style)
    if voice.style and manifest.voices and voice.style not in manifest.voices:
        raise UsageError(
            f"{manifest.id} has no style '{voice.style}': choose one of"
            f" {', '.join(manifest.voices)}"
        )
    with loading(store, manifest.id):
        if manifest.engine == "piper":
            from dubber.engines.piper import PiperSynthesizer

            return PiperSynthesizer(store.prepare(manifest.id), runtime, speaker=voice.style), voice
        if manifest.engine == "pico":
            from dubber.engines.pico import PicoSynthesizer

            store.prepare(manifest.id)  # its lingware is whole
            return PicoSynthesizer(voice.style), voice
        from dubber.engines.kokoro import KokoroSynthesizer

        synthesizer = KokoroSynthesizer.from_dir(
            store.prepare(manifest.id), style=voice.style, language=language, runtime=runtime
        )
    return synthesizer, voice


@contextmanager
def loading(store: Store, model_id: str) -> Iterator[None]:
    """An engine that cannot read its model's files names the model and how to repair it."""
    try:
        yield
    except DamagedModelError:
        raise
    except (RuntimeError, OSError, ValueError, KeyError) as error:
        problem = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise DamagedModelError(model_id, problem, store.repair(model_id)) from error


def translator_choice(
    store: Store,
    engine: str,
    source: str,
    target: str,
    model_id: str | None = None,
    purpose: Purpose = Purpose.dub,
    device: str = "cpu",
) -> Choice:
    """The translation model the engine and model options name, or the best installed."""
    if engine == APERTIUM or model_id == APERTIUM:
        return Choice(APERTIUM, "asked for")
    if model_id:
        return Choice(model_id, "asked for")
    if engine == "opusmt":
        return Choice(f"opus-mt-{source}-{target}", "asked for")
    if engine == "llm":
        return Choice(default_llm(store), "asked for")
    return choose_translator(store, source, target, purpose, device)


def default_llm(store: Store) -> str:
    """The LLM translator to use: the best installed, else the one the PyPI packs give."""
    llms = sorted(store.catalogue.all("mt"), key=lambda m: -m.quality)
    installed = [m.id for m in llms if m.engine == "llm" and store.is_installed(m.id)]
    packs = [m.id for m in llms if m.engine == "llm" and m.packs]
    if not installed and not packs:
        raise UsageError("no LLM translator in the catalogue: update dubber")
    return (installed or packs)[0]


def _multilingual_recognizer(store: Store, runtime: RuntimeOptions) -> Recognizer | None:
    for manifest in store.catalogue.all("asr"):
        if len(manifest.source_languages) > 1 and store.is_installed(manifest.id):
            return load_recognizer(store, manifest.id, runtime)
    return None
