"""The cast: the speakers diarization found in a file, their names, and the voice each is dubbed
with, distinct for every speaker and the same for all of one speaker's lines."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dubber.chain.line import Line
from dubber.engines.voice import Gender, Voice
from dubber.engines.voices import FEMALE_PITCH_HZ
from dubber.errors import UsageError
from dubber.speakers.cluster import ClusterRules

SAME_SPEAKER = 1.0 - ClusterRules.threshold  # cosine similarity of two voices of one speaker


@dataclass
class CastMember:
    """One speaker: the label diarization gave (`S1`), the name people see (the label until
    someone renames it), the voice that speaks their lines and their median pitch."""

    label: str
    name: str
    voice: Voice | None = None
    pitch_hz: float | None = None

    @property
    def gender(self) -> Gender | None:
        """Whom the speaker sounds like, by pitch; unknown without one."""
        if self.pitch_hz is None:
            return None
        return Gender.female if self.pitch_hz >= FEMALE_PITCH_HZ else Gender.male


def speaker_label(number: int) -> str:
    """The label of diarization's speaker `number` (from 0): `S1`, `S2`, ..."""
    return f"S{number + 1}"


def assign_voices(cast: Mapping[str, CastMember], voices: Sequence[Voice]) -> None:
    """Give every member without a voice one of `voices`: women the female ones and men the
    male ones (by pitch), each voice used once while there are enough. Of a gender's free voices
    the model's own (`male`) comes first, then its neighbours (`male-low`, `male-high`), and the
    members take them in pitch order: lowest pitch, lowest voice."""
    taken = {member.voice for member in cast.values() if member.voice is not None}
    waiting = [m for m in cast.values() if m.voice is None]
    for gender in {member.gender for member in waiting}:
        members = sorted((m for m in waiting if m.gender == gender), key=lambda m: m.pitch_hz or 0)
        fitting = [v for v in voices if gender is None or v.gender in (gender, None)]
        pool = _low_to_high(fitting or voices)
        free = [v for v in pool if v not in taken] or pool
        natural = next((i for i, v in enumerate(free) if _variant(v) == ""), len(free) // 2)
        first = min(max(natural - len(members) // 2, 0), max(len(free) - len(members), 0))
        for number, member in enumerate(members):
            member.voice = free[(first + number) % len(free)]
            taken.add(member.voice)


def _variant(voice: Voice) -> str:
    """`low`, `high` or "" (the model's own) of a variant style such as `male-low`."""
    return (voice.style or "").partition("-")[2]


def _low_to_high(voices: Sequence[Voice]) -> list[Voice]:
    """A gender's voices from the lowest variant up: `male-low`, `male`, `male-high`."""
    order = {"low": 0, "": 1, "high": 2}
    return sorted(voices, key=lambda v: order.get(_variant(v), 1))


class VoicePrints:
    """Speakers known by their voice (speaker-encoder embeddings, unit vectors): a voice close
    enough to a known speaker's (cosine similarity at least SAME_SPEAKER) is theirs, and any
    other is a new speaker, given a voice of their own. Live mode knows its speakers this way,
    and a batch of files keeps one speaker's label, name and voice from file to file."""

    def __init__(self, voices: Sequence[Voice]) -> None:
        self.cast: dict[str, CastMember] = {}
        self._voices = tuple(voices)
        self._centroids: list[np.ndarray] = []

    def identify(
        self, embedding: np.ndarray, pitch_hz: float | None, apart_from: Iterable[str] = ()
    ) -> str:
        """The label of whose voice `embedding` is (never one of `apart_from`, the speakers a
        file already told apart from this one); a new speaker's when it is nobody's yet."""
        excluded = set(apart_from)
        similar = [
            (float(centroid @ embedding), number)
            for number, centroid in enumerate(self._centroids)
            if speaker_label(number) not in excluded
        ]
        best = max(similar, default=(-1.0, -1))
        if best[0] >= SAME_SPEAKER:
            merged = self._centroids[best[1]] + embedding
            self._centroids[best[1]] = merged / np.linalg.norm(merged)
            return speaker_label(best[1])
        label = speaker_label(len(self._centroids))
        self._centroids.append(embedding)
        self.cast[label] = CastMember(label, label, pitch_hz=pitch_hz)
        assign_voices(self.cast, self._voices)
        return label


def voice_lines(lines: Iterable[Line], cast: Mapping[str, CastMember]) -> None:
    """Every line of a cast member is spoken with that member's voice."""
    for line in lines:
        member = cast.get(line.speaker or "")
        if member is not None and member.voice is not None:
            line.voice = member.voice


def read_voice_map(path: Path) -> dict[str, Voice]:
    """`--voice-map speakers.json`: `{"S1": "pico-es_ES:male", "Anchor": "..."}`, speakers by
    label or by name; a file that is not one is a UsageError naming it."""
    from dubber.inputs import read_json

    data = read_json(path, "voice map")
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise UsageError(f'{path}: a voice map is a JSON object {{"S1": "MODEL:STYLE", ...}}')
    return {str(speaker): Voice.parse(voice) for speaker, voice in data.items()}


def apply_voice_map(
    cast: Mapping[str, CastMember], mapping: Mapping[str, Voice], voices: Sequence[Voice]
) -> None:
    """Set the voices the map names (by label or name) from `voices`, the ones the loaded model
    speaks; a speaker the cast does not have or a voice not among them is a UsageError."""
    by_name = {member.name: member for member in cast.values()}
    for speaker, voice in mapping.items():
        if voice not in voices:
            offered = ", ".join(str(v) for v in voices)
            raise UsageError(f"the voice map gives {speaker} '{voice}'; the voice speaks {offered}")
        member = cast.get(speaker) or by_name.get(speaker)
        if member is None:
            names = ", ".join(sorted({*cast, *by_name})) or "none"
            raise UsageError(f"the voice map names speaker '{speaker}'; this file has {names}")
        member.voice = voice
