"""Sentence grouping: timed words regrouped into sentence-sized lines."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from dubber.chain.line import Line
from dubber.engines.types import Word

_SENTENCE_END = (".", "?", "!", "…")
_CLAUSE_END = (",", ";", ":")

SpeakerOf = Callable[[float, float], str | None]  # who speaks from start to end (s), if known


@dataclass(frozen=True, kw_only=True)
class GroupingRules:
    """Where a stream of words breaks into lines."""

    pause: float = 0.7
    max_duration: float = 12.0
    soft_duration: float = 7.0
    # A speaker's turn shorter than this (a word that straddles the turn boundary, by the
    # recogniser's timing) joins the line of the speaker after it.
    min_turn: float = 0.6


def group_words(
    words: Iterable[Word],
    rules: GroupingRules = GroupingRules(),
    first_index: int = 0,
    speaker_of: SpeakerOf | None = None,
) -> Iterator[Line]:
    """Regroup timed words into sentence-sized lines.

    A break falls after sentence punctuation, at a pause, after a clause once the line is
    longer than `soft_duration`, anywhere once it would exceed `max_duration`, and, given
    `speaker_of`, wherever the speaker changes (each line says who speaks it).
    """
    current: list[Word] = []
    speaker: str | None = None
    index = first_index
    for word in words:
        said_by = speaker_of(word.start, word.end) if speaker_of else None
        turn = said_by is not None and speaker is not None and said_by != speaker
        if turn and word.start - current[0].start < rules.min_turn:
            turn, speaker = False, said_by  # too short a turn: the words are the next speaker's
        if current and (turn or _breaks_before(current, word, rules)):
            yield _line(index, current, speaker)
            index += 1
            current, speaker = [], None
        current.append(word)
        speaker = speaker if said_by is None else said_by
    if current:
        yield _line(index, current, speaker)


def _breaks_before(current: list[Word], word: Word, rules: GroupingRules) -> bool:
    last = current[-1]
    duration = word.end - current[0].start
    if word.start - last.end >= rules.pause or last.text.endswith(_SENTENCE_END):
        return True
    if duration > rules.max_duration:
        return True
    return duration > rules.soft_duration and last.text.endswith(_CLAUSE_END)


def _line(index: int, words: list[Word], speaker: str | None = None) -> Line:
    text = " ".join(w.text for w in words)
    return Line(index, words[0].start, words[-1].end, text, words=list(words), speaker=speaker)
