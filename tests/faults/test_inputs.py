"""A bad day with the files and text a user gives: every one ends in one line, a non-zero exit,
and nothing written. A real `dubber` process for each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dubber.media.decode import AUDIO_RATE, write_wav
from tests.helpers.cli import one_line_error, run_dubber
from tests.helpers.media import speech_with_pauses

FAST = ("--engine", "apertium", "--voice", "espeak:es", "--asr-model", "tiny.en")


@pytest.fixture(scope="module")
def clip(shared_data, tmp_path_factory) -> Path:
    speech, _ = speech_with_pauses([shared_data / "asr" / "cmuarctic_aew_a0003.wav"], 0.5)
    path = tmp_path_factory.mktemp("clip") / "clip.wav"
    write_wav(path, speech, AUDIO_RATE)
    return path


def unchanged(folder: Path):
    """The names in `folder` now, to compare after a failure."""
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "is a binary file"),
        (b"[1, 2]", "must be a JSON object"),
        (
            b'{"version": 2, "media": "clip.wav", "duration": 3.0, "source_language": "en",'
            b' "target_language": "es", "lines": [{"start": "abc", "end": 1}]}',
            "line 1: 'start' must be a number, not \"abc\"",
        ),
        (
            b'{"version": 2, "media": "clip.wav", "duration": 3.0, "source_language": "en",'
            b' "target_language": "es", "lines": [{"start": 0, "end": 1, "translation": 12345}]}',
            "line 1: 'translation' must be text",
        ),
        (
            b'{"version": 2, "media": "clip.wav", "duration": 3.0, "source_language": "en",'
            b' "target_language": "es",'
            b' "lines": [{"start": 90, "end": 91, "translation": "Hola"}]}',
            "line 1 starts at 90.0 s, after the end of clip.wav",
        ),
    ],
    ids=["binary", "json-array", "start-abc", "translation-number", "beyond-the-end"],
)
def test_a_wrong_dub_document_is_named_before_any_work(clip, tmp_path, content, message):
    document = tmp_path / "edited.dub.json"
    document.write_bytes(content)
    before = unchanged(tmp_path)
    done = run_dubber("dub", str(clip), "-o", str(tmp_path / "x.wav"), "--document", str(document))
    one_line_error(done, message, exit_code=2)
    assert unchanged(tmp_path) == before


def test_a_folder_as_document_or_glossary_is_one_line(clip, tmp_path):
    done = run_dubber("dub", str(clip), "--document", str(tmp_path))
    one_line_error(done, "is a folder, not a file", exit_code=2)
    done = run_dubber("dub", str(clip), "--glossary", str(tmp_path))
    one_line_error(done, "glossary", "is a folder", exit_code=2)


def test_subtitles_that_all_start_after_the_media_are_named(clip, tmp_path):
    srt = tmp_path / "late.es.srt"
    srt.write_text("1\n00:05:00,000 --> 00:05:02,000\nHola.\n", encoding="utf-8")
    done = run_dubber("dub", str(clip), "-o", str(tmp_path / "x.wav"), "--from-srt", str(srt))
    one_line_error(done, "line 1 starts at 300.0 s, after the end", exit_code=2)


@pytest.mark.slow
def test_glossary_targets_are_literal_text(clip, tmp_path):
    terms = tmp_path / "terms.tsv"
    terms.write_text("men\tC:\\quiero\\tab\nhands\t\\1 \\g<0>\n", encoding="utf-8")
    out = tmp_path / "out"
    done = run_dubber("dub", str(clip), "-o", str(out), "--glossary", str(terms), *FAST)
    assert done.returncode == 0, done.stderr
    translation = json.loads((out / "clip.dub.json").read_text())["lines"][0]["translation"]
    assert "C:\\quiero\\tab" in translation and "\\1 \\g<0>" in translation


@pytest.mark.parametrize(
    ("command", "stdin", "message"),
    [
        (["translate", "-", "--to", "es"], b"caf\xe9 con leche\n", "not UTF-8 text"),
        (["speak", "-", "-o", "x.wav"], b"\xff\xfe\x00hola", "not UTF-8 text"),
        (["speak", "?!... ,; -- ¿¡", "-o", "x.wav"], b"", "has no words"),
    ],
    ids=["translate-latin1", "speak-binary", "speak-no-words"],
)
def test_text_that_is_not_text_is_one_line(tmp_path, command, stdin, message):
    done = run_dubber(*command, cwd=tmp_path, stdin_bytes=stdin)
    one_line_error(done, message, exit_code=2)
    assert unchanged(tmp_path) == []


def test_eval_inputs_that_are_not_utf8_or_not_reports(tmp_path):
    manifest = tmp_path / "refs.tsv"
    manifest.write_bytes(b"file\treference\nclip.wav\tcaf\xe9\n")
    one_line_error(run_dubber("eval", "asr", str(manifest)), "not UTF-8", exit_code=2)
    source = tmp_path / "src.en"
    source.write_bytes(b"Hello\xff\n")
    one_line_error(run_dubber("eval", "mt", str(source), str(source)), "not UTF-8", exit_code=2)
    empty = tmp_path / "empty.dub.json"
    empty.write_text("[]", encoding="utf-8")
    one_line_error(run_dubber("eval", "sync", str(empty)), "must be a JSON object", exit_code=2)
    baseline = tmp_path / "bench.json"
    baseline.write_bytes(b'{"rows": "\xff"}')
    done = run_dubber("bench", "mt", "--compare", str(baseline))
    one_line_error(done, "not UTF-8", exit_code=2)


@pytest.mark.parametrize(
    "command",
    [
        ["speak", "Hola.", "-o", "taken/"],
        ["transcribe", "CLIP", "-o", "taken/"],
        ["live", "--input", "CLIP", "-o", "taken/"],
    ],
    ids=["speak", "transcribe", "live"],
)
def test_an_output_that_is_a_folder_fails_before_any_work(clip, tmp_path, command):
    (tmp_path / "taken").mkdir()
    arguments = [str(clip) if a == "CLIP" else a for a in command]
    done = run_dubber(*arguments, cwd=tmp_path)
    one_line_error(done, "is a folder", exit_code=2)


def test_demo_into_a_file_is_one_line(tmp_path):
    (tmp_path / "here").write_text("a file")
    one_line_error(run_dubber("demo", "-o", str(tmp_path / "here")), "is a file", exit_code=2)


def test_an_output_format_ffmpeg_cannot_write_is_refused_first(clip, tmp_path):
    done = run_dubber("dub", str(clip), "-o", str(tmp_path / "out.xyz"))
    one_line_error(done, "'.xyz' is not a media format dubber writes", exit_code=2)


def test_two_inputs_with_one_name_are_refused(clip, tmp_path):
    wav, flac = tmp_path / "clip.wav", tmp_path / "clip.flac"
    wav.write_bytes(clip.read_bytes())
    flac.write_bytes(clip.read_bytes())  # a WAV under another name: still readable audio
    before = unchanged(tmp_path)
    done = run_dubber("dub", str(wav), str(flac))
    one_line_error(done, "would both be written to", exit_code=2)
    assert unchanged(tmp_path) == before


def test_the_users_own_subtitles_beside_the_video_are_kept(clip, tmp_path):
    source = tmp_path / "clip.wav"
    source.write_bytes(clip.read_bytes())
    mine = tmp_path / "clip.en.srt"
    mine.write_text("1\n00:00:00,000 --> 00:00:01,000\nmine\n", encoding="utf-8")
    one_line_error(run_dubber("dub", str(source)), "clip.en.srt exists: use --force", exit_code=2)
    assert mine.read_text(encoding="utf-8").endswith("mine\n")


@pytest.mark.slow
def test_a_very_long_file_name_dubs(clip, tmp_path):
    """A 240-character name: the work folder's name stays short, the outputs fit."""
    long = tmp_path / ("n" * 236 + ".wav")
    long.write_bytes(clip.read_bytes())
    done = run_dubber("dub", str(long), "-o", str(tmp_path / "out"), *FAST)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / ("n" * 236 + ".es.wav")).is_file()
