"""The dub document, `NAME.dub.json`: the input, the engines and every line of one dub.

The same file is what `--resume` reads back from the work folder and what a person edits before
a re-dub (`--document`); a document that does not follow the schema is refused with the field
that is wrong.
"""

from __future__ import annotations

import difflib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dubber.chain.cast import CastMember
from dubber.chain.fit import FitOutcome
from dubber.chain.line import Line
from dubber.chain.transcribe import timed_words
from dubber.engines.types import Hypothesis, Word
from dubber.engines.voice import Voice
from dubber.errors import UsageError
from dubber.media.captions import layout, settle
from dubber.media.subtitles import Cue
from dubber.outputs import atomic_write_text

FORMAT_VERSION = 2  # 1 called the lines "utterances"; it is still read
DOCUMENT_KEYS = {
    "version", "media", "duration", "source_language", "target_language", "asr_model",
    "translator", "voice", "speakers", "history", "spoken_edits",
}  # fmt: skip
LINE_KEYS = {
    "index", "start", "end", "source", "words", "speaker", "hypotheses", "translation", "voice",
    "pitch_hz", "rate", "stretch", "placed_start", "placed_end", "fit", "flags",
}  # fmt: skip
SPEAKER_KEYS = {"name", "voice", "pitch_hz"}
_MISSING = object()


@dataclass
class DubDocument:
    """Everything about one dub: the input, the engines, and every line."""

    media: str
    duration: float
    source_language: str
    target_language: str
    asr_model: str = ""
    translator: str = ""
    voice: str = ""
    lines: list[Line] = field(default_factory=list)
    speakers: dict[str, CastMember] = field(default_factory=dict)  # by label; diarization's
    version: int = FORMAT_VERSION
    history: list[dict[str, Any]] = field(default_factory=list)  # edits: what and when
    spoken_edits: int = 0  # how many of them the dub written with it speaks

    @property
    def edited(self) -> bool:
        """Whether the document was edited after its dub was written."""
        return len(self.history) > self.spoken_edits

    def to_json(self) -> str:
        """Pretty JSON, UTF-8 text kept readable for people who edit it."""
        data = {
            "version": self.version,
            "media": self.media,
            "duration": self.duration,
            "source_language": self.source_language,
            "target_language": self.target_language,
            "asr_model": self.asr_model,
            "translator": self.translator,
            "voice": self.voice,
            "speakers": {label: _speaker_to_json(m) for label, m in self.speakers.items()},
            "lines": [_line_to_json(line) for line in self.lines],
            "history": self.history,
            "spoken_edits": self.spoken_edits,
        }
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"

    def subtitles(self, speaker_labels: bool = False) -> dict[str, list[Cue]]:
        """Its subtitles in both languages, to broadcast norms: the source where it was said
        (timed from its words), the translation where the dub speaks it; with
        `speaker_labels`, a line where the speaker changes starts with their name ("ANA: ")."""
        source, target = [], []
        previous: str | None = None
        for line in self.lines:
            label = ""
            if speaker_labels and line.speaker is not None and line.speaker != previous:
                member = self.speakers.get(line.speaker)
                label = f"{(member.name if member else line.speaker).upper()}: "
            previous = line.speaker if line.speaker is not None else previous
            words = timed_words(line.words)
            if label and words:  # the name is a word of its own, said as the line begins
                words = [(label.strip(), words[0][1], words[0][1]), *words]
            source += layout(label + line.source, line.start, line.end, words=words)
            if line.placed_start is not None and line.placed_end is not None:
                spoken = label + (line.translation or "")
                target += layout(spoken, line.placed_start, line.placed_end)
        return {
            self.source_language: settle(source, self.source_language, self.duration),
            self.target_language: settle(target, self.target_language, self.duration),
        }

    def save(self, path: Path) -> None:
        """Write atomically."""
        atomic_write_text(path, self.to_json())

    @classmethod
    def load(cls, path: Path) -> DubDocument:
        """Read and validate a dub document; anything wrong is one UsageError naming it."""
        from dubber.inputs import read_json

        return cls.from_json(read_json(Path(path), "dub document"), str(path))

    @classmethod
    def from_json(cls, data: Any, where: str) -> DubDocument:
        """The document `data` (parsed JSON) describes; `where` names it in errors."""
        reader = _Reader(where)
        if not isinstance(data, dict):
            raise reader.error("the document", "a JSON object", data)
        version = data.get("version")
        if version not in (1, FORMAT_VERSION):
            raise UsageError(
                f"{where} is dub format version {version}, this dubber reads {FORMAT_VERSION}"
            )
        lines_key = "lines" if version == FORMAT_VERSION else "utterances"
        reader.known(data, {*DOCUMENT_KEYS, lines_key})
        lines = reader.get(data, lines_key, list)
        return cls(
            media=reader.get(data, "media", str),
            duration=reader.number(data, "duration", minimum=0.0),
            source_language=reader.get(data, "source_language", str),
            target_language=reader.get(data, "target_language", str),
            asr_model=reader.get(data, "asr_model", str, ""),
            translator=reader.get(data, "translator", str, ""),
            voice=reader.get(data, "voice", str, ""),
            lines=[reader.line(item, number) for number, item in enumerate(lines, start=1)],
            speakers={
                str(label): reader.speaker(str(label), entry)
                for label, entry in reader.get(data, "speakers", dict, {}).items()
            },
            history=[
                entry for entry in reader.get(data, "history", list, []) if isinstance(entry, dict)
            ],
            spoken_edits=reader.get(data, "spoken_edits", int, 0),
        )


def _speaker_to_json(member: CastMember) -> dict[str, Any]:
    voice = str(member.voice) if member.voice else ""
    return {"name": member.name, "voice": voice, "pitch_hz": member.pitch_hz}


