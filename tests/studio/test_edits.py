"""Post-edits from the page, the review table's flags, and the dub form's options (no server,
no model)."""

from __future__ import annotations

import json

import pytest

from dubber.chain.fit import FitOutcome
from dubber.chain.line import Line
from dubber.dub.document import DubDocument
from dubber.dub.flags import flag_lines
from dubber.engines.types import Hypothesis
from dubber.engines.voice import Voice
from dubber.errors import UsageError
from dubber.media.mix import Background
from dubber.studio.edits import apply_edits, bank_voices, engine_choice, parse_edits
from dubber.studio.options import DubSettings
from dubber.studio.review import review, review_rows

FEMALE, MALE = "kokoro-82m-offline:jf_alpha", "kokoro-82m-offline:jm_kumo"


def document(voice: str = f"female={FEMALE},male={MALE}") -> DubDocument:
    def line(index, fit, rate, stretch):
        return Line(
            index, index * 3.0, index * 3.0 + 2.5, f"English {index}.",
            hypotheses=[Hypothesis(f"Uno {index}.", -0.1), Hypothesis(f"Dos {index}.", -0.3)],
            translation=f"Uno {index}.", voice=Voice.parse(MALE),
            rate=rate, stretch=stretch, fit=fit,
            placed_start=index * 3.0, placed_end=index * 3.0 + 2.6,
        )  # fmt: skip

    lines = [
        line(0, FitOutcome.natural, 1.0, 1.0),
        line(1, FitOutcome.stretched, 1.2, 1.2),
        line(2, FitOutcome.overflow, 1.2, 1.25),
        line(3, FitOutcome.rate, 1.1, 1.0),
    ]
    return DubDocument("news.mp4", 12.0, "en", "es", voice=voice, lines=lines)


def test_edits_change_the_text_and_voice_of_the_lines_named():
    doc = document()
    edits = parse_edits(
        [
            {"line": 1, "translation": "  Otra   frase.  "},
            {"line": 3, "voice": FEMALE},
            {"line": 0, "translation": "Uno 0."},  # as it was
        ]
    )
    assert apply_edits(doc, edits) == [1, 3]
    assert doc.lines[1].translation == "Otra frase."
    assert doc.lines[3].voice == Voice.parse(FEMALE)
    saved = DubDocument.from_json(json.loads(doc.to_json()), "saved")
    assert saved.lines[1].translation == "Otra frase."


def test_an_edited_line_is_no_longer_flagged_as_the_fallbacks():
    doc = document()
    for line in doc.lines[:2]:
        line.flags = {"fallback": "the llm output was unusable: apertium translated it"}
    apply_edits(
        doc, parse_edits([{"line": 0, "translation": "Otra."}, {"line": 1, "voice": FEMALE}])
    )
    assert "fallback" not in doc.lines[0].flags and "fallback" in doc.lines[1].flags


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        ("nope", "must be a list"),
        ([{"line": -1}], "'line' must be"),
        ([{"line": True}], "'line' must be"),
        ([{"line": 0, "translation": 7}], "'translation' must be text"),
        ([{"line": 0, "translation": "   "}], "1 to 1000"),
        ([{"line": 0, "translation": "x" * 1001}], "1 to 1000"),
        ([{"line": 0, "colour": "red"}], "an object with"),
        ([{"line": 9, "translation": "Hola."}], "line 9 is not in the document"),
        ([{"line": 0, "voice": "espeak:es"}], "did not speak this dub"),
    ],
)
def test_wrong_edits_are_refused_with_what_is_wrong(edits, message):
    with pytest.raises(UsageError, match=message):
        apply_edits(document(), parse_edits(edits))


def test_a_re_dub_uses_the_voices_that_spoke_the_document():
    assert bank_voices(f"female={FEMALE},male={MALE}") == [FEMALE, MALE]
    assert bank_voices("pico-es_ES:female") == ["pico-es_ES:female"]
    pair = engine_choice(document())
    assert pair.voice == "kokoro-82m-offline" and pair.match_voice_to_pitch
    single = engine_choice(document(voice="pico-es_ES:female"))
    assert single.voice == "pico-es_ES:female" and not single.match_voice_to_pitch


def test_the_review_shows_the_dub_s_flags_and_ranks_lines_by_them():
    edited = document()
    flag_lines(edited.lines, "es")
    rows = review_rows(edited)
    assert [row["fit"] for row in rows] == ["natural", "stretched", "cut", "rate"]
    assert [sorted(row["flags"]) for row in rows] == [[], [], ["cut"], []]
    assert [row["speedup"] for row in rows] == [1.0, 1.44, 1.5, 1.1]
    ranked = sorted(rows, key=lambda row: -row["severity"])
    assert [row["line"] for row in ranked] == [2, 1, 3, 0]
    assert rows[0]["candidates"] == ["Dos 0."]
    assert review(document())["voices"] == [FEMALE, MALE]


def test_dub_settings_are_checked_as_the_command_line_checks_them():
    settings = DubSettings.from_json(
        {
            "media": "a.mp4",
            "voice": "pico-es_ES",
            "background": "keep",
            "max_rate": 1.5,
            "duck_db": -20,
        }
    )
    assert settings.background is Background.keep and settings.max_rate == 1.5
    options = settings.options()
    assert options.fit.max_rate == 1.5 and options.mix.background is Background.keep
    assert options.mix.duck_db == -20
    assert settings.choice().voice == "pico-es_ES"
    assert DubSettings.from_json({}) == DubSettings()
    for body, message in [
        ({"max_rate": 3}, "between 1 and 2"),
        ({"max_stretch": "fast"}, "must be a number"),
        ({"background": "loud"}, "must be one of duck, keep, none"),
        ({"duck_db": 6}, "between -60 and 0"),
        ({"voice": 5}, "must be a voice id"),
        ({"match_voice_to_pitch": "yes"}, "true or false"),
        ({"speed": 2}, "unknown dub option 'speed'"),
    ]:
        with pytest.raises(UsageError, match=message):
            DubSettings.from_json(body)
