"""Subtitle cues to broadcast norms, and cue text that players show as it was written."""

from __future__ import annotations

from itertools import pairwise

import pytest

from dubber.media.captions import CueRules, layout, problems, rooms, settle, wrap
from dubber.media.subtitles import Cue, format_srt, format_vtt, parse_srt

NEWS = (
    "The city council approved a new budget for public transport on Tuesday, and ten new bus"
    " lines will open before the end of the year, the mayor said on the steps of city hall."
)


def evenly(text: str, start: float, seconds_per_word: float) -> list[tuple[str, float, float]]:
    return [
        (word, start + i * seconds_per_word, start + (i + 0.8) * seconds_per_word)
        for i, word in enumerate(text.split())
    ]


def test_a_long_sentence_is_split_into_cues_of_two_short_lines_at_clause_ends():
    cues = layout(NEWS, 10.0, 22.0)
    assert len(cues) >= 3
    assert " ".join(" ".join(c.text.split()) for c in cues) == NEWS  # every word, once, in order
    for cue in cues:
        lines = cue.text.splitlines()
        assert len(lines) <= 2 and all(len(line) <= 42 for line in lines), cue.text
    assert cues[0].start == 10.0 and cues[-1].end == 22.0
    assert all(a.end <= b.start for a, b in pairwise(cues))
    assert cues[0].text.endswith(",")  # cut where the clause ends, not mid-phrase


def test_cues_take_their_times_from_the_words_and_last_at_most_seven_seconds():
    slow = "one two three four five six seven eight nine ten eleven twelve"
    words = evenly(slow, 5.0, 1.0)  # a word a second: twelve seconds of speech
    cues = layout(slow, 5.0, 17.0, words=words)
    assert len(cues) >= 2
    starts = {start for _, start, _ in words}
    assert all(cue.start in starts for cue in cues[1:])  # a cue starts when its first word does
    assert all(cue.end - cue.start <= 7.0 for cue in cues)


def test_a_short_cue_stays_long_enough_to_read_but_never_covers_the_next():
    cues = settle([Cue(1.0, 1.3, "Hola."), Cue(1.6, 4.0, "Adiós.")], "es", 10.0)
    assert cues[0] == Cue(1.0, 1.6, "Hola.")  # as long as the next cue allows
    [alone] = settle([Cue(1.0, 1.3, "Hola.")], "es", 10.0)
    assert alone.end == pytest.approx(2.0)  # the one-second minimum
    dense = "Cuarenta y dos caracteres en un segundo."  # 40 characters: 2.4 s at 17 a second
    [read] = settle([Cue(0.0, 1.0, dense)], "es", 10.0)
    assert read.end == pytest.approx(len(dense) / 17)
    [english] = settle([Cue(0.0, 1.0, dense)], "en", 10.0)
    assert english.end == pytest.approx(len(dense) / 20)  # English is read faster
    [capped] = settle([Cue(0.0, 1.0, dense)], "es", 1.5)
    assert capped.end == 1.5  # never past the end of the media


def test_problems_name_every_norm_a_cue_breaks():
    assert problems(Cue(0.0, 3.0, "Buenas noches."), "es") == []
    assert problems(Cue(0.0, 3.0, "a\nb\nc"), "es") == ["lines"]
    assert problems(Cue(0.0, 8.0, "x" * 43), "es") == ["line length", "duration"]
    assert problems(Cue(0.0, 0.5, "Sí."), "es") == ["duration"]
    assert problems(Cue(0.0, 1.0, "x" * 30), "es") == ["reading speed"]
    assert problems(Cue(0.0, 1.0, "x" * 19), "en") == []


def test_wrapping_balances_two_lines_and_leaves_short_text_alone():
    assert wrap("Buenas noches.") == "Buenas noches."
    top, bottom = wrap(NEWS[:80]).splitlines()
    assert abs(len(top) - len(bottom)) <= 12 and max(len(top), len(bottom)) <= 42
    assert wrap("x" * 50, CueRules()) == "x" * 50  # one word: nothing to break at


@pytest.mark.parametrize("text", ["a --> b", "<b>bold</b> & <i>", "first\n\nsecond", "1 < 2 > 0"])
def test_cue_text_is_written_so_players_show_it_as_written(text):
    cues = [Cue(0.0, 2.0, text), Cue(3.0, 4.0, "next")]
    srt, vtt = format_srt(cues), format_vtt(cues)
    for rendered in (srt, vtt):
        parsed = parse_srt(rendered)
        assert [cue.text for cue in parsed][-1] == "next" and len(parsed) == 2  # no cue lost
        assert rendered.count(" --> ") == 2  # the arrow only on timing lines
    assert "<" not in srt.split("\n", 2)[2] and "<" not in vtt.split("\n", 3)[3]  # no markup
    assert " ".join(parse_srt(vtt)[0].text.split()) == " ".join(text.split())  # WebVTT: exact


def test_a_cue_that_takes_all_its_room_is_within_the_norms_the_timing_allows():
    cues = [Cue(0.0, 0.8, "Demasiadas palabras aquí."), Cue(0.8, 3.0, "Sí.")]
    first, second = rooms(cues, 3.0)
    assert (first, second) == (pytest.approx(0.8), pytest.approx(2.2))
    assert problems(cues[0], "es") == ["duration", "reading speed"]
    assert problems(cues[0], "es", room=first) == []  # the next cue starts when it ends
    assert problems(Cue(0.0, 0.8, "Sí."), "es", room=2.0) == ["duration"]  # room to stay longer
