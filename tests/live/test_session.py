"""`dubber live`: real recordings played as a simulated microphone through the real models."""

from __future__ import annotations

import csv
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from dubber.chain.line import Stamp
from dubber.engines.bundle import EngineChoice, Engines
from dubber.engines.duration import calibrated
from dubber.engines.espeak import EspeakSynthesizer
from dubber.engines.load import load_engines
from dubber.engines.types import AUDIO_RATE, TranscribeOptions
from dubber.engines.voice import Gender, Voice
from dubber.engines.voices import VoiceBank, VoiceChoice
from dubber.live.agreement import LocalAgreement, transcribe_words
from dubber.live.config import LiveConfig
from dubber.live.session import LiveSession, Queue
from dubber.live.sinks import PlacedTrack
from dubber.live.sources import FileSource, SamplesSource
from dubber.live.stats import LATENCY_STAGES, write_stats
from dubber.measure.scores import word_error_rate
from dubber.media.decode import decode_audio, resample, write_wav
from dubber.media.dsp import rms_db
from dubber.media.subtitles import parse_srt
from dubber.settings import RuntimeOptions
from dubber.store.store import Store
from tests.helpers.media import speech_with_pauses

pytestmark = pytest.mark.slow

CLIPS = ["cmuarctic_aew_a0003.wav", "librispeech_1089-134686-0001.wav", "fleurs_en_004.wav"]


@pytest.fixture(scope="module")
def engines() -> Engines:
    # a fast stand-in voice (English Piper reading Spanish): these tests check behaviour
    choice = EngineChoice(
        "whisper-tiny.en", "apertium", None, "piper-en_US-joe-medium", match_voice_to_pitch=False
    )
    return load_engines(Store(), RuntimeOptions(threads=2), choice)


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


def test_output_track_has_speech_at_each_line_and_silence_before(session):
    track = session.track.render(session.input_seconds)
    rate = session.track.sample_rate
    assert len(track) >= session.input_seconds * rate
    first = session.lines[0]
    assert rms_db(track[: int(first.end * rate)]) == -120.0  # nothing before speech ends
    for line in session.lines:
        begin, end = int(line.placed_start * rate), int(line.placed_end * rate)
        assert rms_db(track[begin:end]) > -35


def test_stats_json_is_well_formed_and_stage_times_ordered(session, tmp_path):
    path = tmp_path / "stats.json"
    write_stats(path, session.lines)
    stats = json.loads(path.read_text(encoding="utf-8"))
    assert len(stats["lines"]) == len(session.lines)
    for line in stats["lines"]:
        times = [line["times_s"][name] for name in LATENCY_STAGES]
        assert line["speech_start_s"] <= times[0] and times == sorted(times), line
        assert line["source"] and line["translation"]
        assert line["first_caption_s"] >= line["speech_start_s"]
        latency = line["times_s"]["first_audio"] - line["speech_end_s"]
        assert line["latency_end_to_audio_s"] == pytest.approx(latency, abs=0.002)
    summary = stats["latency_end_to_audio_s"]
    assert 0 < summary["p50"] <= summary["p95"] <= summary["max"]


def test_subtitles_written_in_both_languages(session):
    english = parse_srt((session.srt_base.with_name("talk.en.srt")).read_text(encoding="utf-8"))
    spanish = parse_srt((session.srt_base.with_name("talk.es.srt")).read_text(encoding="utf-8"))
    assert [c.text for c in english] == [line.source for line in session.lines]
    assert [c.text for c in spanish] == [line.translation for line in session.lines]
    assert all(es.start >= en.end for en, es in zip(english, spanish, strict=True))


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


def test_each_line_is_spoken_with_the_voice_matching_the_speakers_pitch(engines, shared_data):
    low, high = Voice("espeak-low"), Voice("espeak-high")

    def choice(voice: Voice, pitch: int) -> VoiceChoice:
        synthesizer = EspeakSynthesizer("es", pitch=pitch)
        return VoiceChoice(voice, synthesizer, calibrated(synthesizer, voice, Store().home))

    bank = VoiceBank({Gender.male: choice(low, 30), Gender.female: choice(high, 70)})
    two_voices = replace(engines, voices=bank)
    man, woman = "librispeech_1089-134691-0000.wav", "ljspeech_LJ001-0007.wav"
    audio, _ = speech_with_pauses([shared_data / "asr" / name for name in (man, woman, man)])
    lines = LiveSession(two_voices, LiveConfig(max_lag_s=120)).run(SamplesSource(audio, "3"), 1.0)
    voices = [line.voice for line in lines]
    assert voices[0] == voices[-1] == low and high in voices
    for line in lines:  # clear pitches (away from the 165 Hz boundary) choose by gender
        if line.pitch_hz and abs(line.pitch_hz - 165) > 10:
            assert (line.voice == high) == (line.pitch_hz > 165), line


