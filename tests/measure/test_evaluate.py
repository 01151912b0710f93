"""`dubber eval` on ../shared/data: its numbers are what jiwer and sacrebleu give on the texts
it saved, and bad manifests fail with one clear line."""

from __future__ import annotations

import json
from pathlib import Path

import jiwer
import pytest
import sacrebleu
from whisper_normalizer.basic import BasicTextNormalizer
from whisper_normalizer.english import EnglishTextNormalizer

from dubber.chain.fit import FitOutcome
from dubber.chain.line import Line
from dubber.dub.document import DubDocument
from tests.helpers.cli import one_line_error, run_dubber

MT_LINES = 40
ASR_CLIPS = 4


def _lines(path: str | Path) -> list[str]:
    return Path(path).read_text(encoding="utf-8").splitlines()


def _eval(tmp: Path, *arguments: str) -> tuple[dict, str]:
    """Run `dubber eval ARGS --json tmp/report.json`; the report and stdout."""
    result = run_dubber("eval", *arguments, "--json", str(tmp / "report.json"))
    assert result.returncode == 0, result.stderr
    return json.loads((tmp / "report.json").read_text(encoding="utf-8")), result.stdout


@pytest.fixture(scope="module")
def asr_report(shared_data, tmp_path_factory) -> dict:
    """whisper-tiny.en on the first rows of refs.tsv (file, duration_s, reference_text), the
    files given as absolute paths."""
    tmp = tmp_path_factory.mktemp("asr")
    header, *rows = _lines(shared_data / "asr" / "refs.tsv")
    absolute = [f"{shared_data / 'asr'}/{row}" for row in rows[:ASR_CLIPS]]
    (tmp / "refs.tsv").write_text("\n".join([header, *absolute]) + "\n", encoding="utf-8")
    report, _ = _eval(tmp, "asr", str(tmp / "refs.tsv"), "--model", "whisper-tiny.en", "--plain")
    return report


@pytest.mark.slow
def test_asr_is_never_worse_than_plain_faster_whisper(asr_report):
    """The baseline is faster-whisper itself, run here with its own defaults and the same beam:
    dubber's VAD and options must not cost words on these clips."""
    from faster_whisper import WhisperModel

    from dubber.store.store import Store

    model = WhisperModel(str(Store().path("whisper-tiny.en")), compute_type="int8", cpu_threads=2)
    plain = [
        " ".join(s.text.strip() for s in model.transcribe(item["file"], beam_size=5)[0])
        for item in asr_report["items"]
    ]
    normalise = EnglishTextNormalizer()
    refs = [" ".join(normalise(i["reference"]).split()) for i in asr_report["items"]]
    plain_wer = jiwer.wer(refs, [" ".join(normalise(text).split()) for text in plain])
    assert asr_report["plain_wer"] == pytest.approx(plain_wer)
    assert asr_report["wer"] <= plain_wer


@pytest.mark.slow
def test_asr_metrics_equal_jiwer_on_the_saved_texts(asr_report):
    refs, hyps = _lines(asr_report["files"]["ref"]), _lines(asr_report["files"]["hyp"])
    assert len(hyps) == asr_report["clips"] == ASR_CLIPS
    assert asr_report["wer"] == pytest.approx(jiwer.wer(refs, hyps))
    assert asr_report["cer"] == pytest.approx(jiwer.cer(refs, hyps))
    assert asr_report["wer"] < 0.1


@pytest.mark.slow
def test_asr_saved_texts_are_whisper_normalised_items(asr_report):
    normalise = EnglishTextNormalizer()
    items = asr_report["items"]
    expected = [" ".join(normalise(i["hypothesis"]).split()) for i in items]
    assert _lines(asr_report["files"]["hyp"]) == expected
    assert all(Path(i["file"]).is_file() for i in items)


