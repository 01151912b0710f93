"""Machine translation: sentence splitting, Marian conversion, the OPUS-MT and Apertium engines.

No real OPUS-MT weights exist here, so the CTranslate2 engine runs end to end on a tiny random
Marian model built from the shared MT text and converted by the code `dubber models pull` uses.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import sacrebleu

from dubber.engines.apertium import ApertiumTranslator
from dubber.engines.opusmt import OpusMTConfig, OpusMTTranslator
from dubber.engines.types import Translator
from dubber.errors import DubberError
from dubber.measure.marian_builder import build_marian_release
from dubber.settings import RuntimeOptions
from dubber.store.convert import convert_opus_mt
from dubber.text import chunk_text, split_sentences

# Measured: Apertium eng-spa scores chrF 45.0 (BLEU 12.6) on shared/data/mt.
APERTIUM_MIN_CHRF = 44.0
# A random model never ends a sentence by itself; keep its outputs short.
TINY_CONFIG = OpusMTConfig(max_decoding_length=16)
RUNTIME = RuntimeOptions(device="cpu", compute_type="int8", threads=2)


@pytest.fixture(scope="module")
def mt_data(shared_data: Path) -> tuple[list[str], list[str]]:
    mt = shared_data / "mt"
    return (
        (mt / "test.en").read_text(encoding="utf-8").splitlines(),
        (mt / "test.es").read_text(encoding="utf-8").splitlines(),
    )


@pytest.fixture(scope="module")
def marian_release(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    corpus = [shared_data / "mt" / "test.en", shared_data / "mt" / "test.es"]
    return build_marian_release(tmp_path_factory.mktemp("marian") / "release", corpus)


@pytest.fixture(scope="module")
def tiny_model(marian_release: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("ct2") / "opus-mt-tiny"
    convert_opus_mt(marian_release, output)
    return output


@pytest.fixture(scope="module")
def opusmt(tiny_model: Path) -> OpusMTTranslator:
    return OpusMTTranslator(tiny_model, RUNTIME, TINY_CONFIG)


@pytest.fixture(scope="module")
def apertium() -> ApertiumTranslator:
    return ApertiumTranslator("en", "es")


# --- sentence splitting --------------------------------------------------------------------------


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


# --- conversion ----------------------------------------------------------------------------------


def test_conversion_writes_a_ctranslate2_folder(tiny_model: Path) -> None:
    names = {path.name for path in tiny_model.iterdir()}
    assert {"model.bin", "config.json", "source.spm", "target.spm"} <= names
    vocabulary = json.loads((tiny_model / "shared_vocabulary.json").read_text(encoding="utf-8"))
    assert vocabulary[:2] == ["</s>", "<unk>"] and vocabulary[-1] == "<pad>"
    assert len(set(vocabulary)) == len(vocabulary)  # the Marian YAML round-tripped intact


def test_convert_refuses_a_folder_that_is_not_a_marian_release(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model", encoding="utf-8")
    with pytest.raises(DubberError, match="not an OPUS-MT Marian release.*decoder.yml"):
        convert_opus_mt(tmp_path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_convert_names_missing_release_files(marian_release: Path, tmp_path: Path) -> None:
    broken = tmp_path / "release"
    broken.mkdir()
    (broken / "decoder.yml").write_bytes((marian_release / "decoder.yml").read_bytes())
    with pytest.raises(DubberError, match=r"missing .*\.npz.*source\.spm, target\.spm"):
        convert_opus_mt(broken, tmp_path / "out")


def test_convert_rejects_corrupt_weights(marian_release: Path, tmp_path: Path) -> None:
    broken = tmp_path / "release"
    broken.mkdir()
    for source in marian_release.iterdir():
        data = b"garbage" if source.suffix == ".npz" else source.read_bytes()
        (broken / source.name).write_bytes(data)
    with pytest.raises(DubberError, match="cannot convert"):
        convert_opus_mt(broken, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# --- OPUS-MT engine (CTranslate2) ----------------------------------------------------------------


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


# --- Apertium ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def apertium_output(
    apertium: ApertiumTranslator, mt_data: tuple[list[str], list[str]]
) -> list[str]:
    return [t.text for t in apertium.translate(mt_data[0])]


def test_apertium_chrf_on_shared_mt(
    apertium_output: list[str], mt_data: tuple[list[str], list[str]]
) -> None:
    assert len(apertium_output) == len(mt_data[1])
    chrf = sacrebleu.corpus_chrf(apertium_output, [mt_data[1]]).score
    assert chrf >= APERTIUM_MIN_CHRF


def test_apertium_keeps_digits(
    apertium_output: list[str], mt_data: tuple[list[str], list[str]]
) -> None:
    cardinal = re.compile(r"\d+(?!\d|st|nd|rd|th)")  # "10th century" becomes "siglo X"
    checked = 0
    for source, output in zip(mt_data[0], apertium_output, strict=True):
        numbers = Counter(cardinal.findall(source))
        checked += bool(numbers)
        assert not numbers - Counter(re.findall(r"\d+", output)), (source, output)
    assert checked > 20


def test_apertium_removes_unknown_word_marks(
    apertium: ApertiumTranslator, apertium_output: list[str]
) -> None:
    assert not any(re.search(r"[*#@]", line) for line in apertium_output)
    # Unknown word (*), no generation (#) and not in the bilingual dictionary (@), unmarked:
    texts = [
        t.text
        for t in apertium.translate(["He saw 42 blorfs.", "He bought a panel.", "In the 1960s."])
    ]
    assert "blorfs" in texts[0] and "panel" in texts[1] and "1960s" in texts[2]
    assert not any(re.search(r"[*#@]", text) for text in texts)
    # Marks that were in the source stay.
    [mail] = apertium.translate(["Write to bob@example.com about #tags."])
    assert "bob@example.com" in mail.text and "#" in mail.text


def test_apertium_keeps_line_alignment(apertium: ApertiumTranslator) -> None:
    sources = ["Good morning.", "", "The house is red.\nThe car is blue.", "   ", "Thank you."]
    translations = apertium.translate(sources, num_hypotheses=3)
    assert [t.source for t in translations] == sources
    assert [t.text for t in translations] == [
        "Buenos días.",
        "",
        "La casa es roja. El coche es azul.",
        "",
        "Gracias.",
    ]
    assert all(len(t.hypotheses) == 1 and t.hypotheses[0].score == 0.0 for t in translations)
    # Fragments stay apart: Apertium would otherwise reorder "red" + "car" across the break.
    [red, car] = apertium.translate(["I saw the red", "car is here."])
    assert "rojo" in red.text and "rojo" not in car.text


def test_apertium_missing_mode_names_the_package() -> None:
    with pytest.raises(
        DubberError,
        match=r"^apertium-eng-xx is not installed: run 'sudo apt-get install apertium-eng-xx'$",
    ):
        ApertiumTranslator("en", "xx")


def test_apertium_missing_binary_names_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DubberError, match="apertium-eng-spa is not installed"):
        ApertiumTranslator("en", "es")


def test_build_script_writes_release_and_converted_model(shared_data: Path, tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[1] / "scripts" / "build_tiny_marian.py"
    subprocess.run(
        [sys.executable, str(script), str(tmp_path), "--data", str(shared_data / "mt")],
        check=True,
        capture_output=True,
    )
    assert (tmp_path / "marian" / "decoder.yml").is_file()
    [translation] = OpusMTTranslator(tmp_path / "ct2", RUNTIME, TINY_CONFIG).translate(["Hi."])
    assert translation.text
