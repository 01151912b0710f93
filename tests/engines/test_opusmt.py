"""The OPUS-MT engine (CTranslate2). No real OPUS-MT weights exist here, so it runs end to end
on a tiny random Marian model built from the shared MT text and converted by the code
`dubber models pull` uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from dubber.engines.opusmt import OpusMTConfig, OpusMTTranslator
from dubber.engines.protocols import Translator
from dubber.errors import DubberError
from dubber.text import chunk_text, split_sentences
from tests.helpers.models import RUNTIME, TINY_CONFIG


@pytest.fixture(scope="module")
def opusmt(tiny_model: Path) -> OpusMTTranslator:
    return OpusMTTranslator(tiny_model, RUNTIME, TINY_CONFIG)


def test_opusmt_translates_a_batch_one_output_per_input(
    opusmt: OpusMTTranslator, mt_data: tuple[list[str], list[str]]
) -> None:
    sources = mt_data[0][:12]
    translations = opusmt.translate(sources)
    assert isinstance(opusmt, Translator)
    assert [t.source for t in translations] == sources
    assert all(t.text.strip() and len(t.hypotheses) == 1 for t in translations)
    for translation in translations:
        assert "▁" not in translation.text and "</s>" not in translation.text


def test_opusmt_nbest_distinct_and_ranked(opusmt: OpusMTTranslator) -> None:
    [translation] = opusmt.translate(["The committee could not reach him."], num_hypotheses=3)
    texts = [h.text for h in translation.hypotheses]
    scores = [h.score for h in translation.hypotheses]
    assert len(texts) == 3 and len(set(texts)) == 3
    assert scores == sorted(scores, reverse=True) and all(s < 0 for s in scores)
    assert not any("▁" in text for text in texts)


def test_opusmt_splits_long_input_and_rejoins_it(
    opusmt: OpusMTTranslator, mt_data: tuple[list[str], list[str]]
) -> None:
    sentences = [line for line in mt_data[0] if len(split_sentences(line)) == 1][:3]
    [whole] = opusmt.translate([" ".join(sentences)])
    separately = opusmt.translate(sentences)
    assert whole.text == " ".join(t.text for t in separately)
    [nbest] = opusmt.translate([" ".join(sentences)], num_hypotheses=2)
    assert nbest.text == whole.text and len(nbest.hypotheses) == 2


def test_opusmt_cuts_over_long_sentences_at_clauses(tiny_model: Path) -> None:
    translator = OpusMTTranslator(
        tiny_model, RUNTIME, OpusMTConfig(max_decoding_length=16, max_sentence_chars=40)
    )
    sentence = "The museum opened in 1990, and the garden, which is older, opened later."
    clauses = chunk_text(sentence, 40)
    assert len(clauses) > 1
    [whole] = translator.translate([sentence])
    assert whole.text == " ".join(t.text for t in translator.translate(clauses))


def test_opusmt_blank_inputs_give_empty_strings(opusmt: OpusMTTranslator) -> None:
    assert opusmt.translate([]) == []
    translations = opusmt.translate(["", "   \n", "Hello there."], num_hypotheses=2)
    # The random model turns any input, even an empty one, into text: "" means it was not run.
    assert [t.text for t in translations[:2]] == ["", ""]
    assert translations[2].text


def test_opusmt_batching_does_not_change_results(
    opusmt: OpusMTTranslator, tiny_model: Path, mt_data: tuple[list[str], list[str]]
) -> None:
    sources = mt_data[0][20:36]
    one_by_one = [opusmt.translate([source])[0].text for source in sources]
    assert [t.text for t in opusmt.translate(sources)] == one_by_one
    by_tokens = OpusMTTranslator(
        tiny_model,
        RUNTIME,
        OpusMTConfig(max_decoding_length=16, max_batch_size=100, batch_type="tokens"),
    )
    assert [t.text for t in by_tokens.translate(sources)] == one_by_one


def test_opusmt_folder_without_model_is_a_dubber_error(tmp_path: Path) -> None:
    with pytest.raises(DubberError, match="missing model.bin, source.spm, target.spm"):
        OpusMTTranslator(tmp_path)


def test_opusmt_beam_is_a_per_call_option(opusmt: OpusMTTranslator, mt_data) -> None:
    """Live decoding asks for a beam of 1 per call; the loaded model and its config stay."""
    sources = mt_data[0][:6]
    greedy = [t.text for t in opusmt.translate(sources, beam_size=1)]
    assert greedy == [t.text for t in opusmt.translate(sources, beam_size=1)]
    assert opusmt.config.beam_size == TINY_CONFIG.beam_size
    assert [t.text for t in opusmt.translate(sources)] == [
        t.text for t in opusmt.translate(sources, beam_size=TINY_CONFIG.beam_size)
    ]
