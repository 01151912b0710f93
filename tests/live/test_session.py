"""`dubber live`: real recordings played as a simulated microphone through the real models."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from dubber.engines.espeak import EspeakSynthesizer
from dubber.engines.load import EngineChoice, PipelineEngines
from dubber.engines.voices import VoiceBank
from dubber.live.agreement import LocalAgreement, TimedWord, transcribe_words
from dubber.live.endpoint import Endpointer, Partial, SileroStream
from dubber.live.session import LiveConfig, LiveSession, live_recognizer
from dubber.live.sources import RATE, FileSource, PlacedTrack, SamplesSource, StreamResampler
from dubber.live.stats import STAGE_FIELDS, write_stats
from dubber.measure.scores import word_error_rate
from dubber.media.decode import write_wav
from dubber.media.dsp import rms_db
from dubber.media.subtitles import parse_srt
from dubber.settings import RuntimeOptions
from dubber.store.store import Store
from tests.helpers.cli import one_line_error, run_dubber
from tests.helpers.media import speech_with_pauses

CLIPS = ["cmuarctic_aew_a0003.wav", "librispeech_1089-134686-0001.wav", "fleurs_en_004.wav"]
ENGINES = ("--asr-model", "whisper-tiny.en", "--engine", "apertium")
VOICE = ("--voice", "piper-en_US-joe-medium")  # fast stand-in: the test checks behaviour


@pytest.fixture(scope="module")
def engines() -> PipelineEngines:
    choice = EngineChoice(
        "whisper-tiny.en", "apertium", None, "piper-en_US-joe-medium", match_voice_to_pitch=False
    )
    return PipelineEngines.load(Store(), RuntimeOptions(threads=2), choice)


@pytest.fixture(scope="module")
def stream(shared_data: Path) -> tuple[np.ndarray, list[tuple[float, float]]]:
    return speech_with_pauses([shared_data / "asr" / c for c in CLIPS])


@pytest.fixture(scope="module")
def references(shared_data: Path) -> dict[str, str]:
    with open(shared_data / "asr" / "refs.tsv", encoding="utf-8") as table:
        return {row["file"]: row["reference_text"] for row in csv.DictReader(table, delimiter="\t")}


@pytest.fixture(scope="module")
def session(engines, stream, tmp_path_factory) -> LiveSession:
    audio, _ = stream
    track = PlacedTrack(engines.voices.sample_rate)
    srt = tmp_path_factory.mktemp("live") / "talk.srt"
    patient = LiveConfig(max_lag_s=120)  # speak every line however loaded the machine is
    live = LiveSession(engines, patient, track=track, srt_base=srt)
    live.warm_up()
    recording = srt.with_name("clips.wav")
    write_wav(recording, audio, RATE)
    live.run(FileSource(recording), speed=2.0)
    return live


def test_every_utterance_is_transcribed_translated_and_spoken(session, stream, references):
    _, spans = stream
    assert len(session.records) == len(spans)
    for record, (start, end), clip in zip(session.records, spans, CLIPS, strict=True):
        assert start - 0.3 <= record.speech_start_s < end
        assert start < record.speech_end_s <= end + 0.3
        assert word_error_rate([references[clip]], [record.source]) < 0.5, record.source
        assert record.translation and record.translation != record.source
        assert record.first_audio_s is not None and record.audio_seconds > 0.5
        assert record.dropped is None
    assert not session.warnings


def test_output_track_has_speech_at_each_line_and_silence_before(session):
    track = session.track.render(session.input_seconds)
    rate = session.track.sample_rate
    assert len(track) >= session.input_seconds * rate
    first = session.records[0]
    assert rms_db(track[: int(first.speech_end_s * rate)]) == -120.0  # nothing before speech ends
    for record in session.records:
        begin = int(record.first_audio_s * rate)
        assert rms_db(track[begin : begin + int(record.audio_seconds * rate)]) > -35


def test_stats_json_is_well_formed_and_stage_times_ordered(session, tmp_path):
    path = tmp_path / "stats.json"
    write_stats(path, session.records)
    stats = json.loads(path.read_text(encoding="utf-8"))
    assert len(stats["utterances"]) == len(session.records)
    for line in stats["utterances"]:
        times = [line[name] for name in STAGE_FIELDS]
        assert times == sorted(times), line
        assert line["source"] and line["translation"]
        assert line["first_caption_s"] >= line["speech_start_s"]
        latency = line["first_audio_s"] - line["speech_end_s"]
        assert line["latency_end_to_audio_s"] == pytest.approx(latency, abs=0.002)
    summary = stats["latency_end_to_audio_s"]
    assert 0 < summary["p50"] <= summary["p95"] <= summary["max"]


def test_subtitles_written_in_both_languages(session):
    english = parse_srt((session.srt_base.with_name("talk.en.srt")).read_text(encoding="utf-8"))
    spanish = parse_srt((session.srt_base.with_name("talk.es.srt")).read_text(encoding="utf-8"))
    assert [c.text for c in english] == [r.source for r in session.records]
    assert [c.text for c in spanish] == [r.translation for r in session.records]
    assert all(es.start >= en.end for en, es in zip(english, spanish, strict=True))


@pytest.fixture(scope="module")
def two_sentences(shared_data) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Two sentences 0.4 s apart: one utterance under a 1.2 s endpointing pause."""
    names = ("cmuarctic_aew_a0003.wav", "cmuarctic_axb_a0006.wav")
    return speech_with_pauses([shared_data / "asr" / name for name in names], 0.4)


