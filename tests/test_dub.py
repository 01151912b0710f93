"""`dubber dub` end to end on short media built from real English speech (../shared/data)."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import av
import numpy as np
import pytest
from media_fixtures import (
    make_video,
    speech_with_pauses,
    tone_level_db,
    video_packet_hashes,
    with_tone,
)

from dubber.chain.fit import RATE_ATTEMPTS
from dubber.dub.job import Dubber, DubOptions, OutputPaths
from dubber.engines.load import EngineChoice, PipelineEngines
from dubber.engines.whisper import WhisperRecognizer
from dubber.measure.scores import word_error_rate
from dubber.media.ffmpeg import decode_audio
from dubber.media.subtitles import parse_srt
from dubber.settings import RuntimeOptions
from dubber.store.store import Store

CLIPS = ("librispeech_1089-134691-0000.wav", "ljspeech_LJ001-0007.wav", "cmuarctic_aew_a0003.wav")
# Measured 2026-11-24 (Apertium + Kokoro offline pack, Whisper base round trip): WER 0.28.
MAX_ROUND_TRIP_WER = 0.5


def quiet(*_: object) -> None:
    """A progress callback that shows nothing."""


@pytest.fixture(scope="module")
def engines() -> PipelineEngines:
    return PipelineEngines.load(Store(), RuntimeOptions(threads=2), EngineChoice())


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
    outputs = OutputPaths.beside(media.parent / "news.es.mp4", "en", "es")
    return Dubber(engines, DubOptions(), work).dub(media, outputs, quiet)


def audio_stream_seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return float(stream.duration * stream.time_base)


def video_stream_seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return float(stream.duration * stream.time_base)


def test_video_is_copied_bit_for_bit(news, dubbed):
    media, _ = news
    assert video_packet_hashes(dubbed.outputs.media) == video_packet_hashes(media)


def test_audio_lasts_as_long_as_the_video(dubbed):
    output = dubbed.outputs.media
    assert abs(audio_stream_seconds(output) - video_stream_seconds(output)) <= 0.05


def test_outputs_are_tagged_and_carry_subtitles(dubbed):
    with av.open(str(dubbed.outputs.media)) as container:
        audio = container.streams.audio
        subtitles = container.streams.subtitles
        assert [s.metadata.get("language") for s in audio] == ["spa"]
        assert sorted(s.metadata.get("language") for s in subtitles) == ["eng", "spa"]
    for path in dubbed.outputs.all():
        assert path.is_file() and path.stat().st_size > 0


def test_every_line_is_placed_inside_its_slot_without_overlap(news, dubbed):
    utterances = dubbed.document.utterances
    _, spans = news
    assert len(utterances) >= len(spans)
    for u in utterances:
        assert u.start - 1e-3 <= u.placed_start <= u.end
        assert u.stretch <= DubOptions().fit.max_stretch + 1e-6
        assert u.rate <= DubOptions().fit.max_rate + 1e-6
    for first, second in pairwise(utterances):
        assert first.placed_end <= second.placed_start


def test_background_stays_between_lines_and_is_ducked_under_speech(news, dubbed):
    audio = decode_audio(dubbed.outputs.media, 16000)
    utterances = dubbed.document.utterances
    gap_start = utterances[0].placed_end + 0.3
    gap_end = utterances[1].placed_start - 0.3
    assert gap_end - gap_start >= 0.4, "the test media needs a pause between the first two lines"
    open_level = tone_level_db(audio, 16000, gap_start, gap_end)
    first = utterances[0]
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
    for u in saved["utterances"]:
        assert u["source"] and u["words"] and u["hypotheses"] and u["translation"]
        assert u["fit"] in {"natural", "rate", "borrowed", "stretched", "overflow"}
        assert u["placed_start"] is not None and u["voice"]


def test_the_dub_speaks_the_chosen_translation(dubbed):
    listener = WhisperRecognizer(Store().path("whisper-base"), RuntimeOptions(threads=2))
    segments, info = listener.transcribe(decode_audio(dubbed.outputs.media), language="es")
    heard = " ".join(s.text for s in segments)
    said = " ".join(u.translation for u in dubbed.document.utterances)
    assert word_error_rate([said], [heard], language="es") <= MAX_ROUND_TRIP_WER


def test_voice_follows_the_speakers_pitch(dubbed):
    voices = [u.voice for u in dubbed.document.utterances]
    # CLIPS: a man, a woman, a man.
    assert voices[0].endswith("jm_kumo") and voices[-1].endswith("jm_kumo")
    assert any(v.endswith("jf_alpha") for v in voices)


def test_post_edit_respeaks_only_the_changed_line(engines, news, dubbed, work, tmp_path):
    media, _ = news
    document = dubbed.document
    edited = tmp_path / "edited.dub.json"
    document.utterances[1].translation = "Esta frase la ha corregido una persona."
    document.save(edited)
    outputs = OutputPaths.beside(tmp_path / "news.es.mp4", "en", "es")
    options = DubOptions(transcript=edited)
    report = Dubber(engines, options, work).dub(media, outputs, quiet)
    assert report.document.utterances[1].translation.startswith("Esta frase")
    assert 1 <= report.synthesized <= 1 + RATE_ATTEMPTS  # the new line, and faster takes
    assert report.reused >= len(document.utterances) - 1
    assert outputs.media.is_file()


def test_dub_from_spanish_subtitles_keeping_the_original_track(engines, news, tmp_path, work):
    media, spans = news
    srt = tmp_path / "subs.es.srt"
    srt.write_text(
        "1\n00:00:01,500 --> 00:00:03,500\nBuenas noches.\n\n"
        "2\n00:00:05,000 --> 00:00:09,000\nEl equipo ganó el partido.\n",
        encoding="utf-8",
    )
    outputs = OutputPaths.beside(tmp_path / "subs.es.mp4", "en", "es")
    options = DubOptions(from_srt=srt, keep_original_audio=True)
    report = Dubber(engines, options, work).dub(media, outputs, quiet)
    assert [u.translation for u in report.document.utterances] == [
        "Buenas noches.",
        "El equipo ganó el partido.",
    ]
    assert report.document.utterances[1].placed_start == pytest.approx(5.0, abs=1e-3)
    with av.open(str(outputs.media)) as container:
        languages = [s.metadata.get("language") for s in container.streams.audio]
        assert languages == ["spa", "eng"]
        assert container.streams.audio[0].disposition & av.stream.Disposition.default


def test_audio_only_input_gives_audio_output(engines, shared_data, tmp_path, work):
    source = shared_data / "asr" / "cmuarctic_aew_a0003.wav"
    outputs = OutputPaths.beside(tmp_path / "arctic.es.wav", "en", "es")
    Dubber(engines, DubOptions(), work).dub(source, outputs, quiet)
    with av.open(str(outputs.media)) as container:
        assert not container.streams.video and len(container.streams.audio) == 1
    assert np.abs(decode_audio(outputs.media)).max() > 0.05
