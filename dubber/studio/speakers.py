"""Speakers from the page: a speaker renamed or given another voice, two merged, lines split off
to a new one, each checked and applied to the dub document with its history; the voices a
speaker can take, and a short sample of one."""

from __future__ import annotations

import io
import itertools
import statistics
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dubber.chain.cast import CastMember, assign_voices, speaker_label, voice_lines
from dubber.dub.document import DubDocument
from dubber.engines.voice import Voice
from dubber.engines.voices import VoiceBank
from dubber.errors import UsageError
from dubber.media.decode import to_pcm16
from dubber.studio.edits import MAX_EDITS, history_entry

MAX_NAME_CHARS = 60
SAMPLE_TEXT = "Buenas noches. Estas son las noticias del día."
VARIANTS = {"low": "lower", "high": "higher"}  # Pico's `male-low`, `female-high`, ...
FIELDS = {"speaker", "name", "voice", "into", "split", "run"}


@dataclass(frozen=True)
class SpeakerEdit:
    """`speaker` renamed to `name` and/or given `voice`, or merged `into` another; or, with
    `split` (a line position), that line (with `run`, the lines from it on until the speaker
    changes) moved to a new speaker."""

    speaker: str = ""
    name: str | None = None
    voice: str | None = None
    into: str | None = None
    split: int | None = None
    run: bool = False


def parse_speaker_edits(data: Any) -> list[SpeakerEdit]:
    """The edits of a request body's `speakers` list; a UsageError names the first wrong one."""
    if not isinstance(data, list) or len(data) > MAX_EDITS:
        raise UsageError(f"'speakers' must be a list of at most {MAX_EDITS} speaker edits")
    return [_parse(item, number) for number, item in enumerate(data, start=1)]


def _parse(item: Any, number: int) -> SpeakerEdit:
    where = f"speaker edit {number}"
    if not isinstance(item, dict) or not item or set(item) - FIELDS:
        raise UsageError(f"{where}: an object with {', '.join(sorted(FIELDS))}")
    split, run = item.get("split"), item.get("run", False)
    if split is not None:
        if not isinstance(split, int) or isinstance(split, bool) or split < 0:
            raise UsageError(f"{where}: 'split' must be a line number from 0")
        if not isinstance(run, bool) or set(item) - {"split", "run"}:
            raise UsageError(f"{where}: a split takes 'split' and 'run' (true or false) only")
        return SpeakerEdit(split=split, run=run)
    texts = {name: item.get(name) for name in ("speaker", "name", "voice", "into")}
    for name, value in texts.items():
        if value is not None and not isinstance(value, str):
            raise UsageError(f"{where}: '{name}' must be text")
    if "run" in item:
        raise UsageError(f"{where}: 'run' goes with 'split'")
    if texts["speaker"] is None:
        raise UsageError(f"{where}: 'speaker' must name the speaker (S1, S2, ...)")
    if texts["into"] is not None and (texts["name"] is not None or texts["voice"] is not None):
        raise UsageError(f"{where}: a merge takes 'speaker' and 'into' only")
    name = texts["name"]
    if name is not None:
        name = " ".join(name.split())
        if not name or len(name) > MAX_NAME_CHARS or not name.isprintable():
            raise UsageError(
                f"{where}: a name must have 1 to {MAX_NAME_CHARS} printable characters"
            )
    return SpeakerEdit(texts["speaker"], name, texts["voice"], texts["into"])


def apply_speaker_edits(
    document: DubDocument, edits: Sequence[SpeakerEdit], styles: Sequence[Voice]
) -> list[int]:
    """Apply `edits` to the document's speakers and lines (a voice must be one of `styles`,
    the voice model's), each added to its history; the positions of the lines whose voice
    changed, which a re-dub speaks again."""
    before = [line.voice for line in document.lines]
    for edit in edits:
        if edit.split is not None:
            _split(document, edit.split, edit.run, styles)
            continue
        member = _member(document, edit.speaker)
        if edit.into is not None:
            _merge(document, member, _member(document, edit.into))
        if edit.name is not None and edit.name != member.name:
            _rename(document, member, edit.name)
        if edit.voice is not None:
            voice = _voice(edit.voice, styles)
            if voice != member.voice:
                old = str(member.voice) if member.voice else None
                document.history.append(
                    history_entry(speaker=member.label, voice={"before": old, "after": str(voice)})
                )
                member.voice = voice
    voice_lines(document.lines, document.speakers)
    return [i for i, line in enumerate(document.lines) if line.voice != before[i]]