def test_local_agreement_commits_a_sentence_two_passes_agree_on(engines, two_sentences):
    speech, spans = two_sentences
    recognizer = live_recognizer(engines.recognizer, LiveConfig(), words=True)
    agreement, spoken = LocalAgreement(), []
    for seconds in np.arange(1.5, spans[1][1], 1.0):  # passes on the growing audio
        spoken += agreement.update(transcribe_words(recognizer, speech[: int(seconds * RATE)]))
    early = " ".join(w.text for w in spoken).lower()
    assert "two men shook hands." in early and "forever" not in early  # heard, not yet agreed
    assert [w.start for w in spoken] == sorted(w.start for w in spoken)
    rest = " ".join(w.text for w in agreement.rest(transcribe_words(recognizer, speech))).lower()
    assert "shook" not in rest and "seeing them forever" in rest


def test_each_line_is_spoken_with_the_voice_matching_the_speakers_pitch(engines, shared_data):
    voices = {
        "male": (EspeakSynthesizer("es", pitch=30), "espeak-low"),
        "female": (EspeakSynthesizer("es", pitch=70), "espeak-high"),
    }
    bank = VoiceBank(voices, Store().home / "calibration")
    two_voices = replace(engines, voices=bank)
    man, woman = "librispeech_1089-134691-0000.wav", "ljspeech_LJ001-0007.wav"
    audio, _ = speech_with_pauses([shared_data / "asr" / name for name in (man, woman, man)])
    records = LiveSession(two_voices, LiveConfig(max_lag_s=120)).run(SamplesSource(audio, "3"), 2.0)
    voices = [r.voice for r in records]
    assert voices[0] == voices[-1] == "espeak-low" and "espeak-high" in voices
    for record in records:  # clear pitches (away from the 165 Hz boundary) choose by gender
        if record.pitch_hz and abs(record.pitch_hz - 165) > 10:
            assert (record.voice == "espeak-high") == (record.pitch_hz > 165), record


def test_a_heard_sentence_end_asks_for_the_confirming_pass_sooner(two_sentences):
    agreement = LocalAgreement()
    agreement.update([TimedWord("Two", 0.1, 0.3), TimedWord("men", 0.3, 0.5)])
    assert not agreement.sentence_pending()
    words = ("Two", "men", "shook", "hands.", "I", "think")
    for count in (4, 5):  # heard, then agreed on: a word after it must be agreed on too
        assert not agreement.update([TimedWord(w, 0.0, 0.1) for w in words[:count]])
        assert agreement.sentence_pending()
    spoken = agreement.update([TimedWord(w, 0.0, 0.1) for w in words])
    assert [w.text for w in spoken] == ["Two", "men", "shook", "hands."]
    assert not agreement.sentence_pending()

    speech, _ = two_sentences
    passes = {}
    for hurry in (False, True):
        endpointer = Endpointer(LiveConfig(pause_ms=1200), SileroStream())
        endpointer.hurry = hurry
        events = endpointer.feed(speech, 0.0)
        passes[hurry] = sum(isinstance(e, Partial) and not e.speculative for e in events)
    assert passes[True] >= 2 * passes[False] - 1 and passes[False] >= 2


