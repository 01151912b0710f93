"""Post-editing from the page: the line edits a request carries, checked and applied to the
dub document, and the engines a re-dub of that document needs so its unchanged lines come
from the clip cache."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from dubber.chain.translate import FALLBACK
from dubber.dub.document import DubDocument
from dubber.engines.bundle import EngineChoice
from dubber.engines.voice import Voice
from dubber.errors import UsageError

MAX_TRANSLATION_CHARS = 1000
MAX_EDITS = 5000


@dataclass(frozen=True)
class LineEdit:
    """A new translation and/or voice for the line at `position` (0-based) of a document."""

    position: int
    translation: str | None = None
    voice: str | None = None


def parse_edits(data: Any) -> list[LineEdit]:
    """The edits of a request body's `edits` list; a UsageError names the first wrong one."""
    if not isinstance(data, list) or len(data) > MAX_EDITS:
        raise UsageError(f"'edits' must be a list of at most {MAX_EDITS} line edits")
    edits = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict) or set(item) - {"line", "translation", "voice"}:
            raise UsageError(f"edit {number}: an object with 'line', 'translation', 'voice'")
        position = item.get("line")
        if not isinstance(position, int) or isinstance(position, bool) or position < 0:
            raise UsageError(f"edit {number}: 'line' must be a line number from 0")
        translation, voice = item.get("translation"), item.get("voice")
        for name, value in (("translation", translation), ("voice", voice)):
            if value is not None and not isinstance(value, str):
                raise UsageError(f"edit {number}: '{name}' must be text")
        if translation is not None:
            translation = " ".join(translation.split())
            if not translation or len(translation) > MAX_TRANSLATION_CHARS:
                raise UsageError(
                    f"edit {number}: the Spanish text must have 1 to {MAX_TRANSLATION_CHARS}"
                    " characters"
                )
        edits.append(LineEdit(position, translation, voice))
    return edits


def bank_voices(description: str) -> list[str]:
    """The voices a dub spoke with, from the document's `voice` (`female=A,male=B` or `A`): the
    ones a re-dub can give a line."""
    if not description:
        return []
    return [part.partition("=")[2] or part for part in description.split(",")]


def apply_edits(document: DubDocument, edits: list[LineEdit]) -> list[int]:
    """Apply `edits` to the document's lines, each change added to its history (what and
    when); the positions that changed."""
    voices = bank_voices(document.voice)
    changed = []
    for edit in edits:
        if edit.position >= len(document.lines):
            raise UsageError(f"line {edit.position} is not in the document")
        line = document.lines[edit.position]
        before = (line.translation, line.voice)
        if edit.translation is not None and edit.translation != line.translation:
            line.translation = edit.translation
            line.flags.pop(FALLBACK, None)  # the editor's text stands in now
        if edit.voice is not None:
            if edit.voice not in voices:
                raise UsageError(
                    f"voice '{edit.voice}' did not speak this dub: use one of {', '.join(voices)}"
                )
            voice = Voice.parse(edit.voice)
            member = document.speakers.get(line.speaker or "")
            if member is not None and member.voice not in (None, voice):
                raise UsageError(
                    f"line {edit.position} is {member.name}'s, spoken with their voice: change"
                    " it under Speakers, or split the line off to a speaker of its own"
                )
            line.voice = voice
        after = (line.translation, line.voice)
        if after != before:
            changed.append(edit.position)
            document.history.append(_change(edit.position, before, after))
    return changed


def _change(
    position: int, before: tuple[str | None, Voice | None], after: tuple[str | None, Voice | None]
) -> dict[str, Any]:
    """The history entry of one line's edit."""
    entry = history_entry(line=position)
    for name, old, new in zip(("translation", "voice"), before, after, strict=True):
        if old != new:
            entry[name] = {"before": old if old is None else str(old), "after": str(new)}
    return entry


def history_entry(**what: Any) -> dict[str, Any]:
    """One entry of a document's edit history: what changed, and when."""
    return {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **what}


def engine_choice(document: DubDocument) -> EngineChoice:
    """The engines that spoke `document`: its voice, or the pitch-matched pair of its model."""
    voices = bank_voices(document.voice)
    if len(voices) > 1:
        return EngineChoice(voice=Voice.parse(voices[0]).model, match_voice_to_pitch=True)
    return EngineChoice(voice=voices[0] if voices else None, match_voice_to_pitch=not voices)
