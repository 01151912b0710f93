"""`DubJob` behaviour (fast tier): one file's dub on fake engines (tests/helpers/fakes.py).

The input's "speech" is tone bursts over a faint low tone standing in for music; the scripted
recogniser hears each burst as a sentence, the echo translator marks it `es:`, the beep voice
speaks it. What is checked is what the job does with them: fitting, mixing, outputs, documents.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from dubber.chain.fit import RATE_ATTEMPTS, FitOutcome, FitRules
from dubber.dub import job as job_module
from dubber.dub.document import DubDocument
from dubber.dub.job import DubJob, DubOptions, Stage
from dubber.dub.outputs import OutputPaths
from dubber.dub.work import WorkFolder
from dubber.engines.bundle import Engines
from dubber.errors import DubberError, UsageError
from dubber.media.decode import AUDIO_RATE, decode_audio, write_wav
from dubber.media.probe import probe
from dubber.media.subtitles import parse_srt
from tests.helpers.fakes import (
    FEMALE,
    MALE,
    BeepSynthesizer,
    EchoTranslator,
    beeps,
    dub_file,
    fake_engines,
    fake_voices,
)
from tests.helpers.media import (
    TONE_HZ,
    languages,
    make_video,
    stream_seconds,
    streams,
    tone_level_db,
    video_packet_hashes,
)

SCRIPT = (
    "The council met on Monday.",
    "It approved 12 new schools for the city.",
    "Work starts in March.",
)
# the second line's Spanish is longer than its slot, the third's longer still
SPANS = [(0.5, 2.6), (4.0, 6.0), (7.0, 8.0)]
SECONDS = 9.5
BACKGROUND = 0.02  # the music bed's amplitude: under the fakes' speech level
VOICE_HZ = BeepSynthesizer.hz


def speech(
    spans: Sequence[tuple[float, float]] = SPANS,
    seconds: float = SECONDS,
    pitches: Sequence[float] | None = None,
) -> np.ndarray:
    """Tone-burst 'speech' (at 150 Hz, or each burst at its pitch) over the low background."""
    t = np.arange(round(seconds * AUDIO_RATE)) / AUDIO_RATE
    audio = BACKGROUND * np.sin(2 * np.pi * TONE_HZ * t)
    for span, hz in zip(spans, pitches or [150.0] * len(spans), strict=True):
        audio += beeps([span], seconds, hz)
    return audio.astype(np.float32)


def wav(folder: Path, name: str, audio: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_wav(folder / name, audio, AUDIO_RATE)
    return folder / name


def level_db(audio: np.ndarray, hz: float, start: float, end: float) -> float:
    """Level (dB) of the component at `hz` between two times (16 kHz audio)."""
    piece = audio[int(start * AUDIO_RATE) : int(end * AUDIO_RATE)].astype(np.float64)
    t = np.arange(len(piece)) / AUDIO_RATE
    return 20 * np.log10(max(2 * abs(np.mean(piece * np.exp(-2j * np.pi * hz * t))), 1e-9))


def leftovers(folder: Path) -> list[Path]:
    """Temporary files a dub left beside its outputs."""
    return [p for p in folder.iterdir() if ".part" in p.name]


@pytest.fixture(scope="module")
def engines(calibration) -> Engines:
    """Engines for the shared dub of the video (their calls are its calls)."""
    return fake_engines(calibration, SCRIPT)


@pytest.fixture
def fresh(calibration) -> Engines:
    """Engines that have done nothing yet."""
    return fake_engines(calibration, SCRIPT)


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("work")


@pytest.fixture(scope="module")
def news(tmp_path_factory) -> Path:
    return make_video(speech(), tmp_path_factory.mktemp("news") / "news.mp4")


@pytest.fixture(scope="module")
def dubbed(engines, news, work):
    return dub_file(engines, news, news.parent / "out" / "news.es.mp4", work)


# -- the dub of a video --------------------------------------------------------------------------


def test_video_is_copied_bit_for_bit(news, dubbed):
    assert video_packet_hashes(dubbed.outputs.media) == video_packet_hashes(news)


def test_audio_lasts_as_long_as_the_video(dubbed):
    output = dubbed.outputs.media
    assert abs(stream_seconds(output, "audio") - stream_seconds(output, "video")) <= 0.05


def test_outputs_are_tagged_and_carry_subtitles(dubbed):
    assert languages(dubbed.outputs.media, "audio") == ["spa"]
    assert sorted(languages(dubbed.outputs.media, "subtitle")) == ["eng", "spa"]
    for path in dubbed.outputs.all():
        assert path.is_file() and path.stat().st_size > 0
    assert leftovers(dubbed.outputs.media.parent) == []


def test_every_line_is_placed_inside_its_slot_without_overlap(dubbed):
    lines, rules = dubbed.document.lines, FitRules()
    assert [line.source for line in lines] == list(SCRIPT)
    for line, (start, end) in zip(lines, SPANS, strict=True):
        assert start - 0.05 <= line.start < line.end <= end + 0.05
        assert line.start - 1e-3 <= line.placed_start <= line.end
        assert line.rate <= rules.max_rate + 1e-6 and line.stretch <= rules.max_stretch + 1e-6
    for first, second in pairwise(lines):
        assert first.placed_end + rules.gap <= second.placed_start + 1e-3
    assert lines[-1].placed_end <= dubbed.document.duration
    assert lines[0].fit is FitOutcome.natural  # it fits: spoken at the voice's own speed
    assert lines[1].fit is not FitOutcome.natural and lines[1].speedup > 1.0


def test_background_stays_between_lines_and_is_ducked_under_speech(dubbed):
    audio = decode_audio(dubbed.outputs.media, AUDIO_RATE)
    first, second = dubbed.document.lines[:2]
    gap_start, gap_end = first.placed_end + 0.3, second.placed_start - 0.3
    assert gap_end - gap_start >= 0.4, "the test media needs a pause between the first two lines"
    open_level = tone_level_db(audio, AUDIO_RATE, gap_start, gap_end)
    ducked = tone_level_db(audio, AUDIO_RATE, first.placed_start + 0.2, first.placed_end - 0.1)
    assert open_level > -45, "the background must still be audible between lines"
    assert open_level - ducked >= 8, "the background must be ducked under the dub"


def test_the_dub_is_heard_where_each_line_is_placed(dubbed):
    audio = decode_audio(dubbed.outputs.media, AUDIO_RATE)
    lines = dubbed.document.lines
    quiet = level_db(audio, VOICE_HZ, lines[0].placed_end + 0.2, lines[1].placed_start - 0.2)
    for line in lines:
        spoken = level_db(audio, VOICE_HZ, line.placed_start + 0.05, line.placed_end - 0.05)
        assert spoken - quiet >= 20, line


def test_subtitles_are_monotone_and_inside_the_media(dubbed):
    document = dubbed.document
    for name in ("en.srt", "es.srt", "en.vtt", "es.vtt"):
        cues = parse_srt(dubbed.outputs.subtitles[name].read_text(encoding="utf-8"))
        assert len(cues) == len(document.lines)
        assert all(0 <= c.start < c.end <= document.duration + 1e-3 for c in cues)
        assert all(a.end <= b.start + 1e-3 for a, b in pairwise(cues))
        if name.startswith("en"):
            assert [c.text for c in cues] == [line.source for line in document.lines]
        else:
            assert [c.text for c in cues] == [line.translation for line in document.lines]
            assert [c.start for c in cues] == pytest.approx(
                [line.placed_start for line in document.lines], abs=1e-3
            )


def test_document_records_every_decision(dubbed, engines):
    saved = json.loads(dubbed.outputs.document.read_text(encoding="utf-8"))
    assert saved["version"] == 2 and saved["media"] == str(probe(Path(saved["media"])).path)
    assert saved["asr_model"] == engines.asr_model
    assert saved["translator"] == engines.translator.name
    assert saved["voice"] == engines.voices.describe()
    for u in saved["lines"]:
        assert u["source"] and u["words"] and u["hypotheses"] and u["translation"]
        assert u["translation"] in [h["text"] for h in u["hypotheses"]]
        assert u["fit"] in {outcome.value for outcome in FitOutcome}
        assert u["placed_start"] is not None and u["voice"] and u["pitch_hz"]
    reread = DubDocument.load(dubbed.outputs.document)
    assert reread.lines == dubbed.document.lines


def test_report_accounts_for_every_stage_and_line(dubbed):
    lines = dubbed.document.lines
    assert set(dubbed.seconds) == set(Stage)
    assert sum(dubbed.count(fit) for fit in FitOutcome) == len(lines)
    assert dubbed.synthesized >= len(lines)
    rules = FitRules()
    assert 1.0 < dubbed.max_speedup <= rules.max_rate * rules.max_stretch + 1e-6
    assert dubbed.real_time_factor > 0


def test_post_edit_respeaks_only_the_changed_line(dubbed, news, work, fresh, tmp_path):
    document = DubDocument.load(dubbed.outputs.document)  # as a person edits it
    edited = tmp_path / "edited.dub.json"
    document.lines[1].translation = "Esta frase la corrigió una persona."
    document.save(edited)
    report = dub_file(fresh, news, tmp_path / "news.es.mp4", work, document=edited)
    assert fresh.recognizer.calls == 0 and fresh.translator.calls == []
    again = report.document.lines
    assert again[1].translation == "Esta frase la corrigió una persona."
    assert 1 <= report.synthesized <= 1 + RATE_ATTEMPTS  # the new line, and faster takes
    assert report.reused >= len(document.lines) - 1
    for before, after in zip(dubbed.document.lines, again, strict=True):
        if before.index != 1:
            assert (after.translation, after.voice) == (before.translation, before.voice)
    assert report.outputs.media.is_file()


def test_a_re_dub_in_place_encodes_again_only_the_stretch_that_changed(news, fresh, tmp_path):
    out, work = tmp_path / "news.es.mp4", tmp_path / "work"
    first = dub_file(fresh, news, out, work)
    assert first.remixed == first.document.duration
    before = decode_audio(out, 48000)
    document = DubDocument.load(first.outputs.document)
    document.lines[2].translation = "Las obras empiezan en marzo, dijo."
    document.save(first.outputs.document)
    again = dub_file(fresh, news, out, work, document=first.outputs.document)
    assert 0 < again.remixed < first.document.duration / 2
    after = decode_audio(out, 48000)
    assert len(after) == len(before)
    line = again.document.lines[2]
    moved = [  # the edited line, and any whose fitting changed by a hair
        b.placed_start
        for b, a in zip(first.document.lines, again.document.lines, strict=True)
        if (b.translation, b.placed_start, b.placed_end)
        != (a.translation, a.placed_start, a.placed_end)
    ]
    unchanged = slice(0, int((min(moved) - 1.0) * 48000))
    assert len(moved) < len(first.document.lines) and unchanged.stop > 48000
    assert np.max(np.abs(after[unchanged] - before[unchanged])) < 1e-3
    spoken = slice(int(line.placed_start * 48000), int(line.placed_end * 48000))
    assert np.max(np.abs(after[spoken] - before[spoken])) > 0.01
    assert video_packet_hashes(out) == video_packet_hashes(news)
    assert parse_srt(first.outputs.subtitles["es.srt"].read_text())[-1].text.startswith("Las obras")
    out.touch()  # changed by another program since: mixed whole again
    assert dub_file(fresh, news, out, work, document=first.outputs.document).remixed == (
        first.document.duration
    )


def test_dub_from_spanish_subtitles_keeping_the_original_track(news, work, fresh, tmp_path):
    srt = tmp_path / "subs.es.srt"
    srt.write_text(
        "1\n00:00:01,500 --> 00:00:03,500\nBuenas noches.\n\n"
        "2\n00:00:05,000 --> 00:00:09,000\nEl equipo ganó el partido.\n",
        encoding="utf-8",
    )
    output = tmp_path / "subs.es.mp4"
    report = dub_file(fresh, news, output, work, from_srt=srt, keep_original_audio=True)
    assert fresh.recognizer.calls == 0 and fresh.translator.calls == []
    assert [u.translation for u in report.document.lines] == [
        "Buenas noches.",
        "El equipo ganó el partido.",
    ]
    assert report.document.translator == "subtitles:subs.es.srt"
    assert report.document.lines[1].placed_start == pytest.approx(5.0, abs=1e-3)
    assert languages(output, "audio") == ["spa", "eng"]
    audio = [s for s in streams(output) if s["codec_type"] == "audio"]
    assert audio[0]["disposition"]["default"] == 1 and audio[1]["disposition"]["default"] == 0
    spanish = parse_srt(report.outputs.subtitles["es.srt"].read_text(encoding="utf-8"))
    assert [c.text for c in spanish] == ["Buenas noches.", "El equipo ganó el partido."]


def test_subtitles_timed_past_the_end_of_the_media_are_refused(news, work, fresh, tmp_path):
    srt = tmp_path / "other.es.srt"
    srt.write_text("1\n00:01:00,000 --> 00:01:02,000\nBuenas noches.\n", encoding="utf-8")
    with pytest.raises(UsageError, match="after the end"):
        dub_file(fresh, news, tmp_path / "other.es.mp4", work, from_srt=srt)
    assert not (tmp_path / "other.es.mp4").exists()


# -- audio files ---------------------------------------------------------------------------------


@pytest.fixture
def clip(tmp_path) -> Path:
    return wav(tmp_path / "in", "talk.wav", speech())


def test_audio_only_input_gives_audio_output(clip, fresh, tmp_path):
    output = tmp_path / "out" / "talk.es.wav"
    dub_file(fresh, clip, output, tmp_path / "work")
    assert [s["codec_type"] for s in streams(output)] == ["audio"]
    assert stream_seconds(output, "audio") == pytest.approx(SECONDS, abs=0.05)
    assert np.abs(decode_audio(output)).max() > 0.05


def test_lines_too_long_for_any_speed_get_a_shorter_translation(fresh, tmp_path):
    """A long sentence said in 0.8 s: no speed-up within the rules makes its Spanish fit."""
    media = wav(tmp_path / "in", "fast.wav", speech([(0.5, 2.6), (4.0, 4.8)], 6.0))
    report = dub_file(fresh, media, tmp_path / "out" / "fast.es.wav", tmp_path / "work")
    shortened = [call for call in fresh.translator.calls if call.max_syllables is not None]
    assert [call.texts for call in shortened] == [[SCRIPT[1]]]
    first, second = report.document.lines
    assert not first.translation.startswith(second.translation)
    best = EchoTranslator().translate([second.source])[0].text
    assert len(second.translation) < len(best) and best.startswith(second.translation)
    assert second.fit is not FitOutcome.overflow


def test_resume_reuses_the_saved_document_and_speech(clip, calibration, tmp_path):
    output = tmp_path / "out" / "talk.es.wav"
    first = dub_file(fake_engines(calibration, SCRIPT), clip, output, tmp_path / "work")
    output.unlink()
    engines = fake_engines(calibration, SCRIPT)
    again = dub_file(engines, clip, output, tmp_path / "work", resume=True)
    assert engines.recognizer.calls == 0 and engines.translator.calls == []
    assert again.synthesized == 0 and again.reused >= len(first.document.lines)
    assert [(ln.source, ln.translation, ln.placed_start) for ln in again.document.lines] == [
        (ln.source, ln.translation, ln.placed_start) for ln in first.document.lines
    ]
    assert output.is_file()


def test_resume_with_a_damaged_document_recognises_again(clip, calibration, tmp_path):
    output = tmp_path / "out" / "talk.es.wav"
    first = dub_file(fake_engines(calibration, SCRIPT), clip, output, tmp_path / "work")
    saved = WorkFolder(tmp_path / "work", clip).path / "dub.json"
    saved.write_text('{"version": 2, "lines": [', encoding="utf-8")
    engines = fake_engines(calibration, SCRIPT)
    again = dub_file(engines, clip, output, tmp_path / "work", resume=True)
    assert engines.recognizer.calls == 1
    assert again.synthesized == 0  # the speech already made is still reused
    assert [ln.translation for ln in again.document.lines] == [
        ln.translation for ln in first.document.lines
    ]
    assert [ln.source for ln in DubDocument.load(saved).lines] == list(SCRIPT)  # saved anew


def test_voice_follows_the_speakers_pitch(calibration, tmp_path):
    """A man, a woman, a man: the male and the female beep voice in turn."""
    pitches = [120.0, 220.0, 120.0]
    media = wav(tmp_path / "in", "voices.wav", speech(pitches=pitches))
    engines = fake_engines(
        calibration, SCRIPT, voices=fake_voices(calibration / "pair", match_pitch=True)
    )
    report = dub_file(engines, media, tmp_path / "out" / "voices.es.wav", tmp_path / "work")
    lines = report.document.lines
    assert [line.voice for line in lines] == [MALE, FEMALE, MALE]
    assert [line.pitch_hz for line in lines] == pytest.approx(pitches, rel=0.05)
    assert report.document.voice == engines.voices.describe() and "female" in report.document.voice


# -- refusals and failures -----------------------------------------------------------------------


def test_audio_without_speech_is_refused(fresh, tmp_path):
    media = wav(tmp_path / "in", "silence.wav", speech([], 3.0))
    output = tmp_path / "out" / "silence.es.wav"
    with pytest.raises(UsageError, match="no speech found"):
        dub_file(fresh, media, output, tmp_path / "work")
    assert not output.parent.exists() or not any(output.parent.iterdir())


def test_media_without_audio_is_refused(fresh, tmp_path):
    media = make_video(None, tmp_path / "silent.mp4", seconds=1.0)
    outputs = OutputPaths.beside(tmp_path / "silent.es.mp4", "en", "es")
    with pytest.raises(UsageError, match="no audio stream"):
        DubJob(fresh, DubOptions(), probe(media), outputs, tmp_path / "work", lambda *_: None)


def test_a_failed_mux_leaves_no_output_and_keeps_the_finished_stages(
    clip, fresh, tmp_path, monkeypatch
):
    def broken_mux(media, voice, gain, output, *_, **__):
        output.write_bytes(b"half a file")
        raise DubberError("ffmpeg could not mix the dub")

    monkeypatch.setattr(job_module, "mux_dub", broken_mux)
    output = tmp_path / "out" / "talk.es.wav"
    with pytest.raises(DubberError, match="could not mix"):
        dub_file(fresh, clip, output, tmp_path / "work")
    assert list(output.parent.iterdir()) == []  # no output, no subtitles, no temporary file
    saved = WorkFolder(tmp_path / "work", clip).load_document()
    assert saved is not None and len(saved.lines) == len(SPANS)  # --resume can continue


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError], ids=["ctrl-c", "error"])
def test_a_failure_during_recognition_leaves_nothing_and_stops_its_thread(
    clip, fresh, tmp_path, error
):
    recognizer = fresh.recognizer
    heard = recognizer.transcribe

    def failing(audio, **options):
        segments, info = heard(audio, **options)

        def first_then_fail():
            yield next(segments)
            raise error("recognition stopped")

        return first_then_fail(), info

    recognizer.transcribe = failing
    output = tmp_path / "out" / "talk.es.wav"
    with pytest.raises(error, match="recognition stopped"):
        dub_file(fresh, clip, output, tmp_path / "work")
    assert not any(t.name == "dubber-asr" for t in threading.enumerate())
    assert not output.parent.exists() or list(output.parent.iterdir()) == []
