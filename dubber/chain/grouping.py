"""Sentence grouping: timed words regrouped into sentence-sized lines."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from dubber.chain.line import Line
from dubber.engines.types import Word

_SENTENCE_END = (".", "?", "!", "…")
_CLAUSE_END = (",", ";", ":")


@dataclass(frozen=True, kw_only=True)
class GroupingRules:
    """Where a stream of words breaks into lines."""

    pause: float = 0.7
    max_duration: float = 12.0
    soft_duration: float = 7.0


def group_words(
    words: Iterable[Word], rules: GroupingRules = GroupingRules(), first_index: int = 0
) -> Iterator[Line]:
    """Regroup timed words into sentence-sized lines.

    A break falls after sentence punctuation, at a pause, after a clause once the line is
    longer than `soft_duration`, and anywhere once it would exceed `max_duration`.
    """
    current: list[Word] = []
    index = first_index
    for word in words:
        if current and _breaks_before(current, word, rules):
            yield _line(index, current)
            index += 1
            current = []
        current.append(word)
    if current:
        yield _line(index, current)


def _breaks_before(current: list[Word], word: Word, rules: GroupingRules) -> bool:
    last = current[-1]
    duration = word.end - current[0].start
    if word.start - last.end >= rules.pause or last.text.endswith(_SENTENCE_END):
        return True
    if duration > rules.max_duration:
        return True
    return duration > rules.soft_duration and last.text.endswith(_CLAUSE_END)


def _line(index: int, words: list[Word]) -> Line:
    text = " ".join(w.text for w in words)
    return Line(index, words[0].start, words[-1].end, text, words=list(words))
