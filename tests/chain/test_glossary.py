"""Glossaries: terms kept or forced through a real translator, in the translate step every
command shares."""

from __future__ import annotations

import pytest

from dubber.chain.glossary import Glossary
from dubber.chain.line import Line
from dubber.chain.translate import translate_lines
from dubber.engines.apertium import ApertiumTranslator
from dubber.errors import UsageError


def test_glossary_forces_and_keeps_terms_through_apertium(tmp_path):
    terms = tmp_path / "terms.tsv"
    terms.write_text("# sports desk\nRed Devils\nmatch\tencuentro\n", encoding="utf-8")
    glossary = Glossary.load(terms)
    source = "The Red Devils won the match yesterday."
    protected, terms = glossary.protect(source)
    assert "Red Devils" not in protected and terms == ["Red Devils", "encuentro"]
    (translation,) = ApertiumTranslator().translate([protected])
    text = glossary.restore(translation.text, terms)
    assert "Red Devils" in text and "encuentro" in text
    assert glossary.missing(source, text) == []
    assert glossary.missing(source, "Ganaron ayer.") == ["Red Devils", "encuentro"]


def test_a_broken_glossary_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="not found"):
        Glossary.load(tmp_path / "missing.tsv")
    bad = tmp_path / "bad.tsv"
    bad.write_text("\tonly a target\n", encoding="utf-8")
    with pytest.raises(UsageError, match="empty source term"):
        Glossary.load(bad)


def test_the_translate_step_applies_the_glossary_to_every_line(tmp_path):
    terms = tmp_path / "terms.tsv"
    terms.write_text("Red Devils\nmatch\tencuentro\n", encoding="utf-8")
    lines = [
        Line(0, 0.0, 2.0, "The Red Devils won the match."),
        Line(1, 2.0, 4.0, "Good evening."),
    ]
    translate_lines(lines, ApertiumTranslator(), glossary=Glossary.load(terms))
    assert "Red Devils" in lines[0].translation and "encuentro" in lines[0].translation
    assert lines[1].translation == lines[1].hypotheses[0].text and len(lines[1].hypotheses) == 1
