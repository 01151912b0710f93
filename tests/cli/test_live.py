"""`dubber live` as a user runs it: stdin PCM, files, audio devices through PortAudio, and how
it fails."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dubber.media.decode import AUDIO_RATE, write_wav
from dubber.media.subtitles import parse_srt
from tests.helpers.cli import one_line_error, run_dubber
from tests.helpers.media import speech_with_pauses

CLIPS = ["cmuarctic_aew_a0003.wav", "librispeech_1089-134686-0001.wav"]
ENGINES = ("--asr-model", "whisper-tiny.en", "--engine", "apertium")
VOICE = ("--voice", "piper-en_US-joe-medium")  # fast stand-in: the tests check behaviour


@pytest.fixture(scope="module")
def short_wav(shared_data, tmp_path_factory) -> Path:
    audio, spans = speech_with_pauses([shared_data / "asr" / c for c in CLIPS])
    path = tmp_path_factory.mktemp("live-cli") / "two.wav"
    write_wav(path, audio[: int((spans[1][1] + 1.0) * AUDIO_RATE)], AUDIO_RATE)
    return path


@pytest.mark.slow
def test_cli_stdin_pcm_at_another_rate(short_wav, tmp_path):
    """Raw s16le at 8 kHz on stdin: resampled, translated, written, with the latency table."""
    pcm = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(short_wav),
            "-f",
            "s16le",
            "-ac",
            "1",
            "-ar",
            "8000",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    out, stats = tmp_path / "es.wav", tmp_path / "stats.json"
    arguments = ["live", "--input", "-", "--rate", "8000", "-o", str(out), "--stats", str(stats)]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dubber",
            *arguments,
            "--srt",
            str(tmp_path / "s.srt"),
            *ENGINES,
            *VOICE,
        ],
        input=pcm,
        capture_output=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=300,
    )
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    assert "end->audio" in stderr and "p95" in stderr
    document = json.loads(stats.read_text(encoding="utf-8"))
    assert len(document["lines"]) == 2
    assert {"p50", "p95", "max"} <= set(document["latency_end_to_audio_s"])
    assert out.stat().st_size > 44 and (tmp_path / "s.es.srt").is_file()


def test_cli_unreadable_file(tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio", encoding="utf-8")
    one_line_error(run_dubber("live", "--input", str(bad), *ENGINES), "notes.wav", exit_code=2)
    one_line_error(
        run_dubber("live", "--input", str(tmp_path / "none.wav")), "none.wav", exit_code=2
    )


def test_cli_stdin_refuses_a_wav_file_or_a_bad_rate(short_wav):
    wav_bytes = run_dubber(
        "live", "--input", "-", "-o", "x.wav", *ENGINES, *VOICE,
        stdin_bytes=short_wav.read_bytes()[:20000],
    )  # fmt: skip
    one_line_error(wav_bytes, "raw PCM", exit_code=2)
    result = run_dubber("live", "--input", "-", "--rate", "1000", *ENGINES)
    assert result.returncode == 2 and "rate" in result.stderr


def _alsa_null(tmp_path: Path) -> dict[str, str]:
    """An ALSA configuration with only `null` devices: PortAudio sees real (silent) devices."""
    config = tmp_path / "asoundrc"
    config.write_text("pcm.!default { type null }\npcm.nulldev { type null }\n", encoding="utf-8")
    return {**os.environ, "ALSA_CONFIG_PATH": str(config), "COLUMNS": "200"}


def test_cli_device_not_found_suggests_input_file(tmp_path):
    env = _alsa_null(tmp_path)
    command = [sys.executable, "-m", "dubber", "live", "--mic", "no-such-mic", *ENGINES]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    one_line_error(result, "no-such-mic", "--input FILE")
    listed = subprocess.run(
        [sys.executable, "-m", "dubber", "live", "--list-devices"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0 and "nulldev" in listed.stdout


@pytest.mark.slow
def test_cli_microphone_on_a_real_portaudio_device_stops_cleanly_on_ctrl_c(tmp_path):
    """ALSA's null device through PortAudio: capture runs (silence), Ctrl-C ends it cleanly."""
    stats = tmp_path / "mic.json"
    command = [
        sys.executable, "-m", "dubber", "live", "--mic", "nulldev", "--output-device",
        "nulldev", "--stats", str(stats), *ENGINES, *VOICE,
    ]  # fmt: skip
    process = subprocess.Popen(command, env=_alsa_null(tmp_path), stderr=subprocess.PIPE, text=True)
    seen = ""
    while "listening" not in seen and process.poll() is None:
        seen += process.stderr.readline()
    assert "microphone 'nulldev'" in seen, seen
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    rest = process.communicate(timeout=60)[1]
    assert process.returncode == 0, seen + rest
    assert "Traceback" not in rest
    assert json.loads(stats.read_text(encoding="utf-8"))["lines"] == []


