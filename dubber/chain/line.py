"""The utterance that carries one sentence through every stage, and the dub document (JSON).

The same JSON is what `--resume` reads and what a person edits before a re-dub.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dubber.engines.types import Hypothesis, Word
from dubber.errors import UsageError
from dubber.fsutil import atomic_write_text

FORMAT_VERSION = 1
_SENTENCE_END = (".", "?", "!", "…")
_CLAUSE_END = (",", ";", ":")


@dataclass
class Utterance:
    """One sentence-sized piece of speech; each stage fills in its part."""

    index: int
    start: float
    end: float
    source: str
    words: list[Word] = field(default_factory=list)
    hypotheses: list[Hypothesis] = field(default_factory=list)
    translation: str = ""
    voice: str = ""
    pitch_hz: float | None = None
    rate: float = 1.0
    stretch: float = 1.0
    placed_start: float | None = None
    placed_end: float | None = None
    fit: str = ""

    @property
    def slot(self) -> float:
        """Seconds the original speaker took."""
        return self.end - self.start

    @classmethod
    def from_json(cls, data: dict) -> Utterance:
        """Rebuild from the dict `asdict` wrote."""
        data = dict(data)
        data["words"] = [Word(**w) for w in data.get("words", [])]
        data["hypotheses"] = [Hypothesis(**h) for h in data.get("hypotheses", [])]
        return cls(**data)


@dataclass(frozen=True)
class GroupingRules:
    """Where a stream of words breaks into utterances."""

    pause: float = 0.7
    max_duration: float = 12.0
    soft_duration: float = 7.0


def group_words(
    words: Iterable[Word], rules: GroupingRules = GroupingRules(), first_index: int = 0
) -> Iterator[Utterance]:
    """Regroup timed words into sentence-sized utterances.

    A break falls after sentence punctuation, at a pause, after a clause once the utterance is
    longer than `soft_duration`, and anywhere once it would exceed `max_duration`.
    """
    current: list[Word] = []
    index = first_index
    for word in words:
        if current and _breaks_before(current, word, rules):
            yield _utterance(index, current)
            index += 1
            current = []
        current.append(word)
    if current:
        yield _utterance(index, current)


def _breaks_before(current: list[Word], word: Word, rules: GroupingRules) -> bool:
    last = current[-1]
    duration = word.end - current[0].start
    if word.start - last.end >= rules.pause or last.text.endswith(_SENTENCE_END):
        return True
    if duration > rules.max_duration:
        return True
    return duration > rules.soft_duration and last.text.endswith(_CLAUSE_END)


def _utterance(index: int, words: list[Word]) -> Utterance:
    text = " ".join(w.text for w in words)
    return Utterance(index, words[0].start, words[-1].end, text, words=list(words))


@dataclass
class DubDocument:
    """Everything about one dub: the input, the engines, and every utterance."""

    media: str
    duration: float
    source_language: str
    target_language: str
    asr_model: str = ""
    translator: str = ""
    voice: str = ""
    utterances: list[Utterance] = field(default_factory=list)
    version: int = FORMAT_VERSION

    def to_json(self) -> str:
        """Pretty JSON, UTF-8 text kept readable for people who edit it."""
        return json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n"

    def save(self, path: Path) -> None:
        """Write atomically."""
        atomic_write_text(path, self.to_json())

    @classmethod
    def load(cls, path: Path) -> DubDocument:
        """Read a dub document; a broken one gives a clear error."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            if data.get("version") != FORMAT_VERSION:
                raise UsageError(
                    f"{path} is dub format version {data.get('version')}, "
                    f"this dubber reads {FORMAT_VERSION}"
                )
            data["utterances"] = [Utterance.from_json(u) for u in data["utterances"]]
            return cls(**data)
        except FileNotFoundError:
            raise UsageError(f"file not found: {path}") from None
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise UsageError(f"{path} is not a dubber transcript ({error})") from None
