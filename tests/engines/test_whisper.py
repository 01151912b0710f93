"""Whisper recognition on real English speech from ../shared/data/asr."""

from __future__ import annotations

import csv
import dataclasses
import math
from itertools import pairwise

import numpy as np
import pytest

from dubber.engines.language import CHECK_CONFIDENCE
from dubber.engines.types import TranscribeOptions
from dubber.engines.whisper import WhisperConfig, WhisperRecognizer, split_at_quiet_moments
from dubber.live.config import LiveConfig
from dubber.measure.scores import word_error_rate
from dubber.media.decode import AUDIO_RATE, decode_audio
from dubber.settings import RuntimeOptions
from dubber.store.store import Store
from tests.helpers.models import recognizer as recognizer_of

pytestmark = pytest.mark.slow

# Measured 2026-11-24: tiny.en int8, beam 5, 2 threads -> corpus WER 1.4 % on the 12 shared clips.
MAX_WER = 0.04
PADDING = LiveConfig().partial_padding_s  # what live partial passes use


@pytest.fixture(scope="module")
def recognizer() -> WhisperRecognizer:
    return recognizer_of("whisper-tiny.en")


def _references(shared_data):
    with open(shared_data / "asr" / "refs.tsv", encoding="utf-8") as table:
        return [
            (row["file"], row["reference_text"]) for row in csv.DictReader(table, delimiter="\t")
        ]


def test_tiny_en_word_error_rate_on_shared_speech(recognizer, shared_data):
    references, hypotheses = [], []
    for name, reference in _references(shared_data):
        segments, info = recognizer.transcribe(decode_audio(shared_data / "asr" / name))
        hypotheses.append(" ".join(s.text for s in segments))
        references.append(reference)
        assert info.language == "en"
    assert len(hypotheses) == 12
    assert word_error_rate(references, hypotheses) <= MAX_WER


def test_word_timestamps_are_ordered_and_inside_the_audio(recognizer, shared_data):
    audio = decode_audio(shared_data / "asr" / "jfk_inaugural_1961.wav")
    segments, info = recognizer.transcribe(audio)
    words = [w for s in segments for w in s.words]
    assert len(words) >= 20
    assert all(w.start <= w.end for w in words)
    assert all(a.start <= b.start for a, b in pairwise(words))
    assert words[-1].end <= info.duration + 0.05
    assert "country" in " ".join(w.text.lower() for w in words)


def test_multilingual_model_detects_spanish(shared_data):
    spanish = decode_audio(shared_data / "es" / "fleurs_es_000.wav")
    _, info = recognizer_of("whisper-base").transcribe(spanish)
    assert info.language == "es"
    assert info.language_probability > 0.5


def test_the_spoken_language_is_told_on_the_clip_itself(shared_data):
    """Detection runs on the clip's own length, not a padded 30 s window: every shared English
    clip reads as English and every Spanish one as Spanish, surely enough to be refused."""
    base = recognizer_of("whisper-base")
    for language in ("asr", "es"):
        for clip in sorted((shared_data / language).glob("*.wav")):
            found, probability = base.detect_language(decode_audio(clip))
            expected = "en" if language == "asr" else "es"
            assert found == expected, clip.name
            assert language == "asr" or probability >= CHECK_CONFIDENCE, (clip.name, probability)
    assert base.detect_language(np.zeros(AUDIO_RATE // 4, np.float32))[0]  # a quarter second


def test_long_audio_is_decoded_in_blocks_cut_at_pauses(recognizer, shared_data):
    """Blocks keep memory flat on long inputs; words keep their place on the input's clock."""
    names = (
        "ljspeech_LJ001-0007.wav",
        "librispeech_2412-153948-0000.wav",
        "cmuarctic_aew_a0003.wav",
    )
    clips = [decode_audio(shared_data / "asr" / name) for name in names]
    pause = np.zeros(16000, np.float32)
    audio = np.concatenate([clips[0], pause, clips[1], pause, clips[2]])
    blocks = split_at_quiet_moments(audio, 16000, block_seconds=10.0)
    assert 3 <= len(blocks) <= 4 and blocks[0][0] == 0 and blocks[-1][1] == len(audio)
    assert all(a[1] == b[0] for a, b in pairwise(blocks))
    blocked = WhisperRecognizer(
        Store().prepare("whisper-tiny.en"),
        RuntimeOptions(threads=2),
        WhisperConfig(block_seconds=10.0),
    )
    segments, info = blocked.transcribe(audio)
    words = [w for s in segments for w in s.words]
    assert info.duration == pytest.approx(len(audio) / 16000)
    assert all(a.start <= b.start for a, b in pairwise(words))
    references = _references(shared_data)
    expected = " ".join(dict(references)[name] for name in names)
    assert word_error_rate([expected], [" ".join(w.text for w in words)]) <= 0.1
    last_clip_start = (len(clips[0]) + len(clips[1]) + 2 * 16000) / 16000
    assert words[-1].start >= last_clip_start


def test_vad_cuts_only_long_audio_or_clips_that_are_mostly_not_speech(recognizer, shared_data):
    speech = decode_audio(shared_data / "asr" / "fleurs_en_005.wav")  # 11 s, spoken throughout
    silence = np.zeros(16000 * 14, np.float32)
    assert not recognizer.vad_helps(speech)
    assert recognizer.vad_helps(np.concatenate([silence, speech[: 16000 * 4], silence]))
    assert recognizer.vad_helps(np.concatenate([speech, speech, speech]))  # over one window


def test_a_padded_pass_encodes_only_the_clip_and_its_padding(recognizer, shared_data, monkeypatch):
    """`padding_s`: the encoder gets the clip plus that much, not the 30-s window; the words
    stay close to the full window's (live partial passes)."""
    from faster_whisper import WhisperModel

    widths: list[int] = []
    encode = WhisperModel.encode  # what the recogniser's model hands its features on to
    monkeypatch.setattr(
        WhisperModel, "encode", lambda self, f: widths.append(f.shape[-1]) or encode(self, f)
    )
    model = recognizer._model
    references, full, padded = [], [], []
    for name, reference in _references(shared_data):
        audio = decode_audio(shared_data / "asr" / name)
        options = TranscribeOptions(beam_size=1, vad_filter=False, word_timestamps=True)
        for texts, padding in ((full, None), (padded, PADDING)):
            widths.clear()
            chosen = dataclasses.replace(options, padding_s=padding)
            segments, _ = recognizer.transcribe(audio, options=chosen)
            texts.append(" ".join(s.text for s in segments))
            seconds = len(audio) / AUDIO_RATE + (padding or 0)
            expected = 3000 if padding is None else math.ceil(seconds * 100)
            assert widths and all(abs(width - expected) <= 1 for width in widths)
        references.append(reference)
    assert model.window.frames is None  # the next pass sees the whole window again
    assert word_error_rate(references, padded) <= word_error_rate(references, full) + 0.03