def test_long_utterance_is_spoken_in_pieces_without_repeats(engines, two_sentences):
    speech, spans = two_sentences
    live = LiveSession(engines, LiveConfig(pause_ms=1200, max_utterance_s=20, max_lag_s=120))
    lines = live.run(SamplesSource(speech, "two sentences"), speed=1.0)
    said = " ".join(line.source for line in lines).lower()
    assert "two men shook hands" in said and "seeing them forever" in said
    assert said.count("shook hands") == 1 and said.count("forever") == 1
    assert all(line.placed_start is not None for line in lines)
    assert [line.start for line in lines] == sorted(line.start for line in lines)


def test_overload_degrades_with_a_warning_and_bounded_queues(engines, stream):
    audio, spans = stream
    config = LiveConfig(queue_size=1, max_lag_s=1.0)
    live = LiveSession(engines, config, track=PlacedTrack(engines.voices.sample_rate))
    lines = live.run(SamplesSource(audio, "clips", loops=3), speed=16.0)
    assert live.warnings and all("falling behind" in w for w in live.warnings)
    assert all(size <= 1 for name, size in live.peak_queue.items() if name is not Queue.capture)
    assert live.peak_queue.get(Queue.capture, 0) <= 64
    assert any(line.dropped for line in lines) or any("merged" in w for w in live.warnings)
    assert all((line.placed_start is None) == bool(line.dropped) for line in lines)


class Recorded:
    """A real voice whose pieces are timed as they come out (for the streaming test)."""

    def __init__(self, synthesizer) -> None:
        self._synthesizer = synthesizer
        self.name, self.language = synthesizer.name, synthesizer.language
        self.sample_rate, self.style = synthesizer.sample_rate, synthesizer.style
        self.styles = synthesizer.styles
        self.pieces_at: list[float] = []

    def with_style(self, style):
        return self

    def synthesize(self, text, *, rate=1.0):
        for piece in self._synthesizer.synthesize(text, rate=rate):
            self.pieces_at.append(time.monotonic())
            yield piece


class TimedTrack(PlacedTrack):
    """The output track, with the wall time each piece was placed."""

    def __init__(self, sample_rate: int) -> None:
        super().__init__(sample_rate)
        self.placed_at: list[float] = []

    def place(self, start_s, samples):
        self.placed_at.append(time.monotonic())
        super().place(start_s, samples)


def test_a_long_line_starts_playing_before_its_last_piece_is_synthesised(engines, shared_data):
    """Kokoro (slow) speaking a sentence of several clauses: its first clause plays first."""
    kokoro = load_engines(
        Store(), RuntimeOptions(threads=2), EngineChoice("whisper-tiny.en", "apertium",
        voice="kokoro-82m-offline", match_voice_to_pitch=False),
    )  # fmt: skip
    choice = kokoro.voices.for_pitch(None)
    recorded = Recorded(choice.synthesizer)
    voices = VoiceBank({None: VoiceChoice(choice.voice, recorded, choice.duration)})
    track = TimedTrack(recorded.sample_rate)
    config = LiveConfig(pause_ms=2000, max_utterance_s=20, max_lag_s=120)  # one line
    session = LiveSession(replace(kokoro, voices=voices), config, track=track)
    audio, _ = speech_with_pauses([shared_data / "asr" / "jfk_inaugural_1961.wav"])
    [line] = session.run(SamplesSource(audio, "one long sentence"), speed=1.0)
    assert len(recorded.pieces_at) >= 2, line.translation
    assert track.placed_at[0] < recorded.pieces_at[-1] - 0.2
    assert line.placed_start is not None and line.stamps[Stamp.tts] <= line.placed_start


@pytest.fixture(scope="module")
def pico_engines() -> Engines:
    choice = EngineChoice("whisper-tiny.en", "apertium", voice="pico-es_ES")
    return load_engines(Store(), RuntimeOptions(threads=2), choice)


