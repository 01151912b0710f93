"""`dubber dub` end to end on short media built from real English speech (../shared/data)."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from dubber.chain.fit import RATE_ATTEMPTS, FitOutcome
from dubber.dub.job import DubJob, DubOptions, DubReport
from dubber.dub.outputs import OutputPaths
from dubber.engines.bundle import EngineChoice, Engines
from dubber.engines.load import load_engines
from dubber.engines.voice import Voice
from dubber.engines.whisper import WhisperRecognizer
from dubber.measure.scores import word_error_rate
from dubber.media.decode import decode_audio
from dubber.media.probe import probe
from dubber.media.subtitles import parse_srt
from dubber.settings import RuntimeOptions
from dubber.store.store import Store
from tests.helpers.media import (
    languages,
    make_video,
    speech_with_pauses,
    stream_seconds,
    streams,
    tone_level_db,
    video_packet_hashes,
    with_tone,
)

pytestmark = pytest.mark.slow

CLIPS = ("librispeech_1089-134691-0000.wav", "ljspeech_LJ001-0007.wav", "cmuarctic_aew_a0003.wav")
# Measured 2026-11-24 (Apertium + Kokoro offline pack, Whisper base round trip): WER 0.28.
MAX_ROUND_TRIP_WER = 0.5


def quiet(*_: object) -> None:
    """A progress callback that shows nothing."""


@pytest.fixture(scope="module")
def engines() -> Engines:
    return load_engines(Store(), RuntimeOptions(threads=2), EngineChoice())


def dub(engines: Engines, media: Path, output: Path, work: Path, **options) -> DubReport:
    """One file's dub with these options, as `dubber dub` runs it."""
    outputs = OutputPaths.beside(output, "en", "es")
    return DubJob(engines, DubOptions(**options), probe(media), outputs, work, quiet).run()


@pytest.fixture(scope="module")
def news(tmp_path_factory, shared_data) -> tuple[Path, list[tuple[float, float]]]:
    speech, spans = speech_with_pauses([shared_data / "asr" / c for c in CLIPS])
    folder = tmp_path_factory.mktemp("news")
    return make_video(with_tone(speech), folder / "news.mp4"), spans


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("work")


@pytest.fixture(scope="module")
def dubbed(engines, news, work):
    media, _ = news
    return dub(engines, media, media.parent / "news.es.mp4", work)


def test_video_is_copied_bit_for_bit(news, dubbed):
    media, _ = news
    assert video_packet_hashes(dubbed.outputs.media) == video_packet_hashes(media)


def test_audio_lasts_as_long_as_the_video(dubbed):
    output = dubbed.outputs.media
    assert abs(stream_seconds(output, "audio") - stream_seconds(output, "video")) <= 0.05


def test_outputs_are_tagged_and_carry_subtitles(dubbed):
    assert languages(dubbed.outputs.media, "audio") == ["spa"]
    assert sorted(languages(dubbed.outputs.media, "subtitle")) == ["eng", "spa"]
    for path in dubbed.outputs.all():
        assert path.is_file() and path.stat().st_size > 0


def test_every_line_is_placed_inside_its_slot_without_overlap(news, dubbed):
    lines = dubbed.document.lines
    _, spans = news
    assert len(lines) >= len(spans)
    for u in lines:
        assert u.start - 1e-3 <= u.placed_start <= u.end
        assert u.stretch <= DubOptions().fit.max_stretch + 1e-6
        assert u.rate <= DubOptions().fit.max_rate + 1e-6
    for first, second in pairwise(lines):
        assert first.placed_end <= second.placed_start


def test_background_stays_between_lines_and_is_ducked_under_speech(news, dubbed):
    audio = decode_audio(dubbed.outputs.media, 16000)
    lines = dubbed.document.lines
    gap_start = lines[0].placed_end + 0.3
    gap_end = lines[1].placed_start - 0.3
    assert gap_end - gap_start >= 0.4, "the test media needs a pause between the first two lines"
    open_level = tone_level_db(audio, 16000, gap_start, gap_end)
    first = lines[0]
    ducked_level = tone_level_db(audio, 16000, first.placed_start + 0.2, first.placed_end - 0.1)
    assert open_level > -45, "the background must still be audible between lines"
    assert open_level - ducked_level >= 8, "the background must be ducked under the dub"


