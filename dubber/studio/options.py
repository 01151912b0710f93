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
from dubber.engines.voice import ESPEAK
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
        """The engines the settings ask for."""
        return EngineChoice(voice=self.voice, match_voice_to_pitch=self.match_voice_to_pitch)


def voice_ids(store: Store, language: str) -> list[str]:
    """The installed voices that speak `language`, each model alone (its default style, with a
    partner of the other gender when voices follow pitch) and with each of its styles, then
    espeak-ng."""
    ids = []
    for manifest in store.catalogue.all("tts"):
        if language in manifest.target_languages and store.is_installed(manifest.id):
            ids += [manifest.id, *(f"{manifest.id}:{style}" for style in manifest.voices)]
    return [*ids, ESPEAK]
