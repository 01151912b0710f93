"""`dubber dub` from the command line: bad input, refusals, interruption and --resume."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from dubber.cli.dub import summary_table
from dubber.media.decode import write_wav
from tests.helpers.cli import one_line_error, run_dubber
from tests.helpers.fakes import beeps, dub_file, fake_engines
from tests.helpers.media import make_video, speech_with_pauses


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_clean_failure(
    done: subprocess.CompletedProcess[str], message: str, folder: Path, before: set[Path]
) -> None:
    """One-line error, and the folder holds exactly what it held before."""
    one_line_error(done, message, exit_code=done.returncode or 1)
    assert set(folder.iterdir()) == before, "a failed dub must leave no files behind"


@pytest.fixture(scope="module")
def clip(tmp_path_factory, shared_data) -> Path:
    speech, _ = speech_with_pauses([shared_data / "asr" / "cmuarctic_aew_a0003.wav"], pause=0.5)
    return make_video(speech, tmp_path_factory.mktemp("clip") / "clip.mp4")


def _written(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.mp4", "file not found"),
        (lambda d: _written(d / "empty.mp4", b""), "is empty"),
        (lambda d: _written(d / "notes.mp4", b"not a video"), "not a readable audio or video file"),
        (lambda d: _folder(d / "folder"), "no media files"),
    ],
    ids=["missing", "zero-bytes", "text-named-mp4", "empty-folder"],
)
def test_unusable_input_is_refused(tmp_path, make, message):
    target = make(tmp_path)
    before = set(tmp_path.iterdir())
    assert_clean_failure(run_dubber("dub", str(target), cwd=tmp_path), message, tmp_path, before)


def test_truncated_media_is_refused(tmp_path, clip):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(clip.read_bytes()[: clip.stat().st_size // 3])
    before = set(tmp_path.iterdir())
    done = run_dubber("dub", str(broken), cwd=tmp_path)
    assert_clean_failure(done, "broken.mp4", tmp_path, before)


def test_video_without_sound_is_refused(tmp_path):
    silent_film = make_video(None, tmp_path / "film.mp4", seconds=2)
    before = set(tmp_path.iterdir())
    done = run_dubber("dub", str(silent_film), cwd=tmp_path)
    assert_clean_failure(done, "no audio stream", tmp_path, before)


def test_unsupported_language_is_a_usage_error(tmp_path, clip):
    done = run_dubber("dub", str(clip), "--to", "fr", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_existing_output_needs_force_and_input_is_never_overwritten(tmp_path, clip):
    source = tmp_path / "clip.mp4"
    source.write_bytes(clip.read_bytes())
    existing = tmp_path / "clip.es.mp4"
    existing.write_bytes(b"keep me")
    before = set(tmp_path.iterdir())
    assert_clean_failure(run_dubber("dub", str(source), cwd=tmp_path), "--force", tmp_path, before)
    done = run_dubber("dub", str(source), "-o", str(source), cwd=tmp_path)
    assert_clean_failure(done, "refusing to overwrite the input", tmp_path, before)
    assert existing.read_bytes() == b"keep me"
    assert digest(source) == digest(clip)


def test_unwritable_output_folder_is_refused(tmp_path, clip):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    before = set(tmp_path.iterdir())
    done = run_dubber("dub", str(clip), "-o", str(blocker / "out"), cwd=tmp_path)
    assert_clean_failure(done, "not writable", tmp_path, before)


@pytest.mark.slow
def test_silence_is_refused(tmp_path):
    quiet = make_video(np.zeros(16000 * 3, np.float32), tmp_path / "quiet.mp4")
    before = set(tmp_path.iterdir())
    done = run_dubber("dub", str(quiet), "--engine", "apertium", cwd=tmp_path)
    assert_clean_failure(done, "no speech found", tmp_path, before)


@pytest.mark.slow
def test_speech_that_is_not_english_is_refused(tmp_path, shared_data):
    spanish, _ = speech_with_pauses([shared_data / "es" / "fleurs_es_008.wav"], pause=0.3)
    media = make_video(spanish, tmp_path / "noticias.mp4")
    before = set(tmp_path.iterdir())
    # Apertium: the refusal is the job's, whatever translates; the LLM would load for 20 s
    done = run_dubber("dub", str(media), "--engine", "apertium", cwd=tmp_path)
    assert_clean_failure(done, "not 'en'", tmp_path, before)


@pytest.mark.slow
def test_interrupted_dub_leaves_nothing_and_resume_finishes(tmp_path, shared_data):
    names = ("ljspeech_LJ001-0003.wav", "fleurs_en_005.wav")
    speech, _ = speech_with_pauses([shared_data / "asr" / name for name in names])
    media = make_video(speech, tmp_path / "long.mp4")
    home = tmp_path / "home"
    before = set(tmp_path.iterdir())
    process = subprocess.Popen(
        # Apertium: a fresh DUBBER_HOME would prepare the LLM first; resume is what is tested
        [sys.executable, "-m", "dubber", "dub", str(media), "--engine", "apertium"],
        cwd=tmp_path,
        env={**os.environ, "DUBBER_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while not list(home.glob("work/*/clips/*.npy")) and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "Traceback" not in stderr and "--resume" in stderr
    assert set(tmp_path.iterdir()) == before | {home}
    done = run_dubber(
        "-v", "dub", str(media), "--resume", "--engine", "apertium", cwd=tmp_path, home=home
    )
    assert done.returncode == 0, done.stderr
    assert "resuming" in done.stderr
    assert (tmp_path / "long.es.mp4").is_file() and (tmp_path / "long.dub.json").is_file()


@pytest.mark.slow
def test_each_input_is_probed_once(clip, tmp_path):
    """ffprobe reads each input once per dub, and the result travels with the job."""
    log = tmp_path / "ffprobe.log"
    shim = tmp_path / "bin"
    shim.mkdir()
    real = subprocess.run(["which", "ffprobe"], capture_output=True, text=True).stdout.strip()
    (shim / "ffprobe").write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec {real} "$@"\n')
    (shim / "ffprobe").chmod(0o755)
    env = {**os.environ, "PATH": f"{shim}:{os.environ['PATH']}"}
    out = tmp_path / "out"
    command = [sys.executable, "-m", "dubber", "dub", str(clip), "-o", str(out), "--engine",
               "apertium", "--voice", "espeak:es"]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    probes = log.read_text().splitlines()
    assert len([line for line in probes if line.endswith(str(clip))]) == 1
    assert len(probes) == 2 and ".part.mp4" in probes[1]  # the output, checked before it is kept


def test_text_in_brackets_is_printed_as_it_is_not_read_as_markup(tmp_path):
    missing = tmp_path / "clip[offline] [bold]1[/].wav"
    done = run_dubber("dub", str(missing))
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: file not found: {missing}"
    listed = run_dubber("models", "list")
    assert "'dubber[llm]':" in listed.stdout  # a model's notes, in the table


def test_the_dub_summary_reads_in_80_columns_with_the_whole_file_name(calibration, tmp_path):
    media = tmp_path / "a rather long name for the evening news of tuesday.wav"
    write_wav(media, beeps([(0.3, 1.3), (2.0, 3.0)], 3.5), 16000)
    engines = fake_engines(calibration, ("Good evening.", "Roads are closed."))
    report = dub_file(engines, media, tmp_path / "out" / "news.es.wav", tmp_path / "work")
    for width in (80, 200):
        out = Console(width=width, record=True, file=io.StringIO())
        out.print(summary_table([report], width))
        text = out.export_text()
        assert all(len(line) <= width for line in text.splitlines())
        assert "news.es.wav" in text and "RTF" in text and "not fit" in text


def test_dub_json_prints_the_summary_on_standard_output(calibration, tmp_path, monkeypatch):
    media = tmp_path / "news.wav"
    write_wav(media, beeps([(0.3, 1.3), (2.0, 3.0)], 3.5), 16000)
    engines = fake_engines(calibration, ("Good evening.", "Roads are closed."))
    monkeypatch.setattr("dubber.engines.load.load_engines", lambda *args, **kwargs: engines)
    done = run_dubber("dub", str(media), "--json", home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    [summary] = json.loads(done.stdout)
    assert summary["media"] == str(tmp_path / "news.es.wav")
    assert Path(summary["media"]).is_file() and Path(summary["document"]).is_file()
    assert summary["lines"] == 2 and sum(summary["fit"].values()) == 2
    assert summary["audio_seconds"] == pytest.approx(3.5, abs=0.05)
    assert summary["real_time_factor"] > 0 and set(summary["seconds"]) >= {"recognise", "mix"}
    assert "dub summary" not in done.stderr
