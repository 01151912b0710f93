"""The voices a line can be spoken with: one, or a male and a female one chosen by pitch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dubber.engines.duration import DurationModel, calibrated
from dubber.engines.protocols import Synthesizer
from dubber.engines.voice import Gender, Voice

FEMALE_PITCH_HZ = 165.0  # typical adult ranges: male about 85-155 Hz, female about 165-255 Hz
# One speaker's pitch varies from line to line: a line this close to the boundary keeps the
# previous line's voice (on a 78 s call by one speaker, lines ranged 154-203 Hz).
PITCH_HYSTERESIS_HZ = 10.0


@dataclass(frozen=True)
class VoiceChoice:
    """A voice ready to speak: its id, the loaded synthesizer and its duration model."""

    voice: Voice
    synthesizer: Synthesizer
    duration: DurationModel

    def predict(self, text: str) -> float:
        """Seconds this voice takes to say `text` at rate 1."""
        return self.duration.predict(text)


class VoiceBank:
    """One voice for every line, or one per gender when the speaker's pitch picks it; and, for
    the speakers of a cast, any other style of the same model, loaded when first asked for."""

    def __init__(
        self,
        choices: dict[Gender | None, VoiceChoice],
        styles: tuple[Voice, ...] = (),
        load: Callable[[Voice], VoiceChoice] | None = None,
    ) -> None:
        """`choices` has the single voice under None, or a voice under each Gender; `styles`
        are the other voices `load` can make."""
        self._choices = choices
        self._styles, self._load = styles, load
        self._loaded: dict[Voice, VoiceChoice] = {c.voice: c for c in choices.values()}
        self.sample_rate = next(iter(choices.values())).synthesizer.sample_rate

    @classmethod
    def build(
        cls, synthesizer: Synthesizer, voice: Voice, match_pitch: bool, calibration_dir: Path
    ) -> VoiceBank:
        """One voice; or, when `match_pitch` and the model has styles of both genders and none
        was asked for, the loaded style and one of the other gender."""
        own = voice.with_style(synthesizer.style)
        pair: dict[Gender | None, Voice] = {None: own}
        if match_pitch and voice.style is None and own.gender is not None:
            others = (voice.with_style(style) for style in synthesizer.styles)
            partner = next((v for v in others if v.gender not in (None, own.gender)), None)
            if partner is not None:
                pair = {own.gender: own, partner.gender: partner}

        def load(chosen: Voice) -> VoiceChoice:
            styled = synthesizer
            if chosen.style != synthesizer.style and chosen.style is not None:
                styled = synthesizer.with_style(chosen.style)
            return VoiceChoice(chosen, styled, calibrated(styled, chosen, calibration_dir))

        styles = tuple(voice.with_style(style) for style in synthesizer.styles)
        return cls({gender: load(chosen) for gender, chosen in pair.items()}, styles, load)

    @property
    def matches_pitch(self) -> bool:
        """Whether lines are voiced by the speaker's pitch (the bank has a voice per gender)."""
        return None not in self._choices

    def describe(self) -> str:
        """The voice ids, e.g. `kokoro-82m-offline:jm_kumo` or `female=...,male=...`."""
        if not self.matches_pitch:
            return str(self._choices[None].voice)
        return ",".join(f"{g.value}={c.voice}" for g, c in sorted(self._choices.items()))

    def for_pitch(self, pitch_hz: float | None, previous: Voice | None = None) -> VoiceChoice:
        """The voice for a speaker of this pitch; `previous` (the voice of the line before) is
        kept unless the pitch is clearly on the other side of the boundary."""
        if not self.matches_pitch:
            return self._choices[None]
        kept = self.by_voice(previous) if previous else None
        if pitch_hz is None or (kept and abs(pitch_hz - FEMALE_PITCH_HZ) < PITCH_HYSTERESIS_HZ):
            return kept or next(iter(self._choices.values()))
        return self._choices[Gender.female if pitch_hz >= FEMALE_PITCH_HZ else Gender.male]

    def by_voice(self, voice: Voice) -> VoiceChoice | None:
        """The bank's choice with this id (as a dub document records it), if it has it or it
        is another style of the bank's model (loaded now)."""
        if voice not in self._loaded and voice in self._styles and self._load is not None:
            self._loaded[voice] = self._load(voice)
        return self._loaded.get(voice)

    @property
    def styles(self) -> tuple[Voice, ...]:
        """Every voice the bank can speak with (the styles of its model), for a cast."""
        return self._styles or tuple(self._loaded)

    def choices(self) -> list[VoiceChoice]:
        """Every voice of the bank."""
        return list(self._choices.values())