def test_cli_without_portaudio_suggests_input_file(tmp_path):
    """PortAudio missing (as on a server without libportaudio2): sounddevice fails to import."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "sounddevice.py").write_text(
        "raise OSError('PortAudio library not found')\n", encoding="utf-8"
    )
    env = {**os.environ, "PYTHONPATH": str(shadow), "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-m", "dubber", "live", *ENGINES],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    one_line_error(result, "PortAudio", "--input FILE")


@pytest.mark.slow
def test_cli_ctrl_c_flushes_every_output(shared_data, tmp_path):
    """Ctrl-C in the middle of a long recording: the lines already heard are still translated and
    spoken, and the WAV, both SRTs and the stats are complete and agree with each other."""
    out, stats, srt = tmp_path / "es.wav", tmp_path / "stats.json", tmp_path / "live.srt"
    command = [
        str(Path(sys.executable).with_name("dubber")), "live", "--input",
        str(shared_data / "longform" / "06-ibm-earnings-1min.wav"), "-o", str(out),
        "--srt", str(srt), "--stats", str(stats), "--max-lag", "600", *ENGINES, *VOICE,
    ]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    seen = ""
    while "listening" not in seen and process.poll() is None:
        seen += process.stderr.readline()
    time.sleep(15.0)
    process.send_signal(signal.SIGINT)
    rest = process.communicate(timeout=120)[1]
    assert process.returncode == 0, seen + rest
    assert "Traceback" not in rest
    lines = json.loads(stats.read_text(encoding="utf-8"))["lines"]
    spoken = [line for line in lines if not line["dropped"]]
    assert len(lines) >= 2 and spoken == lines, lines  # nothing heard is left unspoken
    assert all(line["speech_start_s"] < 17.0 for line in lines)
    english = parse_srt((tmp_path / "live.en.srt").read_text(encoding="utf-8"))
    spanish = parse_srt((tmp_path / "live.es.srt").read_text(encoding="utf-8"))
    assert len(english) >= len(lines) and len(spanish) >= len(lines)  # a long line: two cues
    shown = " ".join(" ".join(cue.text.split()) for cue in spanish)
    assert all(" ".join(line["translation"].split()) in shown for line in spoken)
    from dubber.media.decode import decode_audio

    track = decode_audio(out)
    last = max(line["times_s"]["first_audio"] + line["audio_seconds"] for line in spoken)
    assert len(track) / AUDIO_RATE >= last - 0.1
    tail = track[int((last - 1.0) * AUDIO_RATE) : int(last * AUDIO_RATE)]
    assert float(abs(tail).max()) > 0.01, "the last line's speech is missing from the WAV"


def test_speed_without_an_input_file_says_what_it_needs():
    done = run_dubber("live", "--speed", "2")
    assert (done.returncode, done.stderr.strip()) == (
        2,
        "error: --speed plays a file faster: it needs --input FILE",
    )


def test_live_json_prints_the_latencies_on_standard_output(calibration, tmp_path, monkeypatch):
    """Fake engines and an energy detector for Silero: the CLI's own output is under test."""
    from tests.helpers.fakes import EnergyVad, Tape, TapeRecognizer, fake_engines

    tape = Tape.speak(("Good evening to you all.", "The roads are closed tonight."))
    speech = tmp_path / "speech.wav"
    write_wav(speech, tape.audio, AUDIO_RATE)
    engines = fake_engines(calibration, (), recognizer=TapeRecognizer(tape))
    monkeypatch.setattr("dubber.engines.load.load_engines", lambda *args, **kwargs: engines)
    monkeypatch.setattr("dubber.live.session.SileroStream", EnergyVad)
    done = run_dubber(
        "live", "--input", str(speech), "--speed", "8", "-o", str(tmp_path / "es.wav"), "--json"
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert len(document["lines"]) == 2
    assert {"p50", "p95", "max"} <= set(document["latency_end_to_audio_s"])
    assert "end->audio" not in done.stderr  # no table
