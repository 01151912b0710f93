"""`dubber dub` end to end with the real models on short media built from real English speech
(../shared/data): what depends on the models themselves. The job's behaviour (fitting, mixing,
outputs, documents, post-edits, resume) is tested on fake engines in test_job_behaviour.py."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from dubber.dub.job import DubOptions
from dubber.engines.bundle import EngineChoice, Engines
from dubber.engines.voice import Voice
from dubber.measure.scores import word_error_rate
from dubber.media.decode import decode_audio
from tests.helpers.fakes import dub_file
from tests.helpers.media import make_video, speech_with_pauses, with_tone
from tests.helpers.models import engines as loaded_engines
from tests.helpers.models import recognizer

pytestmark = pytest.mark.slow

CLIPS = ("librispeech_1089-134691-0000.wav", "ljspeech_LJ001-0007.wav", "cmuarctic_aew_a0003.wav")
# Measured 2026-11-24 (Apertium + Kokoro offline pack, Whisper base round trip): WER 0.28.
MAX_ROUND_TRIP_WER = 0.5


@pytest.fixture(scope="module")
def engines() -> Engines:
    return loaded_engines(EngineChoice())


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
    return dub_file(engines, media, media.parent / "news.es.mp4", work)


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


def test_the_dub_speaks_the_chosen_translation(dubbed):
    listener = recognizer("whisper-base")
    segments, info = listener.transcribe(decode_audio(dubbed.outputs.media), language="es")
    heard = " ".join(s.text for s in segments)
    said = " ".join(u.translation for u in dubbed.document.lines)
    assert word_error_rate([said], [heard], language="es") <= MAX_ROUND_TRIP_WER


def test_voice_follows_the_speakers_pitch(engines, shared_data, work, tmp_path):
    """Speech without the music bed (a steady tone is periodic too: under it the pitch measured
    is the tone's)."""
    speech, _ = speech_with_pauses([shared_data / "asr" / c for c in CLIPS])
    media = make_video(speech, tmp_path / "voices.mp4")
    document = dub_file(engines, media, tmp_path / "voices.es.mp4", work).document
    voices = [u.voice for u in document.lines]
    # CLIPS: a man, a woman, a man.
    male, female = Voice("pico-es_ES", "male"), Voice("pico-es_ES", "female")
    assert voices[0] == male and voices[-1] == male
    assert female in voices


def test_the_subtitles_of_real_speech_keep_the_broadcast_norms(dubbed):
    """Cues from real recognised words and real placed speech: lines, lengths, durations and
    reading speed where the timing allows; both files as written hold the same cues."""
    from dubber.measure.evaluate import subtitle_norms
    from dubber.media.subtitles import parse_srt

    document = dubbed.document
    for language, cues in document.subtitles().items():
        norms = subtitle_norms(cues, language, document.duration)
        assert norms["cues"] >= len(document.lines) and norms["within_norms"] >= 0.98, norms
        written = parse_srt(dubbed.outputs.subtitles[f"{language}.srt"].read_text("utf-8"))
        assert [" ".join(c.text.split()) for c in written] == [
            " ".join(c.text.split()) for c in cues
        ]
