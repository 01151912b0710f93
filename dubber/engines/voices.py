"""The voices a dub speaks with: one, or a male and a female one chosen by the speaker's pitch."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from dubber.chain.fit import DurationModel
from dubber.engines.types import Synthesizer
from dubber.fsutil import atomic_write_text

log = logging.getLogger(__name__)

FEMALE_PITCH_HZ = 165.0  # typical adult ranges: male about 85-155 Hz, female about 165-255 Hz
# One speaker's pitch varies from line to line: a line this close to the boundary keeps the
# previous line's voice (on a 78 s call by one speaker, lines ranged 154-203 Hz).
PITCH_HYSTERESIS_HZ = 10.0


def style_gender(style: str) -> str | None:
    """'female' or 'male' from Kokoro's style naming (`ef_dora`, `jm_kumo`), else None."""
    if len(style) > 2 and style[2] == "_" and style[1] in "fm":
        return "female" if style[1] == "f" else "male"
    return None


class VoiceBank:
    """Synthesizers by gender, each with a duration model calibrated on it."""

    def __init__(self, voices: dict[str, tuple[Synthesizer, str]], calibration_dir: Path) -> None:
        self._voices = voices
        self._models = {
            gender: _calibrated(synth, voice_id, calibration_dir)
            for gender, (synth, voice_id) in voices.items()
        }
        first = next(iter(voices.values()))[0]
        self.sample_rate = first.sample_rate

    @classmethod
    def build(
        cls, synthesizer: Synthesizer, voice_id: str, match_pitch: bool, calibration_dir: Path
    ) -> VoiceBank:
        """One voice, or (when the voice has male and female styles and `match_pitch`) both."""
        voices = {"any": (synthesizer, voice_id)}
        styles = getattr(synthesizer, "styles", ())
        own = style_gender(getattr(synthesizer, "style", ""))
        if match_pitch and own and ":" not in voice_id:
            other = "male" if own == "female" else "female"
            partner = next((s for s in styles if style_gender(s) == other), None)
            if partner:
                model_id = voice_id.partition(":")[0]
                voices = {
                    own: (synthesizer, f"{model_id}:{synthesizer.style}"),
                    other: (synthesizer.with_style(partner), f"{model_id}:{partner}"),
                }
        return cls(voices, calibration_dir)

    def describe(self) -> str:
        """The voice ids, e.g. `kokoro-82m-offline:jm_kumo` or `female=...,male=...`."""
        if "any" in self._voices:
            return self._voices["any"][1]
        return ",".join(f"{g}={v[1]}" for g, v in sorted(self._voices.items()))

    def for_pitch(
        self, pitch_hz: float | None, previous: str | None = None
    ) -> tuple[Synthesizer, str, Callable[[str], float]]:
        """The synthesizer, its id and its duration predictor for a speaker of this pitch;
        `previous` (the voice id of the line before) is kept unless the pitch is clearly on the
        other side of the boundary."""
        if "any" in self._voices:
            gender = "any"
        elif pitch_hz is None:
            gender = self._gender_of(previous) or next(iter(self._voices))
        else:
            gender = "female" if pitch_hz >= FEMALE_PITCH_HZ else "male"
            if abs(pitch_hz - FEMALE_PITCH_HZ) < PITCH_HYSTERESIS_HZ:
                gender = self._gender_of(previous) or gender
        return self._choice(gender)

    def by_id(self, voice_id: str) -> tuple[Synthesizer, str, Callable[[str], float]] | None:
        """The voice with this id (as a dub document records it), if the bank has it."""
        gender = self._gender_of(voice_id)
        return self._choice(gender) if gender else None

    def _gender_of(self, voice_id: str | None) -> str | None:
        return next((g for g, (_, v) in self._voices.items() if v == voice_id), None)

    def _choice(self, gender: str) -> tuple[Synthesizer, str, Callable[[str], float]]:
        synthesizer, voice_id = self._voices[gender]
        return synthesizer, voice_id, self._models[gender].predict


def _calibrated(synthesizer: Synthesizer, voice_id: str, folder: Path) -> DurationModel:
    """The voice's duration model, measured once and kept in `folder`."""
    path = folder / f"{voice_id.replace(':', '_').replace('/', '_')}.json"
    if path.exists():
        return DurationModel(**json.loads(path.read_text(encoding="utf-8")))
    log.info("calibrating speaking rate of %s", voice_id)
    model = DurationModel.calibrate(synthesizer)
    atomic_write_text(path, json.dumps(asdict(model)))
    return model
