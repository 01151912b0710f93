"""The LLM translator's own logic on a scripted decoder (no model): the fall-back when the
model's output is unusable, the shorten re-ask, n-best from a beam, the output checks (also on
the human references of shared/data/mt, which they must all accept), and the runtime chosen per
device. Both runtimes are run for real on a tiny random qwen2 GGUF written here."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from dubber.chain.line import Line
from dubber.chain.translate import FALLBACK, translate_lines
from dubber.dub.flags import FLAG_LEGEND, flag_lines
from dubber.engines.apertium import ApertiumTranslator
from dubber.engines.llm import (
    SHORTEST_REWRITE,
    Candidate,
    LLMTranslator,
    Request,
    clean_output,
    keeps_numbers,
    rejection,
)
from dubber.engines.llm.runtimes import load_decoder, runtime_for
from dubber.store.gguf import convert_gguf
from dubber.store.openvino_ir import save_openvino_ir
from dubber.text import syllables
from tests.helpers.models import RUNTIME
from tests.store.test_gguf import write_tiny_qwen2

SOURCE = "On Monday, Maria Lopez paid 250 euros for two tickets to Madrid."
SPANISH = "El lunes, Maria Lopez pagó 250 euros por dos entradas para Madrid."


class ScriptedDecoder:
    """A decoder whose answer to each request is `answer(request)`; it keeps every call."""

    runtime = "scripted"

    def __init__(self, answer: Callable[[Request], list[Candidate]]) -> None:
        self.answer = answer
        self.calls: list[list[Request]] = []

    def generate(self, requests: Sequence[Request]) -> list[list[Candidate]]:
        self.calls.append(list(requests))
        return [self.answer(request) for request in requests]

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def translator(answer: Callable[[Request], list[Candidate]]) -> LLMTranslator:
    return LLMTranslator(ScriptedDecoder(answer), fallback=ApertiumTranslator("en", "es"))


@pytest.mark.parametrize(
    ("bad", "truncated", "reason"),
    [
        ("el silencio al tocar " * 3, True, "runaway"),
        (SOURCE, False, "left in English"),
        ("Por supuesto, aquí tienes la traducción: El lunes, María pagó.", False, "commentary"),
        ("", False, "empty output"),
    ],
)
def test_an_unusable_output_falls_back_to_apertium_with_a_warning(caplog, bad, truncated, reason):
    llm = translator(lambda request: [Candidate(bad, -1.0, truncated)])
    with caplog.at_level(logging.WARNING, logger="dubber.engines.llm"):
        (result,) = llm.translate([SOURCE])
    assert result.text == ApertiumTranslator("en", "es").translate([SOURCE])[0].text
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "line 1" in warning and reason in warning and "using apertium" in warning


def test_every_text_of_a_call_goes_to_the_decoder_in_one_call_with_the_shared_prefix():
    museum = "El museo abre a las 9."
    llm = translator(lambda r: [Candidate(SPANISH if "Lopez" in r.turn else museum, -1.0)])
    texts = [SOURCE, "", "The museum opens at 9.", SOURCE]
    results = llm.translate(texts)
    (call,) = llm.decoder.calls
    assert len(call) == 2  # the blank text is not decoded, a repeated one once
    assert len({request.static for request in call}) == 1
    assert all(r.turn.endswith("assistant\n") and r.beam == 1 for r in call)
    assert [r.text for r in results] == [SPANISH, "", museum, SPANISH]


def test_a_length_limit_follows_the_source_and_has_a_cap():
    llm = translator(lambda request: [Candidate(SPANISH, -1.0)])
    llm.translate([SOURCE, "word " * 1000])
    short, long = llm.decoder.calls[0]
    assert short.limit < long.limit == llm.config.max_length_cap


def test_nbest_asks_a_beam_and_keeps_distinct_acceptable_candidates_best_first():
    candidates = [
        Candidate(SPANISH, -0.5),
        Candidate(SPANISH, -0.7),
        Candidate("El lunes, Maria Lopez pagó doscientos euros por dos entradas.", -0.9),
        Candidate("Here is the translation: El lunes pagó.", -1.0),
    ]
    llm = translator(lambda request: candidates)
    (result,) = llm.translate([SOURCE], num_hypotheses=3)
    assert llm.decoder.calls[0][0].beam == max(llm.config.beam_size, 3)
    assert [h.text for h in result.hypotheses] == [SPANISH, candidates[2].text]


def test_a_candidate_that_drops_a_number_ranks_after_one_that_keeps_it():
    lost = Candidate("El lunes, Maria Lopez pagó euros por dos entradas para Madrid.", -0.1)
    llm = translator(lambda request: [lost, Candidate(SPANISH, -0.9)])
    (result,) = llm.translate([SOURCE], num_hypotheses=2)
    assert result.hypotheses[0].text == SPANISH


def test_a_line_over_its_syllable_target_is_asked_once_for_shorter_versions():
    short = "El lunes, Maria Lopez pagó 250 euros en Madrid."

    def answer(request: Request) -> list[Candidate]:
        if "Shorten" in request.turn:
            return [Candidate(short, -1.0), Candidate(SPANISH + " " + SPANISH, -2.0)]
        return [Candidate(SPANISH, -0.5)]

    llm = translator(answer)
    (result,) = llm.translate([SOURCE], max_syllables=[12])
    assert len(llm.decoder.calls) == 2  # the translation, then one batch of rewrites
    rewrite = llm.decoder.calls[1][0]
    assert rewrite.beam == llm.config.beam_size and SPANISH in rewrite.turn and "12" in rewrite.turn
    assert result.text == short and syllables(short) < syllables(SPANISH)
    assert rejection(SOURCE, short, shortest=SHORTEST_REWRITE) is None


def test_a_text_decoded_before_is_not_decoded_again():
    llm = translator(lambda request: [Candidate(SPANISH, -0.5)])
    llm.translate([SOURCE])
    again, _ = llm.translate([SOURCE, "The museum opens at 9."])
    assert len(llm.decoder.calls) == 2 and len(llm.decoder.calls[1]) == 1
    assert again.text == SPANISH
    llm.translate([SOURCE], num_hypotheses=2)  # another beam is another request
    assert len(llm.decoder.calls) == 3


def test_a_line_within_its_target_is_not_asked_again():
    llm = translator(lambda request: [Candidate(SPANISH, -0.5)])
    llm.translate([SOURCE], max_syllables=[100])
    assert len(llm.decoder.calls) == 1


def test_a_pair_the_prompts_do_not_cover_is_refused():
    with pytest.raises(Exception, match="does not translate en->ja"):
        LLMTranslator(
            ScriptedDecoder(lambda r: []), fallback=ApertiumTranslator("en", "es"),
            target_language="ja",
        )  # fmt: skip


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


def test_the_cpu_runs_the_llm_on_openvino_and_cuda_on_ctranslate2():
    assert runtime_for("cpu") == "openvino"  # the llm extra installs openvino-genai
    assert runtime_for("cuda") == "ctranslate2"


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory) -> Path:
    return write_tiny_qwen2(tmp_path_factory.mktemp("gguf") / "tiny.gguf")


@pytest.mark.parametrize("runtime_name", ["openvino", "ctranslate2"])
def test_each_runtime_decodes_a_batch_with_beams_and_limits(tiny_gguf, tmp_path, runtime_name):
    folder = tmp_path / runtime_name
    (save_openvino_ir if runtime_name == "openvino" else convert_gguf)(tiny_gguf, folder)
    decoder = load_decoder(folder, runtime_name, RUNTIME)
    static = "<|im_start|>system\nthe he<|im_end|>\n"
    turn = "<|im_start|>user\n" + "the " * 12  # longer than CTranslate2's length bucket
    requests = [Request(static, turn, 4), Request(static, turn + "he", 3, beam=2)]
    greedy, beam = decoder.generate(requests)
    assert len(greedy) == 1 and len(beam) == 2
    assert beam[0].score >= beam[1].score
    # a random model rarely ends by itself: what ran to the limit says so
    assert all(c.truncated or "<|im_end|>" not in c.text for c in [*greedy, *beam])
    assert decoder.count_tokens("the the") >= 1


def test_a_fallen_back_line_is_flagged_until_an_editor_rewrites_it():
    llm = translator(lambda request: [Candidate(SOURCE, -1.0)])  # English left as it was
    (result,) = llm.translate([SOURCE])
    assert result.fallback == "apertium"
    line = Line(index=0, start=0.0, end=2.0, source=SOURCE)
    translate_lines([line], llm)
    assert "apertium translated it" in line.flags[FALLBACK]
    flag_lines([line], "es")  # the dub's own flags keep it
    assert FALLBACK in line.flags and FALLBACK in FLAG_LEGEND
    fine = translator(lambda request: [Candidate(SPANISH, -1.0)])
    assert fine.translate([SOURCE])[0].fallback is None
