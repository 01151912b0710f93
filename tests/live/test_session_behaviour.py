"""`LiveSession` behaviour (fast tier): fake engines and fake speech on a simulated input clock.

Every session here runs on `SimulatedTime` (tests/helpers/fakes.py): the input's clock stands
still while a stage works and jumps to the next chunk once every stage waits, so a session runs
at full speed and the same way every time; engines cost simulated time only where a test makes
them (`delay`). The speech is a `Tape` of tone bursts whose words `TapeRecognizer` hears.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dubber.chain.line import Line, Stamp
from dubber.engines.bundle import Engines
from dubber.engines.voice import Gender, Voice
from dubber.engines.voices import VoiceBank
from dubber.live.config import LiveConfig
from dubber.live.pipeline import Queue
from dubber.live.session import Captions, LiveSession
from dubber.live.sinks import PlacedTrack
from dubber.live.sources import SamplesSource
from dubber.live.stats import LATENCY_STAGES, write_stats
from dubber.media.decode import AUDIO_RATE
from dubber.media.dsp import rms_db
from dubber.media.subtitles import parse_srt
from tests.helpers.fakes import (
    FEMALE,
    MALE,
    BeepSynthesizer,
    EchoTranslator,
    EnergyVad,
    ScriptedDiarizer,
    SimulatedTime,
    Tape,
    TapeRecognizer,
    fake_engines,
    fake_voices,
)

NEWS = (
    "The council met on Monday.",
    "It approved twelve new schools for the city.",
    "Work starts in March.",
    "The mayor said the plan was overdue.",
    "Parents welcomed the news.",
    "Teachers asked for more staff.",
    "The first school opens next year.",
    "Building costs are still unknown.",
    "A vote on the budget follows.",
    "The meeting ended at nine.",
)
TWO_SENTENCES = ("Two men shook hands on the bridge.", "They kept seeing them forever after that.")
COSTS = {"asr": 0.2, "mt": 0.1, "tts": 0.05}  # simulated seconds a call (a piece for speech)
MakeEngines = Callable[..., Engines]


SIMULATION = SimulatedTime()


@pytest.fixture(scope="module")
def simulation() -> SimulatedTime:
    return SIMULATION


def simulated(engines: Engines, config: LiveConfig | None = None, **parts: Any) -> LiveSession:
    """A live session on simulated time, with the energy VAD in place of Silero."""
    return LiveSession(engines, config, clock=SIMULATION.clock(), vad=EnergyVad(), **parts)


@pytest.fixture(scope="module")
def make_engines(calibration: Path, simulation: SimulatedTime) -> MakeEngines:
    """Fake engines hearing `tape`, each call of a stage costing `costs[stage]` seconds."""

    def make(
        tape: Tape, *, voices: VoiceBank | None = None, costs: dict[str, float] | None = None
    ) -> Engines:
        engines = fake_engines(calibration, (), recognizer=TapeRecognizer(tape), voices=voices)
        costs = costs or {}
        engines.recognizer.delay = simulation.costs(costs.get("asr", 0.0))
        engines.translator.delay = simulation.costs(costs.get("mt", 0.0))
        for choice in engines.voices.choices():
            choice.synthesizer.delay = simulation.costs(costs.get("tts", 0.0))
        return engines

    return make


def translated(text: str) -> str:
    """What the fake translator makes of `text`."""
    return EchoTranslator().translate([text])[0].text


def heard_words(lines: list[Line]) -> list[str]:
    return " ".join(line.source for line in lines).split()


def within(line: Line, span: tuple[str, float, float]) -> bool:
    """Whether the line is timed on the sentence `span` (its start with the VAD's lead-in)."""
    _, start, end = span
    return start - 0.3 <= line.start < end and start < line.end <= end + 0.3


class Shown(Captions):
    """Every caption a session shows."""

    def __init__(self) -> None:
        self.partials: list[str] = []
        self.sources: list[str] = []
        self.translations: list[str] = []

    def partial(self, text: str) -> None:
        self.partials.append(text)

    def source(self, line: Line) -> None:
        self.sources.append(line.source)

    def translation(self, line: Line) -> None:
        self.translations.append(line.translation)


# -- a session over three sentences, shared by the tests of what it produced ----------------------


@pytest.fixture(scope="module")
def news() -> Tape:
    return Tape.speak(NEWS[:3])


@pytest.fixture(scope="module")
def shown() -> Shown:
    return Shown()


@pytest.fixture(scope="module")
def session(make_engines, news, shown, tmp_path_factory) -> LiveSession:
    engines = make_engines(news, costs=COSTS)
    srt = tmp_path_factory.mktemp("live") / "talk.srt"
    track = PlacedTrack(engines.voices.sample_rate)
    live = simulated(engines, LiveConfig(), track=track, srt_base=srt, captions=shown)
    live.run(SamplesSource(news.audio, "news"), speed=1.0)
    return live


def test_every_utterance_is_transcribed_translated_and_spoken(session, news):
    assert len(session.lines) == len(news.sentences)
    for line, span in zip(session.lines, news.sentences, strict=True):
        assert within(line, span), (line, span)
        assert line.source == span[0]
        assert line.translation == translated(line.source)
        assert line.placed_start is not None and line.placed_end - line.placed_start > 0.5
        assert line.dropped is None and not line.committed_early
    assert not session.warnings
    assert session.input_seconds == pytest.approx(news.seconds, abs=0.04)


def test_lines_are_spoken_after_they_are_heard_in_order_without_overlap(session):
    for line in session.lines:
        assert line.end <= line.stamps[Stamp.endpoint] <= line.stamps[Stamp.tts]
        assert line.stamps[Stamp.tts] <= line.placed_start
    for first, second in pairwise(session.lines):
        assert first.placed_end <= second.placed_start


def test_output_track_has_speech_at_each_line_and_silence_before(session):
    track = session.track.render(session.input_seconds)
    rate = session.track.sample_rate
    assert len(track) >= session.input_seconds * rate
    assert rms_db(track[: int(session.lines[0].end * rate)]) == -120.0
    for line, following in pairwise([*session.lines, None]):
        begin, end = int(line.placed_start * rate), int(line.placed_end * rate)
        assert rms_db(track[begin:end]) > -35
        gap_end = int(following.placed_start * rate) if following else len(track)
        assert rms_db(track[end + rate // 100 : gap_end]) == -120.0  # nothing between lines


def test_stats_json_is_well_formed_and_stage_times_ordered(session, tmp_path):
    path = tmp_path / "stats.json"
    write_stats(path, session.lines, session.report())
    stats = json.loads(path.read_text(encoding="utf-8"))
    assert len(stats["lines"]) == len(session.lines)
    for record in stats["lines"]:
        times = [record["times_s"][name] for name in LATENCY_STAGES]
        assert record["speech_start_s"] <= times[0] and times == sorted(times), record
        # the simulated costs of recognition, translation and speech show between the stamps
        assert record["times_s"]["mt"] - record["times_s"]["asr"] >= COSTS["mt"] - 1e-3
        assert record["times_s"]["tts"] - record["times_s"]["mt"] >= COSTS["tts"] - 1e-3
        assert record["source"] and record["translation"]
        assert record["first_caption_s"] >= record["speech_start_s"]
        latency = record["times_s"]["first_audio"] - record["speech_end_s"]
        assert record["latency_end_to_audio_s"] == pytest.approx(latency, abs=0.002)
    summary = stats["latency_end_to_audio_s"]
    assert 0 < summary["p50"] <= summary["p95"] <= summary["max"]
    assert stats["dropped"] == 0 and stats["warnings"] == []
    assert set(stats["stage_waits_s"]) == {"capture", "vad", "asr", "mt", "tts", "output"}


def test_lag_is_recorded_for_every_piece_played(session):
    report = session.report()
    assert len(report["lag_s"]) >= len(session.lines)
    assert report["lag_max_s"] == pytest.approx(max(lag for _, lag in report["lag_s"]), abs=0.01)
    assert [t for t, _ in report["lag_s"]] == sorted(t for t, _ in report["lag_s"])
    assert report["echo_muted_s"] is None  # no speakers in the room


def test_subtitles_written_in_both_languages(session):
    read = [
        parse_srt(session.subtitles.paths[language].read_text(encoding="utf-8"))
        for language in ("en", "es")
    ]
    english, spanish = read
    assert [c.text for c in english] == [line.source for line in session.lines]
    assert [c.text for c in spanish] == [line.translation for line in session.lines]
    assert all(es.start >= en.end for en, es in zip(english, spanish, strict=True))
    assert [c.start for c in spanish] == sorted(c.start for c in spanish)


def test_captions_show_each_line_in_both_languages(session, shown):
    assert shown.sources == [line.source for line in session.lines]
    assert shown.translations == [line.translation for line in session.lines]
    words = set(" ".join(NEWS[:3]).split())
    growing = [text for text in shown.partials if text]
    assert growing and all(set(text.split()) <= words for text in growing)
    assert shown.partials[-1] == ""  # cleared once the last line is final


# -- recognition passes -------------------------------------------------------------------------


def test_a_short_utterance_is_recognised_once(make_engines):
    """Utterances shorter than a pass: the speculative pass at the pause gives the line."""
    tape = Tape.speak(["Hello.", "Thanks."], pause=1.0)
    engines = make_engines(tape)
    live = simulated(engines)
    lines = live.run(SamplesSource(tape.audio, "short"))
    assert [line.source for line in lines] == [text for text, _, _ in tape.sentences]
    assert engines.recognizer.calls == len(lines)
    assert live.report()["final_passes"] == {"reused": 2, "decoded": 0}


@pytest.fixture(scope="module")
def two_sentences() -> Tape:
    """Two sentences 0.4 s apart: one utterance under a 1.2 s endpointing pause."""
    return Tape.speak(TWO_SENTENCES, pause=0.4)


@pytest.fixture(scope="module")
def agreed(make_engines, two_sentences) -> list[Line]:
    config = LiveConfig(pause_ms=1200, max_utterance_s=20)
    return simulated(make_engines(two_sentences), config).run(
        SamplesSource(two_sentences.audio, "two sentences")
    )


def test_local_agreement_commits_a_sentence_before_the_speaker_stops(agreed, two_sentences):
    (first_text, _, _), (_, second_start, second_end) = two_sentences.sentences
    first = agreed[0]
    assert first.committed_early and first.source == first_text
    assert first.stamps[Stamp.asr] < second_end  # committed while the second was spoken
    assert first.placed_start < second_end
    assert first.end <= second_start + 0.1


def test_one_utterance_of_two_sentences_is_spoken_in_pieces_without_repeats(agreed, two_sentences):
    assert len(agreed) >= 2
    assert heard_words(agreed) == two_sentences.text
    assert all(line.placed_start is not None for line in agreed)
    assert [line.start for line in agreed] == sorted(line.start for line in agreed)
    for first, second in pairwise(agreed):
        assert first.end <= second.start + 1e-6


def test_speech_cut_at_the_maximum_length_is_spoken_without_repeats(make_engines):
    counting = (
        "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty"
    )
    tape = Tape.speak([counting])
    lines = simulated(make_engines(tape), LiveConfig(max_utterance_s=4.0)).run(
        SamplesSource(tape.audio, "counting")
    )
    assert len(lines) >= 2
    assert all(line.end - line.start <= 4.0 + 1e-6 for line in lines)
    assert heard_words(lines) == tape.text


# -- voices, overload and catching up -----------------------------------------------------------


def test_each_line_is_spoken_with_the_voice_matching_the_speakers_pitch(make_engines, calibration):
    pitches = [120.0, 220.0, 120.0]
    tape = Tape.speak(NEWS[:3], hz=pitches)
    voices = fake_voices(calibration / "pair", match_pitch=True)
    lines = simulated(make_engines(tape, voices=voices)).run(SamplesSource(tape.audio, "3"))
    assert [line.voice for line in lines] == [MALE, FEMALE, MALE]
    assert [line.pitch_hz for line in lines] == pytest.approx(pitches, rel=0.05)


def test_overload_degrades_with_a_warning_and_bounded_queues(make_engines, news):
    engines = make_engines(news, costs={"asr": 1.5})  # a pass takes 1.5 s of a 1 s allowance
    live = simulated(engines, LiveConfig(queue_size=1, max_lag_s=1.0))
    lines = live.run(SamplesSource(news.audio, "news", loops=3))
    assert heard_words(lines) == 3 * news.text  # every word shown once, if not spoken
    assert live.warnings and all("falling behind" in w for w in live.warnings)
    assert all(size <= 1 for name, size in live.peak_queue.items() if name is not Queue.capture)
    assert live.peak_queue.get(Queue.capture, 0) <= 64
    assert any(line.dropped for line in lines)
    assert all((line.placed_start is None) == bool(line.dropped) for line in lines)
    assert all(line.translation for line in lines)


def test_utterances_waiting_for_a_busy_recogniser_are_merged_not_lost(make_engines):
    tape = Tape.speak(NEWS, pause=0.5)
    engines = make_engines(tape, costs={"asr": 3.0})
    live = simulated(engines, LiveConfig(queue_size=1, max_lag_s=120))
    lines = live.run(SamplesSource(tape.audio, "dense"))
    assert any("merged 2 utterances" in w for w in live.warnings)
    assert len(lines) < len(tape.sentences)
    assert heard_words(lines) == tape.text  # every word once, in order
    assert all(line.placed_start is not None for line in lines)


def test_overloaded_speech_is_caught_up_with_speed_rather_than_dropped(make_engines, calibration):
    """Dense speech and a voice whose Spanish takes nearly twice as long as the English: the
    session speeds it up, keeps the lag bounded, and drops fewer lines than the same session
    not allowed to speed up."""
    tape = Tape.speak(NEWS, pause=0.5)
    slow = fake_voices(calibration / "slow", pace=1.8)
    runs = {}
    for name, config in {
        "catch-up": LiveConfig(),
        "natural speed": LiveConfig(max_rate=1.0, max_stretch=1.0),
    }.items():
        live = simulated(make_engines(tape, voices=slow), config)
        runs[name] = (live.run(SamplesSource(tape.audio, "dense")), live.report())
    dropped = {name: sum(line.dropped is not None for line in run[0]) for name, run in runs.items()}
    lines, report = runs["catch-up"]
    assert len(lines) == len(tape.sentences) and dropped["natural speed"] > 0, dropped
    assert dropped["catch-up"] < dropped["natural speed"], dropped
    assert any(line.rate > 1.0 and line.stretch > 1.0 for line in lines), "nothing was sped up"
    assert all(line.rate <= LiveConfig().max_rate and line.stretch <= 1.25 for line in lines)
    longest = max(line.placed_end - line.placed_start for line in lines if not line.dropped)
    assert report["lag_max_s"] <= LiveConfig().max_lag_s + longest
    assert runs["natural speed"][1]["lag_max_s"] > report["lag_max_s"]


def test_a_line_whose_spanish_would_end_past_the_lag_bound_is_sped_up_even_when_on_time(
    make_engines, calibration
):
    """Sentences with long pauses between them (nothing queues) and a voice whose Spanish takes
    1.8 times the English: each line is sped up to end within `lag_bound_s` of its English (as
    far as the caps allow), where without the bound the first lines play at natural speed."""
    tape = Tape.speak(NEWS[:4], pause=4.0)
    slow = fake_voices(calibration / "slow", pace=1.8)
    runs = {}
    for name, bound in {"bound": LiveConfig().lag_bound_s, "no bound": 1000.0}.items():
        live = simulated(make_engines(tape, voices=slow), LiveConfig(lag_bound_s=bound))
        runs[name] = (live.run(SamplesSource(tape.audio, "paused")), live.report())
    bounded, unbounded = runs["bound"][0], runs["no bound"][0]
    assert unbounded[1].rate == 1.0 and bounded[1].rate > 1.0  # the long second sentence
    assert runs["bound"][1]["lag_max_s"] < runs["no bound"][1]["lag_max_s"]
    cap = LiveConfig().max_rate * LiveConfig().max_stretch
    for line in bounded:  # within the bound (the voice's length is predicted), or at the caps
        within = line.placed_end <= line.end + LiveConfig().lag_bound_s + 0.5
        assert within or line.rate * line.stretch == pytest.approx(cap, abs=0.01), line.index


def test_a_long_sentence_is_spoken_clause_by_clause_while_it_goes_on(make_engines):
    """One long sentence of clauses: its agreed clauses are spoken before the speaker stops,
    every word once and in order; with clause commits off it waits for its end."""
    tape = Tape.speak(
        ["When the council met on Monday evening, after a long and heated debate, it approved "
         "twelve new schools for the city and its growing suburbs."]
    )  # fmt: skip
    runs = {}
    for words in (6, 0):
        config = LiveConfig(pause_ms=2000, max_utterance_s=30, clause_words=words)
        runs[words] = simulated(make_engines(tape), config).run(SamplesSource(tape.audio, "long"))
    clauses, whole = runs[6], runs[0]
    assert len(clauses) >= 2 and clauses[0].committed_early, [line.source for line in clauses]
    assert clauses[0].source.endswith(",")
    assert heard_words(clauses) == heard_words(whole) == tape.text
    assert len(whole) == 1
    assert clauses[0].placed_start < whole[0].placed_start


class TimedTrack(PlacedTrack):
    """The output track, with the input-clock time each piece was placed."""

    def __init__(self, sample_rate: int, simulation: SimulatedTime) -> None:
        super().__init__(sample_rate)
        self.simulation = simulation
        self.placed_at: list[float] = []

    def place(self, start_s: float, samples: np.ndarray) -> None:
        self.placed_at.append(self.simulation.seconds)
        super().place(start_s, samples)


def test_a_long_line_starts_playing_before_its_last_piece_is_synthesised(make_engines, simulation):
    """A slow voice (0.5 s a piece) speaking a sentence of several clauses: its first clause
    plays while the rest is synthesised."""
    tape = Tape.speak(
        ["When the council met on Monday, after a long debate, it approved, by a wide margin, "
         "twelve new schools for the city."]
    )  # fmt: skip
    engines = make_engines(tape)
    pieces_at: list[float] = []
    [choice] = engines.voices.choices()

    def slow_piece() -> None:
        simulation.spend(0.5)
        pieces_at.append(simulation.seconds)

    choice.synthesizer.delay = slow_piece
    track = TimedTrack(engines.voices.sample_rate, simulation)
    config = LiveConfig(pause_ms=2000, max_utterance_s=20, clause_words=0)  # one line
    [line] = simulated(engines, config, track=track).run(SamplesSource(tape.audio, "long"))
    assert len(pieces_at) >= 2, line.translation
    assert track.placed_at[0] < pieces_at[-1] - 0.4
    assert line.stamps[Stamp.tts] <= line.placed_start


# -- the room, stopping and failing --------------------------------------------------------------


class Room:
    """Speakers and a microphone in one room: what the speakers play (placed at input-clock
    times) comes back into the microphone, mixed with the speaker's English."""

    def __init__(self, speech: np.ndarray) -> None:
        self.speech = speech
        self.heard = np.zeros(len(speech) + 30 * AUDIO_RATE, np.float32)

    def write(self, samples: np.ndarray) -> None:  # the speakers: placed below, when known
        pass

    def place(self, start_s: float, samples: np.ndarray) -> None:
        echo = samples * 0.6  # the beep voice speaks at 16 kHz, as the microphone hears
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


def run_in_a_room(engines: Engines, tape: Tape, duplex: bool) -> tuple[LiveSession, list[Line]]:
    room = Room(tape.audio)
    session = simulated(engines, LiveConfig(duplex=duplex), speakers=room, track=room)
    return session, session.run(room.source())


def test_the_spanish_played_in_the_room_is_not_translated_again(make_engines):
    """Half-duplex: while the speakers play (and a moment after) the microphone is muted."""
    tape = Tape.speak(NEWS[:2], pause=8.0, tail=6.0)
    session, lines = run_in_a_room(make_engines(tape), tape, duplex=False)
    assert [line.source for line in lines] == [text for text, _, _ in tape.sentences]
    assert all(within(line, span) for line, span in zip(lines, tape.sentences, strict=True))
    spoken = sum(line.placed_end - line.placed_start for line in lines)
    assert session.report()["echo_muted_s"] >= spoken


def test_in_duplex_the_session_hears_what_its_speakers_play(make_engines):
    """Duplex (meant for headphones) with speakers in the room: the Spanish comes back in."""
    tape = Tape.speak(NEWS[:1], tail=6.0)
    session, lines = run_in_a_room(make_engines(tape), tape, duplex=True)
    assert lines[0].source == tape.sentences[0][0]
    echoes = lines[1:]
    assert echoes and all(line.start >= lines[0].placed_start for line in echoes)
    assert session.report()["echo_muted_s"] is None


def test_stop_still_speaks_the_lines_already_heard(make_engines, news):
    live: LiveSession | None = None

    class StopAtFirstLine(Captions):
        def source(self, line: Line) -> None:
            live.stop()

    live = simulated(make_engines(news), captions=StopAtFirstLine())
    lines = live.run(SamplesSource(news.audio, "news"))
    assert lines and lines[0].source == news.sentences[0][0]
    assert live.input_seconds < news.sentences[1][2]  # stopped before the second sentence ended
    assert all(line.placed_start is not None and line.translation for line in lines)


def test_an_engine_failure_ends_the_run_with_its_error(make_engines, news):
    engines = make_engines(news)

    def broken(*_, **__):
        raise RuntimeError("translator crashed")

    engines.translator.translate = broken
    live = simulated(engines)
    with pytest.raises(RuntimeError, match="translator crashed"):
        live.run(SamplesSource(news.audio, "news", loops=20))
    assert live.input_seconds < 2 * news.seconds  # the source was stopped, not played out


def test_each_speaker_keeps_a_voice_of_their_own_even_two_men(make_engines, calibration):
    tape = Tape.speak(NEWS[1:5], hz=[120.0, 150.0, 120.0, 150.0])
    styles = ("male", "male-low", "female")
    voices = VoiceBank.build(BeepSynthesizer("male", styles), Voice("fake-tts"), True, calibration)
    by_pitch = simulated(make_engines(tape, voices=voices)).run(SamplesSource(tape.audio, "4"))
    assert {str(line.voice) for line in by_pitch} == {"fake-tts:male"}  # both men sound alike

    engines = make_engines(tape, voices=voices)
    engines.diarizer = ScriptedDiarizer()
    live = simulated(engines)
    lines = live.run(SamplesSource(tape.audio, "4"))
    assert [line.speaker for line in lines] == ["S1", "S2", "S1", "S2"]
    first, second = live.cast.cast["S1"].voice, live.cast.cast["S2"].voice
    assert first != second and {first.gender, second.gender} == {Gender.male}
    assert [line.voice for line in lines] == [first, second, first, second]
    assert engines.diarizer.calls == 0  # lines are placed one by one: no recording diarized
