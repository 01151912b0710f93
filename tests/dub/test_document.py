"""The dub document: what a dub writes reads back the same, an edited one is validated field by
field, and version 1 documents still read."""

from __future__ import annotations

import json

import pytest

from dubber.chain.fit import FitOutcome
from dubber.chain.line import Line
from dubber.dub.document import DubDocument
from dubber.engines.types import Hypothesis, Word
from dubber.engines.voice import Voice
from dubber.errors import UsageError


def document() -> DubDocument:
    line = Line(
        0, 1.0, 2.5, "Good evening.",
        words=[Word("Good", 1.0, 1.4, 0.9), Word("evening.", 1.5, 2.5, 0.8)],
        hypotheses=[Hypothesis("Buenas noches.", -0.2), Hypothesis("Buena tarde.", -0.9)],
        translation="Buenas noches.", voice=Voice("kokoro-82m-offline", "jm_kumo"),
        pitch_hz=120.5, rate=1.1, stretch=1.0, placed_start=1.0, placed_end=2.4,
        fit=FitOutcome.rate,
    )  # fmt: skip
    return DubDocument("news.mp4", 26.0, "en", "es", "whisper-tiny.en", "apertium", "v", [line])


def test_a_saved_document_reads_back_the_same(tmp_path):
    path = tmp_path / "news.dub.json"
    document().save(path)
    assert DubDocument.load(path) == document()
    assert json.loads(path.read_text(encoding="utf-8"))["lines"][0]["voice"] == (
        "kokoro-82m-offline:jm_kumo"
    )


def test_a_version_1_document_still_reads(tmp_path):
    data = json.loads(document().to_json())
    data["version"], data["utterances"] = 1, data.pop("lines")
    data["utterances"][0]["words"] = [
        {"text": w[0], "start": w[1], "end": w[2], "probability": w[3]}
        for w in data["utterances"][0]["words"]
    ]
    path = tmp_path / "old.dub.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert DubDocument.load(path) == document()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["lines"][0].update(start="abc"),
            r"line 1: 'start' must be a number, not \"abc\"",
        ),
        (lambda d: d["lines"][0].update(translation=12345), "line 1: 'translation' must be text"),
        (lambda d: d["lines"][0].update(end=0.5), "line 1 ends .* before it starts"),
        (lambda d: d["lines"][0].update(fit="sped"), "'fit' must be one of natural"),
        (lambda d: d["lines"][0].pop("start"), "line 1: 'start' is missing"),
        (lambda d: d.update(lines={}), "'lines' must be a list"),
        (lambda d: d.update(version=7), "dub format version 7"),
        (
            lambda d: d["lines"][0].update(transaltion="Hola."),
            "line 1: unknown field 'transaltion': did you mean 'translation'",
        ),
        (lambda d: d.update(notes="x"), "unknown field 'notes'"),
    ],
)
def test_a_wrong_field_is_named(tmp_path, edit, message):
    data = json.loads(document().to_json())
    edit(data)
    path = tmp_path / "edited.dub.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(UsageError, match=message):
        DubDocument.load(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[]", "must be a JSON object"),
        (b"{not json", "is not valid JSON"),
        (b"\x00\x01\x02binary", "is a binary file"),
        (b"\xff\xfe{}", "is not UTF-8"),
    ],
)
def test_a_file_that_is_not_a_document_is_one_error(tmp_path, content, message):
    path = tmp_path / "x.dub.json"
    path.write_bytes(content)
    with pytest.raises(UsageError, match=message):
        DubDocument.load(path)
    with pytest.raises(UsageError, match="is a folder"):
        DubDocument.load(tmp_path)