def _line_to_json(line: Line) -> dict[str, Any]:
    return {
        "index": line.index,
        "start": line.start,
        "end": line.end,
        "source": line.source,
        "words": [[w.text, w.start, w.end, w.probability] for w in line.words],
        "speaker": line.speaker,
        "hypotheses": [{"text": h.text, "score": h.score} for h in line.hypotheses],
        "translation": line.translation,
        "voice": str(line.voice) if line.voice else "",
        "pitch_hz": line.pitch_hz,
        "rate": line.rate,
        "stretch": line.stretch,
        "placed_start": line.placed_start,
        "placed_end": line.placed_end,
        "fit": line.fit.value if line.fit else "",
        "flags": line.flags,
    }


class _Reader:
    """Typed field access with errors that name the file, the line and the field."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.context = ""

    def error(self, name: str, wanted: str, value: Any) -> UsageError:
        shown = json.dumps(value, ensure_ascii=False)
        shown = shown if len(shown) <= 40 else shown[:39] + "…"
        return UsageError(f"{self.where}: {self.context}{name} must be {wanted}, not {shown}")

    def known(self, data: dict, keys: set[str]) -> None:
        """Refuse a key dubber does not read (a misspelt field would drop its edit unseen)."""
        for key in data:
            if key not in keys:
                close = difflib.get_close_matches(str(key), sorted(keys), n=1)
                hint = f": did you mean '{close[0]}'?" if close else ""
                raise UsageError(f"{self.where}: {self.context}unknown field '{key}'{hint}")

    def _present(self, data: dict, name: str, default: Any) -> bool:
        """Whether `name` has a value; a missing field without a default is an error."""
        if name in data and not (data[name] is None and default is not _MISSING):
            return True
        if default is _MISSING:
            raise UsageError(f"{self.where}: {self.context}'{name}' is missing")
        return False

    def get(self, data: dict, name: str, kind: type, default: Any = _MISSING) -> Any:
        if not self._present(data, name, default):
            return default
        value = data[name]
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            wanted = {str: "text", list: "a list", dict: "an object", int: "a whole number"}
            raise self.error(f"'{name}'", wanted.get(kind, kind.__name__), value)
        return value

    def number(
        self, data: dict, name: str, default: Any = _MISSING, minimum: float | None = None
    ) -> Any:
        if not self._present(data, name, default):
            return default
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f"'{name}'", "a number", value)
        if not math.isfinite(value) or (minimum is not None and value < minimum):
            wanted = "a finite number" if minimum is None else f"a number of at least {minimum:g}"
            raise self.error(f"'{name}'", wanted, value)
        return float(value)

    def line(self, item: Any, number: int) -> Line:
        self.context = f"line {number}: "
        if not isinstance(item, dict):
            raise self.error("the line", "an object", item)
        self.known(item, LINE_KEYS)
        start = self.number(item, "start", minimum=0.0)
        end = self.number(item, "end", minimum=0.0)
        if end < start:
            raise UsageError(f"{self.where}: line {number} ends ({end:g} s) before it starts")
        fit = self.get(item, "fit", str, "")
        if fit and fit not in FitOutcome.__members__:
            raise self.error("'fit'", f"one of {', '.join(FitOutcome.__members__)}", fit)
        voice = self.get(item, "voice", str, "")
        line = Line(
            index=self.get(item, "index", int, number - 1),
            start=start,
            end=end,
            source=self.get(item, "source", str, ""),
            words=[self._word(w) for w in self.get(item, "words", list, [])],
            speaker=self.get(item, "speaker", str, None),
            hypotheses=[self._hypothesis(h) for h in self.get(item, "hypotheses", list, [])],
            translation=self.get(item, "translation", str, "") or None,  # none: chosen anew
            voice=Voice.parse(voice) if voice else None,
            pitch_hz=self.number(item, "pitch_hz", None),
            rate=self.number(item, "rate", 1.0, minimum=0.1),
            stretch=self.number(item, "stretch", 1.0, minimum=0.1),
            placed_start=self.number(item, "placed_start", None),
            placed_end=self.number(item, "placed_end", None),
            fit=FitOutcome(fit) if fit else None,
            flags={
                str(kind): str(about)
                for kind, about in self.get(item, "flags", dict, {}).items()
                if isinstance(about, str)
            },
        )
        self.context = ""
        return line

    def speaker(self, label: str, item: Any) -> CastMember:
        self.context = f"speaker {label}: "
        if not isinstance(item, dict):
            raise self.error("the speaker", 'an object {"name": ..., "voice": ...}', item)
        self.known(item, SPEAKER_KEYS)
        voice = self.get(item, "voice", str, "")
        member = CastMember(
            label,
            self.get(item, "name", str, label) or label,
            Voice.parse(voice) if voice else None,
            self.number(item, "pitch_hz", None),
        )
        self.context = ""
        return member

    def _word(self, item: Any) -> Word:
        if isinstance(item, dict):  # version 1 wrote words as objects
            item = [item.get("text"), item.get("start"), item.get("end"), item.get("probability")]
        ok = isinstance(item, list) and len(item) == 4 and isinstance(item[0], str)
        if not ok or not all(isinstance(x, (int, float)) for x in item[1:]):
            raise self.error("a word", "[text, start, end, probability]", item)
        return Word(item[0], float(item[1]), float(item[2]), float(item[3]))

    def _hypothesis(self, item: Any) -> Hypothesis:
        if not isinstance(item, dict):
            raise self.error("a hypothesis", 'an object {"text": ..., "score": ...}', item)
        return Hypothesis(self.get(item, "text", str), self.number(item, "score", 0.0))