def _member(document: DubDocument, label: str) -> CastMember:
    if label not in document.speakers:
        known = ", ".join(document.speakers) or "none"
        raise UsageError(f"no speaker '{label[:20]}' in this dub (it has {known})")
    return document.speakers[label]


def _voice(text: str, styles: Sequence[Voice]) -> Voice:
    voice = Voice.parse(text)
    if voice not in styles:
        offered = ", ".join(str(style) for style in styles)
        raise UsageError(f"this dub's voice model does not speak '{text[:60]}': use {offered}")
    return voice


def _rename(document: DubDocument, member: CastMember, name: str) -> None:
    if any(other.name == name for other in document.speakers.values() if other is not member):
        raise UsageError(f"another speaker is already called {name}")
    document.history.append(
        history_entry(speaker=member.label, name={"before": member.name, "after": name})
    )
    member.name = name


def _merge(document: DubDocument, member: CastMember, into: CastMember) -> None:
    """Every line of `member` becomes `into`'s, and `member` leaves the cast."""
    if member is into:
        raise UsageError(f"{member.name} cannot be merged into themselves")
    moved = [i for i, line in enumerate(document.lines) if line.speaker == member.label]
    for position in moved:
        document.lines[position].speaker = into.label
    del document.speakers[member.label]
    document.history.append(
        history_entry(speaker=member.label, merged_into=into.label, lines=moved)
    )


def _split(document: DubDocument, position: int, run: bool, styles: Sequence[Voice]) -> None:
    """The line at `position` (with `run`, the lines from it on while the speaker stays the same)
    moved to a new speaker, with the next free label and a voice no other speaker has where one
    is free."""
    if position >= len(document.lines):
        raise UsageError(f"line {position} is not in the document")
    old = document.lines[position].speaker
    if old is None or old not in document.speakers:
        raise UsageError(f"line {position} has no speaker to split it from")
    moved = [position]
    if run:
        after = itertools.takewhile(
            lambda i: document.lines[i].speaker == old, range(position + 1, len(document.lines))
        )
        moved += after
    if all(line.speaker != old for i, line in enumerate(document.lines) if i not in moved):
        name = document.speakers[old].name
        raise UsageError(f"those are all of {name}'s lines: give {name} another voice instead")
    taken = {*document.speakers, *(line.speaker for line in document.lines)}
    label = next(speaker_label(n) for n in itertools.count() if speaker_label(n) not in taken)
    pitches = [p for i in moved if (p := document.lines[i].pitch_hz) is not None]
    pitch = statistics.median(pitches) if pitches else document.speakers[old].pitch_hz
    document.speakers[label] = CastMember(label, label, None, pitch)
    assign_voices(document.speakers, styles)
    for i in moved:
        document.lines[i].speaker = label
    document.history.append(history_entry(speaker=label, split_from=old, lines=moved))


def style_label(voice: Voice) -> str:
    """A style as people read it: `male, lower` (Pico's `male-low`), `female (jf_alpha)`; the
    id where its name says nothing."""
    gender = voice.gender.value if voice.gender else ""
    base, _, variant = (voice.style or "").partition("-")
    said = ", ".join(word for word in (gender, VARIANTS.get(variant, "")) if word)
    if not said:
        return str(voice)
    return said if base == gender else f"{said} ({voice.style})"


def voice_options(bank: VoiceBank) -> list[dict[str, str]]:
    """The voices a speaker can take (the styles of the dub's voice model), each labelled."""
    return [{"id": str(voice), "label": style_label(voice)} for voice in bank.styles]


def sample_wav(bank: VoiceBank, text: str) -> bytes:
    """A short Spanish sentence spoken with the voice `text` names (one of the bank's styles),
    as a WAV file."""
    choice = bank.by_voice(_voice(text, bank.styles))
    assert choice is not None  # every style of the bank loads
    pieces = list(choice.synthesizer.synthesize(SAMPLE_TEXT))
    audio = np.concatenate([piece.samples for piece in pieces])
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(pieces[0].sample_rate)
        wav.writeframes(to_pcm16(audio).tobytes())
    return out.getvalue()