class SlowVoice(Recorded):
    """A real voice speaking `factor` times slower than asked: more Spanish than time to say it."""

    def __init__(self, synthesizer, factor: float) -> None:
        super().__init__(synthesizer)
        self.factor = factor

    def synthesize(self, text, *, rate=1.0):
        return super().synthesize(text, rate=rate / self.factor)


def test_overloaded_speech_is_caught_up_with_speed_rather_than_dropped(pico_engines, shared_data):
    """The dense call with a voice 1.6x slower than Pico (its Spanish takes about twice as long
    as the English): the session speeds it up, keeps the lag bounded, and drops fewer lines than
    the same session not allowed to speed up."""
    audio = decode_audio(shared_data / "longform" / "06-ibm-earnings-1min.wav")[: 45 * AUDIO_RATE]
    choice = pico_engines.voices.for_pitch(None)
    slow = SlowVoice(choice.synthesizer, 1.6)
    engines = replace(
        pico_engines, voices=VoiceBank({None: VoiceChoice(choice.voice, slow, choice.duration)})
    )
    runs = {}
    for name, config in {
        "catch-up": LiveConfig(),
        "natural speed": LiveConfig(max_rate=1.0, max_stretch=1.0),
    }.items():
        session = LiveSession(engines, config)
        lines = session.run(SamplesSource(audio, "the call"), speed=1.0)
        runs[name] = (lines, session.report())
    lines, report = runs["catch-up"]
    dropped = {name: sum(line.dropped is not None for line in run[0]) for name, run in runs.items()}
    assert len(lines) >= 8 and dropped["natural speed"] > 0, dropped
    assert dropped["catch-up"] < dropped["natural speed"], dropped
    assert any(line.rate > 1.0 and line.stretch > 1.0 for line in lines), "nothing was sped up"
    # lag is measured at each line's end: at most the drop limit plus a line's own length
    longest = max(line.placed_end - line.placed_start for line in lines if not line.dropped)
    assert report["lag_max_s"] <= LiveConfig().max_lag_s + longest
    assert set(report["stage_waits_s"]) >= {"asr", "mt", "tts", "output"}


class Room:
    """Speakers and a microphone in one room: what the speakers play (placed at input-clock
    times) comes back into the microphone, mixed with the speaker's English."""

    def __init__(self, speech: np.ndarray, voice_rate: int) -> None:
        self.speech, self.voice_rate = speech, voice_rate
        self.heard = np.zeros(len(speech) + 30 * AUDIO_RATE, np.float32)

    def write(self, samples: np.ndarray) -> None:  # the speakers: placed below, when known
        pass

    def place(self, start_s: float, samples: np.ndarray) -> None:
        echo = resample(samples, self.voice_rate, AUDIO_RATE) * 0.6
        begin = int(start_s * AUDIO_RATE)
        end = min(begin + len(echo), len(self.heard))
        self.heard[begin:end] += echo[: end - begin]

    def source(self) -> SamplesSource:
        room = self

        class Microphone(SamplesSource):
            def chunks(self, clock):
                position = 0
                for chunk in super().chunks(clock):
                    mixed = chunk + room.heard[position : position + len(chunk)]
                    position += len(chunk)
                    yield mixed

        return Microphone(self.speech, "a room")


@pytest.mark.parametrize("duplex", [False, True], ids=["half-duplex", "duplex"])
def test_the_spanish_played_in_the_room_is_not_translated_again(
    pico_engines, shared_data, references, duplex
):
    clips = ["cmuarctic_aew_a0003.wav", "ljspeech_LJ001-0007.wav"]
    audio, spans = speech_with_pauses([shared_data / "asr" / c for c in clips], pause=10.0)
    room = Room(audio, pico_engines.voices.sample_rate)
    config = LiveConfig(max_lag_s=120, duplex=duplex)
    session = LiveSession(pico_engines, config, speakers=room, track=room)
    lines = session.run(room.source(), speed=1.0)
    english = [line for line in lines if any(s - 0.5 <= line.start < e for s, e in spans)]
    assert len(english) == len(clips)
    for line, clip in zip(english, clips, strict=True):
        assert word_error_rate([references[clip]], [line.source]) < 0.5, line.source
    heard_itself = len(lines) > len(english)
    assert heard_itself == duplex, [line.source for line in lines]