def test_subtitles_are_monotone_and_inside_the_media(dubbed):
    duration = dubbed.document.duration
    for name in ("en.srt", "es.srt", "es.vtt"):
        cues = parse_srt(dubbed.outputs.subtitles[name].read_text(encoding="utf-8"))
        assert cues
        assert all(0 <= c.start < c.end <= duration + 1e-3 for c in cues)
        assert all(a.start <= b.start for a, b in pairwise(cues))


def test_document_records_every_decision(dubbed):
    saved = json.loads(dubbed.outputs.document.read_text(encoding="utf-8"))
    assert saved["asr_model"] and saved["translator"] and saved["voice"]
    assert saved["version"] == 2
    for u in saved["lines"]:
        assert u["source"] and u["words"] and u["hypotheses"] and u["translation"]
        assert u["fit"] in {outcome.value for outcome in FitOutcome}
        assert u["placed_start"] is not None and u["voice"]


def test_the_dub_speaks_the_chosen_translation(dubbed):
    listener = WhisperRecognizer(Store().path("whisper-base"), RuntimeOptions(threads=2))
    segments, info = listener.transcribe(decode_audio(dubbed.outputs.media), language="es")
    heard = " ".join(s.text for s in segments)
    said = " ".join(u.translation for u in dubbed.document.lines)
    assert word_error_rate([said], [heard], language="es") <= MAX_ROUND_TRIP_WER


def test_voice_follows_the_speakers_pitch(engines, shared_data, work, tmp_path):
    """Speech without the music bed (a steady tone is periodic too: under it the pitch measured
    is the tone's)."""
    speech, _ = speech_with_pauses([shared_data / "asr" / c for c in CLIPS])
    media = make_video(speech, tmp_path / "voices.mp4")
    document = dub(engines, media, tmp_path / "voices.es.mp4", work).document
    voices = [u.voice for u in document.lines]
    # CLIPS: a man, a woman, a man.
    male, female = Voice("pico-es_ES", "male"), Voice("pico-es_ES", "female")
    assert voices[0] == male and voices[-1] == male
    assert female in voices


def test_post_edit_respeaks_only_the_changed_line(engines, news, dubbed, work, tmp_path):
    media, _ = news
    document = dubbed.document
    edited = tmp_path / "edited.dub.json"
    document.lines[1].translation = "Esta frase la ha corregido una persona."
    document.save(edited)
    report = dub(engines, media, tmp_path / "news.es.mp4", work, document=edited)
    assert report.document.lines[1].translation.startswith("Esta frase")
    assert 1 <= report.synthesized <= 1 + RATE_ATTEMPTS  # the new line, and faster takes
    assert report.reused >= len(document.lines) - 1
    assert report.outputs.media.is_file()


def test_dub_from_spanish_subtitles_keeping_the_original_track(engines, news, tmp_path, work):
    media, spans = news
    srt = tmp_path / "subs.es.srt"
    srt.write_text(
        "1\n00:00:01,500 --> 00:00:03,500\nBuenas noches.\n\n"
        "2\n00:00:05,000 --> 00:00:09,000\nEl equipo ganó el partido.\n",
        encoding="utf-8",
    )
    output = tmp_path / "subs.es.mp4"
    report = dub(engines, media, output, work, from_srt=srt, keep_original_audio=True)
    assert [u.translation for u in report.document.lines] == [
        "Buenas noches.",
        "El equipo ganó el partido.",
    ]
    assert report.document.lines[1].placed_start == pytest.approx(5.0, abs=1e-3)
    assert languages(output, "audio") == ["spa", "eng"]
    audio = [s for s in streams(output) if s["codec_type"] == "audio"]
    assert audio[0]["disposition"]["default"] == 1


def test_audio_only_input_gives_audio_output(engines, shared_data, tmp_path, work):
    source = shared_data / "asr" / "cmuarctic_aew_a0003.wav"
    output = tmp_path / "arctic.es.wav"
    dub(engines, source, output, work)
    assert [s["codec_type"] for s in streams(output)] == ["audio"]
    assert np.abs(decode_audio(output)).max() > 0.05
