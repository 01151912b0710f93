"""Which files one `dubber dub` call works on, where outputs go, and glossaries."""

from __future__ import annotations

import pytest

from dubber.chain.glossary import Glossary
from dubber.dub.outputs import collect_inputs, plan_outputs
from dubber.engines.apertium import ApertiumTranslator
from dubber.errors import UsageError


def test_folders_expand_to_their_media_but_not_earlier_dubs(tmp_path):
    for name in ("a.mp4", "b.wav", "a.es.mp4", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    found = collect_inputs([tmp_path], "es")
    assert [p.name for p in found] == ["a.mp4", "b.wav"]


def test_outputs_go_beside_inputs_or_into_the_output_folder(tmp_path):
    inputs = [tmp_path / "a.mp4", tmp_path / "b.wav"]
    beside = plan_outputs(inputs, None, "en", "es", force=False)
    assert [p.media.name for p in beside] == ["a.es.mp4", "b.es.wav"]
    assert beside[0].document.name == "a.dub.json"
    assert beside[0].subtitles["es.srt"].name == "a.es.srt"
    into = plan_outputs(inputs, tmp_path / "out", "en", "es", force=False)
    assert all(p.media.parent == tmp_path / "out" for p in into)


def test_an_existing_output_needs_force(tmp_path):
    (tmp_path / "a.es.mp4").write_bytes(b"old")
    with pytest.raises(UsageError, match="--force"):
        plan_outputs([tmp_path / "a.mp4"], None, "en", "es", force=False)
    assert plan_outputs([tmp_path / "a.mp4"], None, "en", "es", force=True)


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
