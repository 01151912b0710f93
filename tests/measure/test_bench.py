"""`dubber bench` on ../shared/data with tiny inputs and one repetition: every stage reports
every field, Markdown and plots are written, and a planted slowdown is flagged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dubber.dub.job import Stage
from dubber.measure.bench.inputs import generated_inputs
from dubber.measure.bench.results import compare, rows_from_json
from dubber.measure.bench.sweep import Row, stat
from dubber.media.probe import probe
from dubber.settings import RuntimeOptions
from dubber.store.store import Store
from tests.helpers.cli import one_line_error, run_dubber

QUICK = ("--limit", "1", "--repeats", "1", "--warmup", "0", "--threads", "1")
EXPECTED = {
    "asr": {"rtf", "load_s", "audio_s"},
    "mt": {"sentences_per_s", "tokens_per_s", "ms_per_sentence"},
    "tts": {"rtf", "first_audio_s", "cold_first_audio_s", "load_s", "audio_s"},
    "dub": {"rtf", "media_s", *(f"{stage.value}_s" for stage in Stage)},
    "live": {"latency_s", "caption_latency_s", "input_s"},
}


@pytest.fixture(scope="module")
def bench_all(shared_data, tmp_path_factory) -> tuple[dict, Path]:
    """Every stage once: tiny.en, Apertium and a tiny random Marian model, espeak-ng."""
    folder = tmp_path_factory.mktemp("bench")
    result = run_dubber(
        "bench", "all", *QUICK, "--data", str(shared_data), "--asr-models", "whisper-tiny.en",
        "--voices", "espeak:es", "--random-shape", "tiny",
        "--json", str(folder / "bench.json"), "--markdown", str(folder / "BENCH.md"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads((folder / "bench.json").read_text(encoding="utf-8")), folder


@pytest.mark.slow
def test_every_stage_reports_every_field(bench_all):
    report, _ = bench_all
    rows = report["rows"]
    assert {r["stage"] for r in rows} == set(EXPECTED)
    for row in rows:
        assert set(row["metrics"]) == EXPECTED[row["stage"]], row["name"]
        assert row["primary"] in row["metrics"]
        assert row["peak_rss_mb"] > 50
        for metric in row["metrics"].values():
            assert metric["min"] <= metric["median"] <= metric["max"]
            assert metric["median"] > 0
    assert {r["name"] for r in rows if r["stage"] == "mt"} == {
        "apertium",
        "opus-mt-en-es (random weights)",
    }
    assert report["machine"]["cpus"] >= 1
    assert report["sweep"]["repeats"] == 1


@pytest.mark.slow
def test_markdown_has_a_table_per_stage_and_the_stage_plot(bench_all):
    _, folder = bench_all
    text = (folder / "BENCH.md").read_text(encoding="utf-8")
    for stage in EXPECTED:
        assert f"### {stage}" in text
    assert "random weights, tiny shape" in text
    for plot in ("bench-dub-stages.png", "bench-live-latency.png"):
        assert (folder / plot).read_bytes().startswith(b"\x89PNG")


@pytest.mark.slow
def test_compare_flags_a_planted_slowdown(shared_data, tmp_path):
    asr = ("bench", "asr", *QUICK, "--repeats", "3", "--data", str(shared_data),
           "--asr-models", "whisper-tiny.en")  # fmt: skip
    assert run_dubber(*asr, "--json", str(tmp_path / "before.json")).returncode == 0
    report = json.loads((tmp_path / "before.json").read_text(encoding="utf-8"))
    [row] = report["rows"]  # the baseline claims this setting was ten times as fast
    row["metrics"]["rtf"]["median"] /= 10
    (tmp_path / "baseline.json").write_text(json.dumps(report), encoding="utf-8")
    result = run_dubber(
        *asr, "--compare", str(tmp_path / "baseline.json"), "--json", str(tmp_path / "now.json")
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("error: 1 setting(s) slower than the baseline by more than 10%")
    assert "REGRESSION" in result.stdout
    [comparison] = json.loads((tmp_path / "now.json").read_text())["comparison"]
    assert comparison["flagged"] and comparison["slowdown"] > 1.1


def test_compare_ratios_respect_the_direction_of_each_metric():
    def row(stage: str, value: float, higher: bool) -> Row:
        return Row(stage, "m", {"threads": 1}, {"x": stat([value])}, "x", higher)

    baseline = [row("asr", 0.10, False), row("mt", 10.0, True)]
    current = [row("asr", 0.105, False), row("mt", 4.0, True)]
    asr, mt = compare(current, baseline, threshold=0.1)
    assert asr.slowdown == pytest.approx(1.05) and not asr.flagged
    assert mt.slowdown == pytest.approx(2.5) and mt.flagged
    assert rows_from_json({"rows": [r.__dict__ for r in current]})[1].median() == 4.0


def test_cuda_types_on_the_cpu_are_refused():
    one_line_error(
        run_dubber("bench", "asr", "--device", "cpu", "--compute-types", "float16"),
        "needs --device cuda",
    )


@pytest.mark.slow
def test_without_shared_data_a_sample_is_generated():
    inputs = generated_inputs(Store(), RuntimeOptions(threads=1), 1)
    [audio] = inputs.audio
    assert probe(audio).duration > 2
    assert inputs.sources == ["Good evening, and welcome to the late news."]
    assert "bienvenido" in inputs.speech_lines[0].lower()