@pytest.mark.slow
def test_mt_bleu_and_chrf_equal_sacrebleu(shared_data, tmp_path):
    source, reference = tmp_path / "src.en", tmp_path / "ref.es"
    source.write_text("\n".join(_lines(shared_data / "mt" / "test.en")[:MT_LINES]) + "\n")
    reference.write_text("\n".join(_lines(shared_data / "mt" / "test.es")[:MT_LINES]) + "\n")
    report, stdout = _eval(tmp_path, "mt", str(source), str(reference), "--engine", "apertium")
    hyps, refs = _lines(report["files"]["hyp"]), _lines(str(reference))
    assert len(hyps) == MT_LINES
    assert report["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score)
    assert report["chrf"] == pytest.approx(sacrebleu.corpus_chrf(hyps, [refs]).score)
    assert 5 < report["bleu"] < 60
    assert "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:" in stdout
    assert report["signature"]["bleu"] in stdout


@pytest.mark.slow
def test_tts_round_trip_error_rates_and_speaking_rate(shared_data, tmp_path):
    text = tmp_path / "lines.es"
    text.write_text("\n".join(_lines(shared_data / "mt" / "test.es")[:1]) + "\n")
    report, _ = _eval(tmp_path, "tts", str(text), "--voice", "espeak:es")
    refs, hyps = _lines(report["files"]["ref"]), _lines(report["files"]["hyp"])
    assert report["wer"] == pytest.approx(jiwer.wer(refs, hyps))
    assert report["cer"] == pytest.approx(jiwer.cer(refs, hyps))
    normalise = BasicTextNormalizer()
    assert refs == [" ".join(normalise(i["text"]).split()) for i in report["items"]]
    characters = sum(len(i["text"]) for i in report["items"])
    assert report["chars_per_second"] == pytest.approx(characters / report["audio_seconds"])
    assert 8 < report["chars_per_second"] < 30
    assert report["cer"] < 0.5  # espeak-ng is robotic but Whisper understands most of it


@pytest.mark.slow
def test_s2st_asr_bleu_equals_sacrebleu_on_the_heard_spanish(shared_data, tmp_path):
    report, _ = _eval(
        tmp_path,
        "s2st", str(shared_data / "asr" / "st_refs.tsv"), "--engine", "apertium",
        "--voice", "espeak:es", "--asr-model", "whisper-tiny.en",
    )  # fmt: skip
    heard, refs = _lines(report["files"]["hyp"]), _lines(report["files"]["ref"])
    assert len(heard) == report["clips"] == 3
    assert report["asr_bleu"] == pytest.approx(sacrebleu.corpus_bleu(heard, [refs]).score)
    assert report["asr_chrf"] == pytest.approx(sacrebleu.corpus_chrf(heard, [refs]).score)
    translations = _lines(report["files"]["mt"])
    assert report["text_bleu"] == pytest.approx(sacrebleu.corpus_bleu(translations, [refs]).score)
    assert report["asr_chrf"] > 20


def test_sync_offsets_overlaps_and_speedups(tmp_path):
    placed = [  # slot start, placed start, placed end, rate, stretch, fit
        (0.0, 0.0, 2.0, 1.0, 1.0, "natural"),
        (2.5, 2.7, 4.0, 1.2, 1.0, "rate"),
        (3.5, 3.8, 5.0, 1.2, 1.1, "stretched"),  # starts before the previous clip ends
    ]
    document = DubDocument("in.mp4", 6.0, "en", "es")
    for index, (start, at, until, rate, stretch, fit) in enumerate(placed):
        document.lines.append(
            Line(
                index,
                start,
                start + 1.0,
                "text",
                rate=rate,
                stretch=stretch,
                placed_start=at,
                placed_end=until,
                fit=FitOutcome(fit),
            )  # fmt: skip
        )
    hurried = "Far too many words said in far too short a time to be read by anyone."
    document.lines.append(Line(3, 5.0, 5.5, hurried))  # heard, not placed: English only
    document.lines.append(Line(4, 5.5, 6.0, "Pneumonoultramicroscopicsilicovolcanoconiosis-like"))
    document.save(tmp_path / "in.dub.json")
    report, _ = _eval(tmp_path, "sync", str(tmp_path / "in.dub.json"))
    english = report["subtitles"]["en"]
    assert english["cues"] == 5 and english["breaking"] == {"line length": 1}
    assert report["subtitles_en_within_norms"] == pytest.approx(0.8)
    assert english["read_at_speed"] <= 0.6  # the hurried line cannot be read at 20 a second
    assert report["subtitles"]["es"]["cues"] == 0  # no line had a translation to show
    assert report["overlaps"] == 1
    assert report["offset_median_s"] == pytest.approx(0.2)
    assert report["offset_max_abs_s"] == pytest.approx(0.3)
    assert report["speedup_max"] == pytest.approx(1.32)
    assert report["fit_counts"] == {"natural": 1, "rate": 1, "stretched": 1}
    assert Path(report["files"]["speedup_plot"]).read_bytes().startswith(b"\x89PNG")
    assert "![speedup_plot](sync-speedup.png)" in Path(report["files"]["markdown"]).read_text()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("file\treference\nnot-there.wav\thello\n", "does not exist: "),
        ("path\tsentence\nx.wav\thello\n", "needs 'file'"),
        ("file\treference\n", "has no rows"),
        (None, "not found"),
    ],
    ids=["missing-audio", "wrong-columns", "empty", "no-manifest"],
)
def test_bad_manifests_fail_with_one_line(tmp_path, content, fragment):
    manifest = tmp_path / "manifest.tsv"
    if content is not None:
        manifest.write_text(content, encoding="utf-8")
    one_line_error(run_dubber("eval", "asr", str(manifest)), fragment)


def test_an_input_is_never_overwritten(tmp_path):
    source, reference = tmp_path / "src.en", tmp_path / "ref.es"
    source.write_text("Good evening.\n", encoding="utf-8")
    reference.write_text("Buenas noches.\n", encoding="utf-8")
    result = run_dubber(
        "eval", "mt", str(source), str(reference), "--engine", "apertium", "--json", str(reference)
    )
    one_line_error(result, "refusing to overwrite the input", exit_code=2)
    assert reference.read_text(encoding="utf-8") == "Buenas noches.\n"
