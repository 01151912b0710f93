"""Speakers in the studio (fast tier, fake engines): the review's speakers panel, renaming a
speaker and giving them another voice through the edit path (history, token, re-dub of their
lines), merging and splitting speakers, a voice's sample, and what is refused."""

from __future__ import annotations

import io
import json
import wave

import pytest

from dubber.chain.cast import CastMember
from dubber.chain.line import Line
from dubber.dub.document import DubDocument
from dubber.engines.voice import Voice
from dubber.errors import UsageError
from dubber.studio.edits import apply_edits, parse_edits
from dubber.studio.library import outputs_for
from dubber.studio.options import DubSettings
from dubber.studio.routes import build_app
from dubber.studio.speakers import apply_speaker_edits, parse_speaker_edits, style_label
from tests.helpers.fake_serving import PageClient, fake_studio, until
from tests.helpers.fakes import FEMALE, MALE
from tests.studio.cast import two_speaker_engines, write_talk

STYLES = (MALE, FEMALE)


@pytest.fixture
def made(tmp_path, calibration):
    folder = tmp_path / "served"
    folder.mkdir()
    write_talk(folder / "talk.wav")
    studio, cache = fake_studio(folder, two_speaker_engines(calibration), tmp_path / "work")
    studio.dubs.dub("talk.wav", DubSettings())
    yield studio, folder
    studio.close()


@pytest.fixture
def page(made) -> PageClient:
    studio, _ = made
    dubbed(studio)
    return PageClient(build_app(studio), studio.token)


def dubbed(studio) -> dict:
    """The job of talk.wav once it has ended well."""
    job = until(lambda: (j := studio.dubs.jobs()["talk.wav"]) and not j.running and j, 30)
    assert job.state.value == "dubbed", job.error
    return job.to_json()


def on_disk(made) -> DubDocument:
    return DubDocument.load(outputs_for(made[1] / "talk.wav").document)


def edit(page: PageClient, speakers: list, path: str = "/api/edits", **body):
    return page.request("POST", path, {"media": "talk.wav", "speakers": speakers, **body})


def test_the_review_lists_the_speakers_with_their_lines_seconds_and_voices(page, made):
    data = page.request("GET", "/api/review/talk.wav").json
    assert [row["speaker"] for row in data["lines"]] == ["S1", "S2", "S1", "S2"]
    document = on_disk(made)
    assert data["speakers"] == [
        {
            "speaker": label,
            "name": label,
            "voice": str(voice),
            "lines": 2,
            "seconds": round(
                sum(ln.end - ln.start for ln in document.lines if ln.speaker == label), 1
            ),
        }
        for label, voice in (("S1", MALE), ("S2", FEMALE))
    ]
    voices = page.request("GET", "/api/voices/talk.wav").json["voices"]
    assert voices == [
        {"id": "fake-tts:male", "label": "male"},
        {"id": "fake-tts:female", "label": "female"},
    ]


def test_a_renamed_speaker_with_another_voice_is_saved_and_re_dubbed_in_every_line(page, made):
    studio, _ = made
    answer = edit(page, [{"speaker": "S1", "name": "  Tom   Jones ", "voice": "fake-tts:female"}])
    assert answer.status == 200 and answer.json == {"changed": [0, 2], "state": "outdated"}
    document = on_disk(made)
    assert (document.speakers["S1"].name, document.speakers["S1"].voice) == ("Tom Jones", FEMALE)
    assert [line.voice for line in document.lines] == [FEMALE] * 4
    assert [(e["speaker"], set(e) - {"at", "speaker"}) for e in document.history] == [
        ("S1", {"name"}),
        ("S1", {"voice"}),
    ]
    assert document.history[1]["voice"] == {"before": "fake-tts:male", "after": "fake-tts:female"}
    assert edit(page, [], path="/api/redub").status == 202
    job = dubbed(studio)
    assert (job["synthesized"], job["reused"]) == (2, 2)  # only Tom's lines spoken again
    again = on_disk(made)
    assert again.speakers["S1"].name == "Tom Jones" and not again.edited
    assert all(line.voice == FEMALE for line in again.lines if line.speaker == "S1")
    rows = page.request("GET", "/api/review/talk.wav").json["speakers"]
    assert [(row["name"], row["voice"]) for row in rows] == [
        ("Tom Jones", "fake-tts:female"),
        ("S2", "fake-tts:female"),
    ]


