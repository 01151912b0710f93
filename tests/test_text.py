"""Sentence splitting and size-bounded chunking of English and Spanish text."""

from __future__ import annotations

import pytest

from dubber.text import chunk_text, speech_pieces, split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Mr. Smith paid $3.5 million in the U.S. and left! Did he? Yes.",
            ["Mr. Smith paid $3.5 million in the U.S. and left!", "Did he?", "Yes."],
        ),
        (
            "J. K. Rowling wrote it, e.g. Harry Potter. Then...",
            ["J. K. Rowling wrote it, e.g. Harry Potter.", "Then..."],
        ),
        (
            'He said "Stop." Then he left... And came back.',
            ['He said "Stop."', "Then he left...", "And came back."],
        ),
        (
            "¿Cómo está la Sra. Díaz? ¡Muy bien! Vino a las 3.30.",
            ["¿Cómo está la Sra. Díaz?", "¡Muy bien!", "Vino a las 3.30."],
        ),
        (
            "It ended in 2016. Nobody   knew.\n\nNew paragraph\nwithout a stop",
            ["It ended in 2016.", "Nobody knew.", "New paragraph without a stop"],
        ),
        ("Yahoo! is a firm. what? no.", ["Yahoo! is a firm. what? no."]),
        (" \n ", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_chunk_text_packs_sentences_then_cuts_clauses_words_and_letters() -> None:
    text = (
        "One. Two. A longer sentence, with a clause; and another one: here. " + "X" * 35 + " End."
    )
    chunks = chunk_text(text, 30)
    assert chunks == [
        "One. Two.",
        "A longer sentence,",
        "with a clause;",
        "and another one: here.",
        "X" * 30,
        "X" * 5,
        "End.",
    ]
    assert chunk_text("Short. Text.", 100) == ["Short. Text."]
    assert chunk_text(" \n ", 10) == []


def test_speech_starts_with_a_short_clause_then_sentence_sized_pieces() -> None:
    text = (
        "El consejo municipal aprobó ayer, tras un largo debate, un nuevo presupuesto. "
        "Diez líneas de autobús abrirán antes de fin de año."
    )
    pieces = speech_pieces(text, 40)
    assert len(pieces[0]) <= 40 and pieces[0].endswith(",")
    assert " ".join(pieces) == " ".join(text.split())
    assert all(len(piece) <= 160 for piece in pieces[1:])
    assert speech_pieces("Hola.", 40) == ["Hola."] and speech_pieces("  ", 40) == []