def test_long_utterance_is_spoken_in_pieces_without_repeats(engines, two_sentences):
    speech, spans = two_sentences
    live = LiveSession(engines, LiveConfig(pause_ms=1200, max_utterance_s=20, max_lag_s=120))
    records = live.run(SamplesSource(speech, "two sentences"), speed=1.0)
    said = " ".join(r.source for r in records).lower()
    assert "two men shook hands" in said and "seeing them forever" in said
    assert said.count("shook hands") == 1 and said.count("forever") == 1
    assert all(r.first_audio_s is not None for r in records)
    assert [r.speech_start_s for r in records] == sorted(r.speech_start_s for r in records)


def test_overload_degrades_with_a_warning_and_bounded_queues(engines, stream):
    audio, spans = stream
    config = LiveConfig(queue_size=1, max_lag_s=1.0)
    live = LiveSession(engines, config, track=PlacedTrack(engines.voices.sample_rate))
    records = live.run(SamplesSource(audio, "clips", loops=3), speed=16.0)
    assert live.warnings and all("falling behind" in w for w in live.warnings)
    assert all(size <= 1 for name, size in live.peak_queue.items() if name != "capture")
    assert live.peak_queue.get("capture", 0) <= 64
    assert any(r.dropped for r in records) or any("merged" in w for w in live.warnings)
    assert all((r.first_audio_s is None) == bool(r.dropped) for r in records)


def test_long_speech_is_cut_before_the_maximum_length(stream):
    audio, _ = stream
    joined = np.concatenate([audio[RATE:], audio[RATE:]])  # speech with 1.5 s pauses
    endpointer = Endpointer(LiveConfig(pause_ms=2000, max_utterance_s=5.0), SileroStream())
    finals = [e for e in endpointer.feed(joined, 0.0) if not hasattr(e, "speculative")]
    finals += endpointer.flush(0.0)
    assert len(finals) >= 3
    assert all(len(f.audio) <= 5.0 * RATE for f in finals)
    pairs = zip(finals, finals[1:], strict=False)
    assert all(a.start + len(a.audio) <= b.start for a, b in pairs)  # no audio twice


def test_resampler_is_continuous_across_chunks():
    rate = 44100
    tone = np.sin(2 * np.pi * 440 * np.arange(rate) / rate).astype(np.float32)
    resample = StreamResampler(rate)
    pieces = [resample(tone[i : i + 1000]) for i in range(0, rate, 1000)]
    out = np.concatenate(pieces)
    assert abs(len(out) - RATE) <= 2
    expected = np.sin(2 * np.pi * 440 * np.arange(len(out)) / RATE)
    assert np.abs(out - expected).max() < 0.01


# ---- the command line ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def short_wav(stream, tmp_path_factory) -> Path:
    audio, spans = stream
    path = tmp_path_factory.mktemp("live-cli") / "two.wav"
    write_wav(path, audio[: int((spans[1][1] + 1.0) * RATE)], RATE)
    return path


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
    assert len(document["utterances"]) == 2
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
    wav_bytes = subprocess.run(
        [sys.executable, "-m", "dubber", "live", "--input", "-", "-o", "x.wav", *ENGINES, *VOICE],
        input=short_wav.read_bytes()[:20000],
        capture_output=True,
        timeout=300,
    )
    assert wav_bytes.returncode == 2 and b"raw PCM" in wav_bytes.stderr
    assert len(wav_bytes.stderr.decode().strip().splitlines()) == 1
    result = run_dubber("live", "--input", "-", "--rate", "1000", *ENGINES)
    assert result.returncode == 2 and "rate" in result.stderr


def _alsa_null(tmp_path: Path) -> dict[str, str]:
    """An ALSA configuration with only `null` devices: PortAudio sees real (silent) devices."""
    config = tmp_path / "asoundrc"
    config.write_text("pcm.!default { type null }\npcm.nulldev { type null }\n", encoding="utf-8")
    return {**os.environ, "ALSA_CONFIG_PATH": str(config), "COLUMNS": "200"}


def test_cli_device_not_found_suggests_input_file(tmp_path):
    env = _alsa_null(tmp_path)
    command = [sys.executable, "-m", "dubber", "live", "--device", "no-such-mic", *ENGINES]
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


def test_cli_microphone_on_a_real_portaudio_device_stops_cleanly_on_ctrl_c(tmp_path):
    """ALSA's null device through PortAudio: capture runs (silence), Ctrl-C ends it cleanly."""
    stats = tmp_path / "mic.json"
    command = [
        sys.executable, "-m", "dubber", "live", "--device", "nulldev", "--output-device",
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
    assert json.loads(stats.read_text(encoding="utf-8"))["utterances"] == []


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
