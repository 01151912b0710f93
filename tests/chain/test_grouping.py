"""Sentence grouping: timed words regrouped into lines (no model: words made here)."""

from __future__ import annotations

from dubber.chain.grouping import GroupingRules, group_words
from dubber.engines.types import Word


def words(text: str, start: float = 0.0, step: float = 0.3, gap_after: dict | None = None):
    """One word every `step` seconds; `gap_after` adds pauses after given word positions."""
    out, t = [], start
    for position, token in enumerate(text.split()):
        out.append(Word(token, t, t + step * 0.8))
        t += step + (gap_after or {}).get(position, 0.0)
    return out


def test_lines_break_after_sentence_punctuation_and_at_pauses():
    stream = words("Good evening. Welcome to the news tonight we have", gap_after={5: 1.0})
    lines = list(group_words(stream))
    assert [line.source for line in lines] == [
        "Good evening.",
        "Welcome to the news",
        "tonight we have",
    ]
    assert [line.index for line in lines] == [0, 1, 2]
    assert lines[1].start == stream[2].start and lines[1].end == stream[5].end
    assert lines[2].words == stream[6:]


def test_long_speech_breaks_at_a_clause_then_anywhere():
    rules = GroupingRules(pause=5.0, max_duration=4.0, soft_duration=2.0)
    stream = words("one two three four five six seven, eight nine ten eleven twelve thirteen"
                   " fourteen fifteen sixteen seventeen eighteen nineteen")  # fmt: skip
    lines = list(group_words(stream, rules))
    assert lines[0].source.endswith("seven,")
    assert all(line.end - line.start <= rules.max_duration for line in lines)
    assert " ".join(line.source for line in lines) == " ".join(w.text for w in stream)


def test_no_words_no_lines_and_numbering_continues():
    assert list(group_words([])) == []
    [line] = list(group_words(words("Hello."), first_index=7))
    assert line.index == 7 and line.slot > 0


def _speaker_from(changes: list[tuple[float, str]]):
    """speaker_of for turns that begin at the given times."""

    def speaker_of(start: float, end: float) -> str:
        middle = (start + end) / 2
        return [who for begin, who in changes if begin <= middle][-1]

    return speaker_of


def test_a_speaker_change_inside_a_sentence_splits_the_line_at_the_word():
    said = [Word("so", 0.0, 0.4), Word("the", 0.5, 0.9), Word("budget", 1.0, 1.5)]
    said += [Word("passed", 1.6, 2.2), Word("yes.", 2.3, 3.0)]
    speaker_of = _speaker_from([(0.0, "S1"), (2.25, "S2")])
    lines = list(group_words(said, speaker_of=speaker_of))
    assert [line.source for line in lines] == ["so the budget passed", "yes."]
    assert [line.speaker for line in lines] == ["S1", "S2"]


def test_a_word_that_straddles_the_turn_joins_the_next_speaker():
    # "The" is timed a little early: the first speaker's turn seems to end after it
    said = [Word("Thanks.", 0.0, 0.6), Word("The", 0.7, 0.9)]
    said += [Word("council", 1.0, 1.6), Word("met", 1.7, 2.0)]
    speaker_of = _speaker_from([(0.0, "S1"), (0.95, "S2")])
    lines = list(group_words(said, speaker_of=speaker_of))
    assert [line.source for line in lines] == ["Thanks.", "The council met"]
    assert [line.speaker for line in lines] == ["S1", "S2"]
