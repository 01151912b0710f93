"""The component commands (`transcribe`, `translate`, `speak`) as a user runs them."""

from __future__ import annotations

import json

import pytest

from dubber.measure.marian_builder import build_marian_release
from dubber.media.decode import read_wav
from tests.helpers.cli import one_line_error, run_dubber, spawn_dubber

JFK = "asr/jfk_inaugural_1961.wav"


def test_help_lists_the_commands_and_version_prints():
    """The program as it is started (`python -m dubber`, a process of its own)."""
    shown = spawn_dubber("--help")
    assert shown.returncode == 0
    for command in ("transcribe", "translate", "speak", "models"):
        assert command in shown.stdout
    assert spawn_dubber("--version").stdout.startswith("dubber ")


@pytest.mark.slow
@pytest.mark.parametrize("model", [None, "tiny.en", "whisper-tiny.en"])
def test_transcribe_prints_text(shared_data, model):
    """Catalogue ids and faster-whisper's names (`tiny.en`) both name a model."""
    chosen = ["--model", model] if model else []
    done = run_dubber("transcribe", str(shared_data / JFK), *chosen)
    assert done.returncode == 0, done.stderr
    assert "ask not what your country can do for you" in done.stdout.lower()


@pytest.mark.slow
def test_transcribe_writes_subtitles_and_json(shared_data, tmp_path):
    srt = tmp_path / "jfk.srt"
    assert run_dubber("transcribe", str(shared_data / JFK), "--srt", "-o", str(srt)).returncode == 0
    assert "00:00:00,000 -->" in srt.read_text(encoding="utf-8")
    done = run_dubber("transcribe", str(shared_data / JFK), "--json")
    document = json.loads(done.stdout)
    assert document["language"] == "en"
    words = [w for s in document["segments"] for w in s["words"]]
    assert words and all(w["start"] <= w["end"] for w in words)


@pytest.mark.parametrize(
    ("arguments", "fragment", "code"),
    [
        (["transcribe", "missing.wav"], "file not found", 2),
        (["transcribe", "notes.txt"], "not a readable audio or video file", 2),
        (["transcribe", "JFK", "--model", "whisper-huge"], "unknown model 'whisper-huge'", 1),
        (["transcribe", "JFK", "--model", "whisper-small"], "dubber models pull whisper-small", 1),
        (["transcribe", "JFK", "--model", "kokoro-82m-offline"], "not a speech recogniser", 2),
        (["transcribe", "JFK", "--srt", "--vtt"], "choose one of", 2),
    ],
)
def test_transcribe_bad_input(shared_data, tmp_path, arguments, fragment, code):
    (tmp_path / "notes.txt").write_text("plain text, not audio")
    arguments = [str(shared_data / JFK) if a == "JFK" else a for a in arguments]
    one_line_error(run_dubber(*arguments, cwd=tmp_path), fragment, exit_code=code)


def test_translate_with_apertium_keeps_one_line_per_line(tmp_path):
    source = tmp_path / "news.txt"
    source.write_text("The house is red.\n\nThe match ended 2 to 1.\n", encoding="utf-8")
    done = run_dubber("translate", str(source), "--to", "es", "--engine", "apertium")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3 and lines[1] == ""
    assert "casa" in lines[0] and "2" in lines[2] and "1" in lines[2]
    piped = run_dubber(
        "translate", "-", "--to", "es", "--engine", "apertium", "--json", stdin="Good evening.\n"
    )
    record = json.loads(piped.stdout)
    assert record["source"] == "Good evening." and record["translation"]


@pytest.mark.slow
def test_translate_with_an_imported_opus_mt_model(tmp_path, shared_data):
    """The CTranslate2 path end to end: a locally built Marian release, imported and used."""
    mt = shared_data / "mt"
    release = build_marian_release(tmp_path / "marian", [mt / "test.en", mt / "test.es"])
    home = tmp_path / "home"
    imported = run_dubber("models", "import", str(release), "--id", "opus-mt-en-es", home=home)
    assert imported.returncode == 0, imported.stderr
    done = run_dubber(
        "translate", "-", "--to", "es", "--engine", "opusmt", "--nbest", "3", "--json",
        home=home, stdin="First line.\nSecond line, longer than the first one.\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["source"] for r in records] == [
        "First line.",
        "Second line, longer than the first one.",
    ]
    assert all(1 <= len(r["hypotheses"]) <= 3 for r in records)


@pytest.mark.parametrize(
    ("arguments", "fragment", "code"),
    [
        (["translate", "", "--to", "es"], "the text is empty", 2),
        (
            ["translate", "hello", "--to", "es", "--engine", "opusmt"],
            "dubber models pull opus-mt-en-es",
            1,
        ),
        (["translate", "hello", "--to", "es", "--model", "whisper-tiny.en"], "not a translator", 2),
    ],
)
def test_translate_bad_input(arguments, fragment, code):
    one_line_error(run_dubber(*arguments), fragment, exit_code=code)


def test_translate_unsupported_language_is_a_usage_error():
    done = run_dubber("translate", "hello", "--to", "fr")
    assert done.returncode == 2 and "Traceback" not in done.stderr


@pytest.mark.slow
def test_speak_writes_speech_and_rate_shortens_it(tmp_path):
    normal, fast = tmp_path / "normal.wav", tmp_path / "fast.wav"
    text = "Buenas noches. El equipo ganó el partido en el último minuto."
    assert run_dubber("speak", text, "-o", str(normal), "--voice", "espeak:es").returncode == 0
    assert (
        run_dubber(
            "speak", text, "-o", str(fast), "--voice", "espeak:es", "--rate", "1.4"
        ).returncode
        == 0
    )
    samples, rate = read_wav(normal)
    assert rate == 22050 and abs(samples).max() > 0.05
    assert len(read_wav(fast)[0]) < 0.85 * len(samples)


@pytest.mark.slow
def test_speak_default_voice_is_the_native_pico_voice(tmp_path):
    out = tmp_path / "hola.wav"
    done = run_dubber("-v", "speak", "Hola a todos.", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "pico-es_ES" in done.stderr and "no native neural es voice installed" in done.stderr
    assert read_wav(out)[1] == 16000


@pytest.mark.parametrize(
    ("arguments", "fragment", "code"),
    [
        (["speak", "  ", "-o", "x.wav"], "the text is empty", 2),
        (["speak", "Hola", "-o", "x.mp3"], "(use .wav)", 2),
        (
            ["speak", "Hola", "-o", "x.wav", "--voice", "piper-es_ES-davefx-medium"],
            "dubber models pull piper-es_ES-davefx-medium",
            1,
        ),
        (
            ["speak", "Hola", "-o", "x.wav", "--voice", "kokoro-82m-offline:zz_nobody"],
            "no style 'zz_nobody'",
            2,
        ),
    ],
)
def test_speak_bad_input(tmp_path, arguments, fragment, code):
    one_line_error(run_dubber(*arguments, cwd=tmp_path), fragment, exit_code=code)
    assert not (tmp_path / "x.wav").exists() and not (tmp_path / "x.mp3").exists()
