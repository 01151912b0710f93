"""`dubber live`: real recordings played as a simulated microphone through the real models: what
depends on the models themselves (real speech heard, LocalAgreement on real Whisper passes). The
session's behaviour (stats, subtitles, overload, catching up, streaming, echo gating, voices by
pitch) is tested on fake engines and a simulated clock in test_session_behaviour.py."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from dubber.engines.bundle import EngineChoice, Engines
from dubber.engines.types import TranscribeOptions
from dubber.live.agreement import LocalAgreement, transcribe_words
from dubber.live.config import LiveConfig
from dubber.live.session import LiveSession
from dubber.live.sinks import PlacedTrack
from dubber.live.sources import FileSource, SamplesSource
from dubber.measure.scores import word_error_rate
from dubber.media.decode import AUDIO_RATE, write_wav
from tests.helpers.media import speech_with_pauses
from tests.helpers.models import engines as loaded_engines

pytestmark = pytest.mark.slow

CLIPS = ["cmuarctic_aew_a0003.wav", "librispeech_1089-134686-0001.wav", "fleurs_en_004.wav"]


@pytest.fixture(scope="module")
def engines() -> Engines:
    # a fast stand-in voice (English Piper reading Spanish): these tests check behaviour
    choice = EngineChoice(
        asr_model="whisper-tiny.en",
        translator="apertium",
        voice="piper-en_US-joe-medium",
        match_voice_to_pitch=False,
    )
    return loaded_engines(choice)


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
    write_wav(recording, audio, AUDIO_RATE)
    live.run(FileSource(recording), speed=2.0)
    return live


def test_every_utterance_is_transcribed_translated_and_spoken(session, stream, references):
    _, spans = stream
    assert len(session.lines) == len(spans)
    for line, (start, end), clip in zip(session.lines, spans, CLIPS, strict=True):
        assert start - 0.3 <= line.start < end
        assert start < line.end <= end + 0.3
        assert word_error_rate([references[clip]], [line.source]) < 0.5, line.source
        assert line.translation and line.translation != line.source
        assert line.placed_start is not None and line.placed_end - line.placed_start > 0.5
        assert line.dropped is None
    assert not session.warnings


@pytest.fixture(scope="module")
def two_sentences(shared_data) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Two sentences 0.4 s apart: one utterance under a 1.2 s endpointing pause."""
    names = ("cmuarctic_aew_a0003.wav", "cmuarctic_axb_a0006.wav")
    return speech_with_pauses([shared_data / "asr" / name for name in names], 0.4)


def test_local_agreement_commits_a_sentence_two_passes_agree_on(engines, two_sentences):
    speech, spans = two_sentences
    recognizer = engines.recognizer
    options = TranscribeOptions(beam_size=1, vad_filter=False, word_timestamps=True)
    agreement, spoken = LocalAgreement(), []
    for seconds in np.arange(1.5, spans[1][1], 1.0):  # passes on the growing audio
        heard = transcribe_words(recognizer, speech[: int(seconds * AUDIO_RATE)], options)
        spoken += agreement.update(heard)
    early = " ".join(w.text for w in spoken).lower()
    assert "two men shook hands." in early and "forever" not in early  # heard, not yet agreed
    assert [w.start for w in spoken] == sorted(w.start for w in spoken)
    final = transcribe_words(recognizer, speech, options)
    rest = " ".join(w.text for w in agreement.rest(final)).lower()
    assert "shook" not in rest and "seeing them forever" in rest


def test_long_utterance_is_spoken_in_pieces_without_repeats(engines, two_sentences):
    speech, spans = two_sentences
    live = LiveSession(engines, LiveConfig(pause_ms=1200, max_utterance_s=20, max_lag_s=120))
    lines = live.run(SamplesSource(speech, "two sentences"), speed=1.0)
    said = " ".join(line.source for line in lines).lower()
    assert "two men shook hands" in said and "seeing them forever" in said
    assert said.count("shook hands") == 1 and said.count("forever") == 1
    assert all(line.placed_start is not None for line in lines)
    assert [line.start for line in lines] == sorted(line.start for line in lines)
