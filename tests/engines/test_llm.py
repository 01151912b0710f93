"""The LLM translator on the real Qwen2.5-Coder model, converted once per session from its PyPI
packs: names and numbers kept, n-best, glossary terms through the translate step, the shorten
re-ask, and the fall-back when the model's output is unusable. The output checks are also run on
the human references of shared/data/mt, which they must all accept."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pytest

from dubber.chain.glossary import Glossary
from dubber.chain.line import Line
from dubber.chain.translate import translate_lines
from dubber.engines.apertium import ApertiumTranslator
from dubber.engines.llm import (
    SHORTEST_REWRITE,
    LLMTranslator,
    clean_output,
    keeps_numbers,
    rejection,
)
from dubber.text import syllables
from tests.helpers.models import RUNTIME

SENTENCES = [
    "On Monday, Maria Lopez paid 250 euros for two tickets to Madrid.",
    "The museum opens at 9 o'clock and closes at 5.",
]


@pytest.fixture(scope="module")
def llm(llm_model: Path) -> LLMTranslator:
    return LLMTranslator(llm_model, RUNTIME, fallback=ApertiumTranslator("en", "es"))


def test_translates_into_spanish_keeping_names_and_numbers(llm):
    first, second = llm.translate(SENTENCES)
    assert "López" in first.text and "250" in first.text and "Madrid" in first.text
    assert "lunes" in first.text.lower() and "euros" in first.text
    assert "9" in second.text and "5" in second.text and "museo" in second.text.lower()
    assert [t.source for t in (first, second)] == SENTENCES


def test_nbest_gives_distinct_acceptable_candidates_best_first(llm):
    (result,) = llm.translate(SENTENCES[:1], num_hypotheses=3)
    texts = [h.text for h in result.hypotheses]
    assert 2 <= len(texts) <= 3 and len(set(texts)) == len(texts)
    assert all(rejection(SENTENCES[0], text) is None for text in texts)
    scores = [h.score for h in result.hypotheses]
    assert scores == sorted(scores, reverse=True)


def test_glossary_terms_survive_the_translate_step(llm, tmp_path):
    terms = tmp_path / "terms.tsv"
    terms.write_text("Red Devils\nmatch\tencuentro\n", encoding="utf-8")
    lines = [Line(0, 0.0, 3.0, "The Red Devils won the match against Chelsea yesterday.")]
    translate_lines(lines, llm, glossary=Glossary.load(terms))
    text = lines[0].translation
    assert "Red Devils" in text and "encuentro" in text and "Chelsea" in text, text
    assert Glossary.load(terms).missing(lines[0].source, text) == []


@pytest.mark.slow
def test_a_line_over_its_syllable_target_is_asked_once_for_shorter_versions(llm, monkeypatch):
    source = (
        "Good evening and welcome to the late news, where we bring you the most important"
        " stories of the day."
    )
    (plain,) = llm.translate([source])
    counting = _Counting(llm._generator)
    monkeypatch.setattr(llm, "_generator", counting)
    (short,) = llm.translate([source], max_syllables=[12])
    assert syllables(short.text) < syllables(plain.text), short.text
    assert rejection(source, short.text, shortest=SHORTEST_REWRITE) is None
    assert counting.calls == 2  # the translation, then one batch of rewrites


class _Counting:
    """The real generate step, counting its calls."""

    def __init__(self, generator: object) -> None:
        self.generator, self.calls = generator, 0

    def generate_batch(self, *args: object, **options: object) -> list:
        self.calls += 1
        return self.generator.generate_batch(*args, **options)


@dataclass
class _Result:
    sequences_ids: list[list[int]]
    scores: list[float]


class _Generator:
    """Stands in for CTranslate2's generate step: answers every prompt with `text`."""

    def __init__(self, tokenizer, text: str) -> None:  # noqa: ANN001 - a tokenizers.Tokenizer
        self.ids = tokenizer.encode(text, add_special_tokens=False).ids

    def generate_batch(self, prompts, *, max_length, num_hypotheses, **_):  # noqa: ANN001
        ids = self.ids[:max_length]
        return [_Result([ids] * num_hypotheses, [-1.0] * num_hypotheses) for _ in prompts]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("el silencio al tocar " * 40, "runaway"),
        ("On Monday, Maria Lopez paid 250 euros for two tickets to Madrid.", "left in English"),
        ("Por supuesto, aquí tienes la traducción: El lunes, María pagó.", "commentary"),
        ("", "empty output"),
    ],
)
def test_an_unusable_output_falls_back_to_apertium_with_a_warning(
    llm, monkeypatch, caplog, bad, reason
):
    monkeypatch.setattr(llm, "_generator", _Generator(llm._tokenizer, bad))
    with caplog.at_level(logging.WARNING, logger="dubber.engines.llm"):
        (result,) = llm.translate(SENTENCES[:1])
    assert result.text == ApertiumTranslator("en", "es").translate(SENTENCES[:1])[0].text
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "line 1" in warning and reason in warning and "using apertium" in warning


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        ("   ", "empty output"),
        ("The meeting starts at 10.", "left in English"),
        ("Claro, aquí está: La reunión empieza a las 10.", "commentary"),
        ("Traducción al español:\nLa reunión empieza a las 10.", "several lines"),
        ("La reunión empieza a las 10. " * 4, "repeats itself"),
        (
            "La reunión empieza a las 10 y dura dos horas, con café, pastas y una charla muy"
            " larga sobre el presupuesto del año que viene.",
            "times the source's length",
        ),
    ],
)
def test_output_checks_name_what_is_wrong(output, reason):
    assert reason in rejection("The meeting starts at 10.", output)


def test_candidates_that_keep_the_numbers_rank_first():
    assert keeps_numbers("Gate 12 at 9:40.", "Puerta 12 a las 9:40.")
    assert not keeps_numbers("Gate 12 at 9:40.", "Puerta doce a las 9:40.")


def test_output_checks_accept_every_human_reference(mt_data):
    sources, references = mt_data
    rejected = [
        (source, reference, why)
        for source, reference in zip(sources, references, strict=True)
        if (why := rejection(source, clean_output(source, reference)))
    ]
    assert rejected == []