def test_speaker_edits_need_the_token_and_wrong_ones_change_nothing(page, made):
    path = outputs_for(made[1] / "talk.wav").document
    before = path.read_bytes()
    body = {"media": "talk.wav", "speakers": [{"speaker": "S1", "name": "Tom"}]}
    assert page.request("POST", "/api/edits", body, token=False).status == 403
    for speakers, message in [
        ([{"speaker": "S9", "name": "Ana"}], "no speaker 'S9' in this dub (it has S1, S2)"),
        ([{"speaker": "S1", "voice": "fake-tts:child"}], "does not speak 'fake-tts:child'"),
        ([{"speaker": "S1", "voice": "espeak:"}], "is not a voice id"),
        ([{"speaker": "S1", "name": "   "}], "a name must have 1 to 60"),
        ([{"speaker": "S1", "name": "x" * 61}], "a name must have 1 to 60"),
        ([{"speaker": "S2", "name": "S1"}], "another speaker is already called S1"),
        ([{"speaker": "S1", "into": "S1"}], "cannot be merged into themselves"),
        ([{"speaker": "S1", "into": "S2", "name": "Ana"}], "a merge takes 'speaker' and 'into'"),
        ([{"split": 9}], "line 9 is not in the document"),
        ([{"split": 0, "speaker": "S1"}], "a split takes 'split' and 'run'"),
        ([{"speaker": "S1", "colour": "red"}], "an object with"),
        ("S1", "must be a list"),
    ]:
        answer = edit(page, speakers)
        assert answer.status == 400, speakers
        assert message in answer.json["error"] and "\n" not in answer.json["error"], answer.json
    line_voice = edit(page, [], edits=[{"line": 1, "voice": "fake-tts:male"}])
    assert line_voice.status == 400 and "line 1 is S2's" in line_voice.json["error"]
    assert path.read_bytes() == before


def test_a_voice_sample_is_a_short_wav_of_that_voice(page):
    answer = page.request("GET", "/api/voice-sample/fake-tts:female/talk.wav")
    assert answer.status == 200 and answer.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(answer.body)) as wav:
        assert wav.getnchannels() == 1 and 1.0 < wav.getnframes() / wav.getframerate() < 10.0
    refused = page.request("GET", "/api/voice-sample/other:male/talk.wav")
    assert refused.status == 400 and "does not speak 'other:male'" in refused.json["error"]
    assert (
        page.request("GET", "/api/voice-sample/fake-tts:male/talk.wav", token=False).status == 403
    )


def cast_document() -> DubDocument:
    """Ana, Ana, Bob, Bob, Bob, Ana: two speakers in turns, with their pitches."""
    who = ["S1", "S1", "S2", "S2", "S2", "S1"]
    lines = [
        Line(i, i * 2.0, i * 2.0 + 1.5, f"Line {i}.", translation=f"Línea {i}.", speaker=s,
             voice=FEMALE if s == "S1" else MALE, pitch_hz=210.0 if s == "S1" else 110.0)
        for i, s in enumerate(who)
    ]  # fmt: skip
    speakers = {
        "S1": CastMember("S1", "Ana", FEMALE, 210.0),
        "S2": CastMember("S2", "Bob", MALE, 110.0),
    }
    return DubDocument(
        "talk.wav", 12.0, "en", "es", voice=f"female={FEMALE},male={MALE}", lines=lines,
        speakers=speakers,
    )  # fmt: skip


def test_a_merged_speaker_s_lines_become_the_other_s_and_they_leave_the_cast():
    document = cast_document()
    changed = apply_speaker_edits(
        document, parse_speaker_edits([{"speaker": "S2", "into": "S1"}]), STYLES
    )
    assert changed == [2, 3, 4] and set(document.speakers) == {"S1"}
    assert {line.speaker for line in document.lines} == {"S1"}
    assert {line.voice for line in document.lines} == {FEMALE}
    assert document.history[-1] | {"at": ""} == {
        "at": "",
        "speaker": "S2",
        "merged_into": "S1",
        "lines": [2, 3, 4],
    }
    saved = DubDocument.from_json(json.loads(document.to_json()), "saved")
    assert set(saved.speakers) == {"S1"}


def test_a_split_moves_a_line_or_a_run_of_lines_to_a_new_speaker_with_a_free_voice():
    document = cast_document()
    styles = (MALE, FEMALE, Voice("fake-tts", "female-low"))
    one = apply_speaker_edits(document, parse_speaker_edits([{"split": 0}]), styles)
    assert [line.speaker for line in document.lines] == ["S3", "S1", "S2", "S2", "S2", "S1"]
    assert document.speakers["S3"].voice == Voice("fake-tts", "female-low")  # the free one
    assert one == [0] and document.lines[0].voice == Voice("fake-tts", "female-low")
    run = apply_speaker_edits(document, parse_speaker_edits([{"split": 3, "run": True}]), styles)
    assert [line.speaker for line in document.lines] == ["S3", "S1", "S2", "S4", "S4", "S1"]
    assert run == []  # no voice free for a man: Bob's again, so nothing to speak anew
    assert [e.get("split_from") for e in document.history] == ["S1", "S2"]
    assert document.history[-1]["lines"] == [3, 4]
    with pytest.raises(UsageError, match="those are all of S4's lines"):
        apply_speaker_edits(document, parse_speaker_edits([{"split": 3, "run": True}]), styles)


def test_a_line_of_a_speaker_takes_only_that_speaker_s_voice():
    document = cast_document()
    assert apply_edits(document, parse_edits([{"line": 0, "voice": "fake-tts:female"}])) == []
    with pytest.raises(UsageError, match="line 2 is Bob's, spoken with their voice"):
        apply_edits(document, parse_edits([{"line": 2, "voice": "fake-tts:female"}]))


def test_styles_are_named_as_people_read_them():
    assert style_label(Voice("pico-es_ES", "male-low")) == "male, lower"
    assert style_label(Voice("pico-es_ES", "female")) == "female"
    assert style_label(Voice("kokoro-82m-offline", "jf_alpha")) == "female (jf_alpha)"
    assert style_label(Voice("piper-es_ES-davefx-medium")) == "piper-es_ES-davefx-medium"
