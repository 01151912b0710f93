"""The Apertium engine (Debian's apertium-eng-spa) on the shared English-Spanish sentences."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import sacrebleu

from dubber.engines.apertium import ApertiumTranslator
from dubber.errors import DubberError

# Measured: Apertium eng-spa scores chrF 45.0 (BLEU 12.6) on shared/data/mt.
APERTIUM_MIN_CHRF = 44.0


@pytest.fixture(scope="module")
def apertium() -> ApertiumTranslator:
    return ApertiumTranslator("en", "es")


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


def test_one_pipeline_serves_every_call_and_restarts_if_it_dies() -> None:
    translator = ApertiumTranslator("en", "es")
    [first] = translator.translate(["The house is red."])
    pipeline = translator._process
    assert pipeline is not None
    for _ in range(5):
        translator.translate(["Good morning.", "The car is blue."])
    assert translator._process is pipeline, "a text must not start a process"
    pipeline.kill()
    pipeline.wait()
    [again] = translator.translate(["The house is red."])
    assert again.text == first.text == "La casa es roja."
    translator.close()


def test_a_line_far_over_the_pipe_buffers_translates_as_apertium_alone_does(
    apertium: ApertiumTranslator, tmp_path: Path
) -> None:
    """A 75 KB single line (the pipes hold 64 KiB) comes back whole, as `apertium` gives it,
    with the lines around it kept in place."""
    sentences = ["The weather is nice today.", "The market opened higher on Monday."] * 1200
    line = " ".join(sentences)
    text = tmp_path / "line.txt"
    text.write_text(line + "\n", encoding="utf-8")
    alone = subprocess.run(
        ["apertium", "-u", "eng-spa", str(text)], capture_output=True, text=True, check=True
    )
    before, long, after = apertium.translate(["The house is red.", line, "Good morning."])
    assert long.text == " ".join(alone.stdout.split())
    assert (before.text, after.text) == ("La casa es roja.", "Buenos días.")
