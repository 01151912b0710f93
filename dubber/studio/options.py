"""The options of `dubber dub` the page's dub form offers, checked as the command line checks
them, and the voices it can choose from."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dubber.chain.fit import FitRules
from dubber.chain.options import (
    BACKGROUND,
    DUCK_DB,
    MATCH_VOICE_TO_PITCH,
    MAX_RATE,
    MAX_STRETCH,
    STUDIO_DUB_OPTIONS,
)
from dubber.dub.job import DubOptions
from dubber.engines.bundle import EngineChoice
from dubber.engines.choose import choose_voice
from dubber.engines.voice import ESPEAK, Voice
from dubber.errors import UsageError
from dubber.media.mix import Background, MixRules
from dubber.store.store import Store


@dataclass(frozen=True, kw_only=True)
class DubSettings:
    """Voice, voice by pitch, background (and how far it is ducked), and the caps on speed-up
    of one dub."""

    voice: str | None = None  # None: the best installed
    match_voice_to_pitch: bool = MATCH_VOICE_TO_PITCH.default
    background: Background = BACKGROUND.default
    max_rate: float = MAX_RATE.default
    max_stretch: float = MAX_STRETCH.default
    duck_db: float = DUCK_DB.default

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DubSettings:
        """The settings a request body gives (missing ones take their defaults), each checked
        as the command line checks it."""
        unknown = set(data) - {"media", *cls.__dataclass_fields__}
        if unknown:
            raise UsageError(f"unknown dub option '{sorted(unknown)[0]}'")
        voice = data.get("voice") or None
        if voice is not None and (not isinstance(voice, str) or len(voice) > 200):
            raise UsageError("'voice' must be a voice id: MODEL[:STYLE] or espeak[:VOICE]")
        given = {
            option.name: option.check(data[option.name])
            for option in STUDIO_DUB_OPTIONS
            if option.name in data
        }
        return cls(voice=voice, **given)

    def to_json(self) -> dict[str, Any]:
        """The settings as the page shows them."""
        return asdict(self) | {"background": self.background.value}

    def options(self, document: Path | None = None) -> DubOptions:
        """The dub's options; from an edited `document` when given."""
        return DubOptions(
            fit=FitRules(max_rate=self.max_rate, max_stretch=self.max_stretch),
            mix=MixRules(background=self.background, duck_db=self.duck_db),
            document=document,
        )

    def choice(self) -> EngineChoice:
        """The engines the settings ask for: speakers told apart (each with a voice of their
        own) unless one voice is asked for every line, as `dubber dub` does."""
        one_voice = not self.match_voice_to_pitch or (self.voice is not None and ":" in self.voice)
        return EngineChoice(
            voice=self.voice, match_voice_to_pitch=self.match_voice_to_pitch, diarize=not one_voice
        )


LANGUAGE_NAMES = {"es": "Spanish", "en": "English", "fr": "French", "de": "German"}
ENGINE_NAMES = {"piper": "Piper", "kokoro": "Kokoro", "pico": "SVOX Pico"}


def voice_ids(store: Store, language: str) -> list[str]:
    """The installed voices that speak `language`, each model alone (its default style, with a
    partner of the other gender when voices follow pitch) and with each of its styles, then
    espeak-ng."""
    ids = []
    for manifest in store.catalogue.all("tts"):
        if language in manifest.target_languages and store.is_installed(manifest.id):
            ids += [manifest.id, *(f"{manifest.id}:{style}" for style in manifest.voices)]
    return [*ids, ESPEAK]


def voice_label(store: Store, voice_id: str, language: str) -> str:
    """What a voice sounds like, for people: language, female/male, native or accented,
    neural or not, then its engine and style (`Spanish, female, native, not neural: SVOX Pico
    female`)."""
    voice = Voice.parse(voice_id)
    spoken = LANGUAGE_NAMES.get(language, language)
    if voice.model == ESPEAK:
        return f"{spoken}, robotic, not neural: espeak-ng {voice.style or ''}".rstrip()
    manifest = store.catalogue.get(voice.model)
    gender = voice.gender.value if voice.gender else None
    if gender is None and voice.style is None and len(manifest.voices) > 1:
        gender = "female or male by pitch"
    parts = [spoken, gender, "native" if manifest.native else "accented"]
    parts.append("neural" if manifest.neural else "not neural")
    engine = ENGINE_NAMES.get(manifest.engine, manifest.engine)
    return f"{', '.join(p for p in parts if p)}: {engine} {voice.style or manifest.id}"


def voice_menu(store: Store, language: str) -> list[dict[str, str]]:
    """The voices the dub form offers, each with its label; the first (id "") is the best
    installed, named."""
    best, _ = choose_voice(store, language)
    labelled = [{"id": "", "label": f"best installed ({voice_label(store, str(best), language)})"}]
    for voice_id in voice_ids(store, language):
        labelled.append({"id": voice_id, "label": voice_label(store, voice_id, language)})
    return labelled
