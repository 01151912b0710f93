"""One voice per speaker (fast tier): a dub on fake engines with a scripted diarizer. Two
"speakers" speak tone bursts at a man's and a woman's pitch; each line must carry its speaker,
every line of one speaker the same voice, the cast must be in the document and kept through a
post-edit, and the subtitles can name who speaks."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest

from dubber.chain.cast import CastMember, apply_voice_map, assign_voices
from dubber.dub.document import DubDocument
from dubber.dub.job import DubOptions
from dubber.engines.voice import Voice
from dubber.errors import UsageError
from dubber.media.decode import write_wav
from dubber.media.subtitles import parse_srt
from dubber.speakers.diarize import Turn
from tests.helpers.fakes import (
    FEMALE,
    MALE,
    ScriptedDiarizer,
    beeps,
    dub_file,
    fake_engines,
    fake_voices,
)

SCRIPT = ["Good evening.", "Thank you, Tom.", "The council met today.", "It did."]
BURSTS = [(0.5, 2.0), (2.8, 4.0), (4.8, 7.0), (7.8, 8.6)]
SPEAKER_OF_BURST = [0, 1, 0, 1]  # a man (120 Hz), then a woman (220 Hz), in turns
SECONDS = 9.5


@pytest.fixture
def talk(tmp_path: Path) -> Path:
    spans = {
        who: [b for b, s in zip(BURSTS, SPEAKER_OF_BURST, strict=True) if s == who]
        for who in (0, 1)
    }
    audio = beeps(spans[0], SECONDS, hz=120.0) + beeps(spans[1], SECONDS, hz=220.0)
    path = tmp_path / "talk.wav"
    write_wav(path, audio, 16000)
    return path


def _engines(tmp_path: Path) -> tuple:
    engines = fake_engines(tmp_path / "calibration", SCRIPT)
    engines.voices = fake_voices(tmp_path / "calibration", match_pitch=True)
    turns = [Turn(a - 0.2, b + 0.2, s) for (a, b), s in zip(BURSTS, SPEAKER_OF_BURST, strict=True)]
    engines.diarizer = ScriptedDiarizer(turns)
    return engines, engines.diarizer


def test_each_speaker_keeps_one_voice_of_their_own(tmp_path, talk):
    engines, diarizer = _engines(tmp_path)
    report = dub_file(engines, talk, tmp_path / "talk.es.wav", tmp_path / "work")
    document = report.document
    assert diarizer.calls == 1
    assert [line.speaker for line in document.lines] == ["S1", "S2", "S1", "S2"]
    assert set(document.speakers) == {"S1", "S2"}
    assert document.speakers["S1"].voice == MALE and document.speakers["S2"].voice == FEMALE
    for line in document.lines:
        assert line.voice == document.speakers[line.speaker].voice
    assert report.summary()["speakers"] == 2
    saved = DubDocument.load(report.outputs.document)
    assert {label: m.voice for label, m in saved.speakers.items()} == {"S1": MALE, "S2": FEMALE}


def test_a_renamed_speaker_given_another_voice_is_re_voiced_in_every_line(tmp_path, talk):
    engines, _ = _engines(tmp_path)
    first = dub_file(engines, talk, tmp_path / "talk.es.wav", tmp_path / "work")
    edited = DubDocument.load(first.outputs.document)
    edited.speakers["S1"].name = "Tom"
    edited.save(tmp_path / "edited.dub.json")
    again = dub_file(
        engines,
        talk,
        tmp_path / "again.es.wav",
        tmp_path / "work",
        document=tmp_path / "edited.dub.json",
        voice_map={"Tom": FEMALE},
    )
    toms = [line for line in again.document.lines if line.speaker == "S1"]
    assert toms and all(line.voice == FEMALE for line in toms)
    assert again.document.speakers["S1"].name == "Tom"


def test_subtitles_name_the_speaker_where_the_speaker_changes(tmp_path, talk):
    engines, _ = _engines(tmp_path)
    report = dub_file(
        engines, talk, tmp_path / "talk.es.wav", tmp_path / "work", speaker_labels=True
    )
    cues = parse_srt(report.outputs.subtitles["en.srt"].read_text(encoding="utf-8"))
    assert [cue.text.split(":")[0] for cue in cues] == ["S1", "S2", "S1", "S2"]


def test_one_speaker_asked_for_means_no_diarization(tmp_path, talk):
    engines, diarizer = _engines(tmp_path)
    report = dub_file(engines, talk, tmp_path / "talk.es.wav", tmp_path / "work", speakers=1)
    assert diarizer.calls == 0 and not report.document.speakers
    assert {line.speaker for line in report.document.lines} == {None}


def test_voices_go_by_pitch_and_are_not_shared_while_one_is_free():
    styles = [Voice("pico-es_ES", s) for s in ("female", "male", "male-low", "male-high")]
    cast = {
        "S1": CastMember("S1", "S1", pitch_hz=110.0),
        "S2": CastMember("S2", "S2", pitch_hz=210.0),
        "S3": CastMember("S3", "S3", pitch_hz=95.0),
        "S4": CastMember("S4", "S4", pitch_hz=140.0),
    }
    assign_voices(cast, styles)
    voices = {label: str(m.voice) for label, m in cast.items()}
    assert voices["S2"] == "pico-es_ES:female"
    assert voices["S3"] == "pico-es_ES:male-low"  # the lowest voice to the lowest speaker
    assert len({voices[s] for s in ("S1", "S3", "S4")}) == 3


def test_a_voice_map_must_name_speakers_and_voices_the_dub_has():
    cast = {"S1": CastMember("S1", "Ana")}
    styles = [MALE, FEMALE]
    with pytest.raises(UsageError, match="names speaker 'Bob'"):
        apply_voice_map(cast, {"Bob": MALE}, styles)
    with pytest.raises(UsageError, match="the voice speaks"):
        apply_voice_map(cast, {"Ana": Voice("fake-tts", "child")}, styles)
    apply_voice_map(cast, {"Ana": FEMALE}, styles)
    assert cast["S1"].voice == FEMALE


def test_a_misspelt_speaker_field_is_named(tmp_path):
    document = DubDocument("talk.wav", 9.5, "en", "es")
    data = document.to_json().replace('"speakers": {}', '"speakers": {"S1": {"voise": "x"}}')
    with pytest.raises(UsageError, match="speaker S1: unknown field 'voise'"):
        DubDocument.from_json(json.loads(data), "talk.dub.json")


def _talk(path: Path, pitch_of_speaker: tuple[float, float]) -> Path:
    """The two-speaker talk with speaker 0 at the first pitch and speaker 1 at the second."""
    audio = sum(
        beeps([b for b, s in zip(BURSTS, SPEAKER_OF_BURST, strict=True) if s == who], SECONDS, hz)
        for who, hz in enumerate(pitch_of_speaker)
    )
    write_wav(path, audio, 16000)
    return path


def test_a_batch_keeps_one_speakers_label_and_voice_from_file_to_file(tmp_path):
    from dubber.dub.batch import dub_files, plan_dubs

    folder = tmp_path / "batch"
    folder.mkdir()
    _talk(folder / "a.wav", (120.0, 220.0))  # a man speaks first, then a woman
    _talk(folder / "b.wav", (220.0, 120.0))  # the woman first, then the man
    engines, _ = _engines(tmp_path)
    requests = plan_dubs([folder], tmp_path / "out", DubOptions(), force=False)
    silent = contextlib.nullcontext(lambda *_: None)
    reports = {
        r.outputs.media.name: r
        for r in dub_files(requests, DubOptions(), engines, tmp_path / "work", lambda _: silent)
    }
    first, second = reports["a.es.wav"].document, reports["b.es.wav"].document
    assert [line.speaker for line in first.lines] == ["S1", "S2", "S1", "S2"]
    assert [line.speaker for line in second.lines] == ["S2", "S1", "S2", "S1"]
    for label in ("S1", "S2"):
        assert first.speakers[label].voice == second.speakers[label].voice
    assert {line.voice for line in second.lines if line.speaker == "S1"} == {MALE}
