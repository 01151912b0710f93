"""The flags a dub leaves on its lines for an editor, with the real Spanish dictionary."""

from __future__ import annotations

from dubber.chain.fit import FitOutcome
from dubber.chain.line import Line
from dubber.dub.flags import flag_lines
from dubber.engines.types import Word


def placed(index: int, translation: str, speedup: float = 1.0, **more) -> Line:
    line = Line(index, 2.0 * index, 2.0 * index + 1.5, "source", **more)
    line.translation, line.placed_start, line.placed_end = translation, line.start, line.end
    line.rate = speedup
    return line


def test_english_left_in_the_spanish_is_flagged_but_names_and_numbers_are_not():
    lines = [
        placed(0, "Es altogether cabiendo sumos battlefield y honored muerto."),
        placed(1, "Sarah Miller pagó 250 euros en Ginebra."),
    ]
    flag_lines(lines, "es")
    assert lines[0].flags["untranslated"] == "altogether, battlefield, honored"
    assert "untranslated" not in lines[1].flags


def test_unsure_words_cut_lines_and_lines_fast_for_this_file_are_flagged():
    heard = [Word(" Tarde", 0.0, 0.4, 0.21), Word(" buena", 0.4, 0.8, 0.93)]
    lines = [placed(i, "Hola.", 1.3) for i in range(4)]
    lines.append(placed(4, "Hola.", 1.8, words=heard))
    lines.append(placed(5, "Hola.", 1.35, fit=FitOutcome.overflow))
    flag_lines(lines, "es")
    assert lines[4].flags == {
        "unsure": "Tarde (0.21)",
        "fast": "x1.80 (this file's median x1.30)",
    }
    assert lines[5].flags == {"cut": "1.5 s slot"}
    assert all(not line.flags for line in lines[:4])  # x1.3 is this file's norm, not a flag
