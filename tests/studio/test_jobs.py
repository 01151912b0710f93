"""The studio's dub queue with fake engines: a dub runs through the same planning and job as
`dubber dub` and writes every output, reports its progress as events, can be cancelled queued
or running, turns any failure into a state with one line, and a re-dub speaks again only the
lines edited."""

from __future__ import annotations

import errno
import threading
from pathlib import Path

import numpy as np
import pytest

from dubber.dub.document import DubDocument
from dubber.dub.job import Stage
from dubber.errors import DubberError, UsageError
from dubber.media.decode import decode_audio, write_wav
from dubber.media.mix import Background
from dubber.studio.edits import LineEdit, engine_choice
from dubber.studio.jobs import STAGE_SPANS, Job
from dubber.studio.library import State, outputs_for
from dubber.studio.options import DubSettings
from tests.helpers.fake_serving import fake_studio, until
from tests.helpers.fakes import beeps, fake_engines

SCRIPT = (
    "The council met on Monday.",
    "It approved twelve new schools for the city.",
    "Work starts in March.",
)
SPANS = [(0.5, 2.0), (2.6, 4.5), (5.0, 6.5)]
STAGES = list(STAGE_SPANS)
MARGIN_S = 0.3  # around a line, where the ducking of the background ramps


@pytest.fixture
def folder(tmp_path) -> Path:
    served = tmp_path / "served"
    served.mkdir()
    for name in ("talk.wav", "other.wav"):
        write_wav(served / name, beeps(SPANS, 7.0), 16000)
    return served


@pytest.fixture
def made(folder, calibration, tmp_path):
    studio, cache = fake_studio(folder, fake_engines(calibration, SCRIPT), tmp_path / "work")
    yield studio, cache
    if cache.gate is not None:
        cache.gate.set()
    studio.close()


@pytest.fixture
def studio(made):
    return made[0]


@pytest.fixture
def cache(made):
    return made[1]


def finished(studio, media: str = "talk.wav") -> Job:
    """The job of `media` once it has ended."""
    return until(
        lambda: (
            (job := studio.dubs.jobs()[media]).state
            in (State.dubbed, State.failed, State.cancelled)
            and job
        ),
        what=f"the dub of {media}",
    )


def outputs_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in ("talk.wav", "other.wav"))


def test_a_dub_writes_every_output_with_the_engines_its_settings_ask_for(studio, folder, cache):
    settings = DubSettings(
        voice="fake-tts", background=Background.keep, max_rate=1.0, max_stretch=1.0
    )
    studio.dubs.dub("talk.wav", settings)
    job = finished(studio)
    assert job.state is State.dubbed and job.error is None, job.error
    outputs = outputs_for(folder / "talk.wav")
    assert all(path.is_file() for path in outputs.all())
    assert outputs_in(folder) == sorted(path.name for path in outputs.all())
    document = DubDocument.load(outputs.document)
    assert [line.source for line in document.lines] == list(SCRIPT)
    assert all(line.speedup <= 1.0 + 1e-9 for line in document.lines)  # no speed-up allowed
    assert cache.asked == [("get", settings.choice())]
    assert job.result["synthesized"] >= len(SCRIPT)
    assert set(job.result["stages"]) <= {stage.value for stage in STAGES}
    assert studio.dubs.settings("talk.wav") == settings and not studio.dubs.busy()


def test_progress_is_published_stage_by_stage_and_never_goes_back(studio):
    studio.dubs.dub("talk.wav", DubSettings())
    finished(studio)
    events = studio.hub.of("job", media="talk.wav")
    assert [e["state"] for e in events[:2]] == ["queued", "dubbing"]
    assert events[-1]["state"] == "dubbed" and events[-1]["fraction"] == 1.0
    assert all(e["state"] == "dubbing" for e in events[1:-1])
    stages = [e["stage"] for e in events[2:-1]]
    assert stages == sorted(stages, key=[s.value for s in STAGES].index)
    assert set(stages) == {stage.value for stage in STAGES}
    fractions = [e["fraction"] for e in events]
    assert fractions == sorted(fractions)
    for event in events[2:-1]:
        low, high = STAGE_SPANS[Stage(event["stage"])]
        assert low <= event["fraction"] <= high


FAILURES = {
    "dubber error": (DubberError("no voice speaks es: run 'dubber models pull'"), None),
    "disk full": (
        OSError(errno.ENOSPC, "No space left on device", "/work/clip.wav"),
        "No space left on device: /work/clip.wav",
    ),
    "bug": (KeyError("voices"), "internal error (KeyError: 'voices'): please report it"),
}


@pytest.mark.parametrize("case", FAILURES)
def test_a_failure_is_a_state_with_one_line_and_the_queue_goes_on(studio, folder, case, cache):
    error, line = FAILURES[case]
    cache.failure = error
    studio.dubs.dub("talk.wav", DubSettings(max_rate=1.2))
    job = finished(studio)
    assert job.state is State.failed and job.error == (line or str(error))
    assert studio.hub.of("job", state="failed")[-1]["error"] == job.error
    assert outputs_in(folder) == [] and studio.dubs.settings("talk.wav") == DubSettings()
    cache.failure = None
    studio.dubs.dub("talk.wav", DubSettings())
    assert finished(studio).state is State.dubbed


def test_a_running_dub_is_cancelled_at_its_next_progress_report(studio, folder, cache):
    cache.gate = gate = threading.Event()
    studio.dubs.dub("talk.wav", DubSettings())
    until(lambda: studio.dubs.jobs()["talk.wav"].state is State.dubbing, what="the dub to start")
    studio.dubs.cancel("talk.wav")
    gate.set()
    job = finished(studio)
    assert (job.state, job.error) == (State.cancelled, "dub cancelled")
    assert outputs_in(folder) == []
    assert cache.engines.translator.calls == []


def test_a_queued_dub_cancelled_never_loads_engines(studio, folder, cache):
    cache.gate = gate = threading.Event()
    studio.dubs.dub("talk.wav", DubSettings())
    studio.dubs.dub("other.wav", DubSettings())
    assert studio.dubs.jobs()["other.wav"].state is State.queued
    studio.dubs.cancel("other.wav")
    gate.set()
    assert finished(studio, "talk.wav").state is State.dubbed
    other = finished(studio, "other.wav")
    assert (other.state, other.error) == (State.cancelled, "dub cancelled")
    assert len(cache.asked) == 1
    assert not outputs_for(folder / "other.wav").media.exists()


def test_a_file_is_dubbed_edited_or_cancelled_one_thing_at_a_time(studio, cache):
    with pytest.raises(UsageError, match="not being dubbed"):
        studio.dubs.cancel("talk.wav")
    with pytest.raises(UsageError, match="no dub document yet"):
        studio.dubs.redub("talk.wav", [])
    cache.gate = gate = threading.Event()
    studio.dubs.dub("talk.wav", DubSettings())
    for attempt in (
        lambda: studio.dubs.dub("talk.wav", DubSettings()),
        lambda: studio.dubs.save_edits("talk.wav", [LineEdit(0, "Hola.")]),
    ):
        with pytest.raises(UsageError, match="talk.wav is being dubbed"):
            attempt()
    gate.set()
    assert finished(studio).state is State.dubbed
    with pytest.raises(UsageError, match="not being dubbed"):
        studio.dubs.cancel("talk.wav")


def test_a_redub_speaks_again_only_the_edited_line(studio, folder, cache):
    studio.dubs.dub("talk.wav", DubSettings())
    finished(studio)
    outputs = outputs_for(folder / "talk.wav")
    before, before_document = decode_audio(outputs.media), DubDocument.load(outputs.document)
    job = studio.dubs.redub("talk.wav", [LineEdit(1, "Abrirán doce escuelas.")])
    assert job.changed == [1] and job.to_json()["redub"]
    job = finished(studio)
    assert job.state is State.dubbed, job.error
    assert (job.result["synthesized"], job.result["reused"]) == (1, len(SCRIPT) - 1)
    document = DubDocument.load(outputs.document)
    assert [line.translation for line in document.lines] == [
        "Abrirán doce escuelas." if i == 1 else line.translation
        for i, line in enumerate(before_document.lines)
    ]
    assert cache.asked[-1] == (
        f"speaking {before_document.voice}",
        engine_choice(before_document),
    )
    after = decode_audio(outputs.media)
    edited = (before_document.lines[1], document.lines[1])
    begin = round((min(line.placed_start for line in edited) - MARGIN_S) * 16000)
    end = round((max(line.placed_end for line in edited) + MARGIN_S) * 16000)
    change = np.abs(after - before)
    assert len(after) == len(before)
    assert max(change[:begin].max(), change[end:].max()) < 0.1 * change[begin:end].max()


def test_closing_the_studio_cancels_the_running_dub(studio, folder, cache):
    cache.gate = gate = threading.Event()
    studio.dubs.dub("talk.wav", DubSettings())
    until(lambda: studio.dubs.jobs()["talk.wav"].state is State.dubbing, what="the dub to start")
    closing = threading.Thread(target=studio.dubs.close, args=(10,))
    closing.start()
    gate.set()
    closing.join(10)
    assert not closing.is_alive()
    assert studio.dubs.jobs()["talk.wav"].error == "dub cancelled"
    assert outputs_in(folder) == []


def test_dubbing_an_edited_file_again_speaks_its_edits_and_a_fresh_start_keeps_a_version(
    studio, folder
):
    studio.dubs.dub("talk.wav", DubSettings())
    finished(studio)
    outputs = outputs_for(folder / "talk.wav")
    studio.dubs.save_edits("talk.wav", [LineEdit(1, "Abrirán doce escuelas.")])
    job = studio.dubs.dub("talk.wav", DubSettings())  # "Dub again" on the edited file
    assert job.to_json()["redub"]  # from the edited document: nothing recognised again
    assert finished(studio).state is State.dubbed
    assert DubDocument.load(outputs.document).lines[1].translation == "Abrirán doce escuelas."
    assert studio.library_state("talk.wav") is State.dubbed and not studio.dubs.versions.names(
        folder / "talk.wav"
    )
    studio.dubs.save_edits("talk.wav", [LineEdit(1, "Doce escuelas nuevas.")])
    edited = outputs.document.read_bytes()
    job = studio.dubs.dub("talk.wav", DubSettings(), from_scratch=True)
    assert not job.to_json()["redub"] and finished(studio).state is State.dubbed
    assert DubDocument.load(outputs.document).lines[1].translation != "Doce escuelas nuevas."
    [kept] = studio.dubs.versions.names(folder / "talk.wav")
    studio.dubs.restore("talk.wav", kept)
    assert outputs.document.read_bytes() == edited  # the edits are back, as they were
    assert len(studio.dubs.versions.names(folder / "talk.wav")) == 2  # and the fresh dub kept
    assert studio.library_state("talk.wav") is State.outdated
    with pytest.raises(UsageError, match="no kept version"):
        studio.dubs.restore("talk.wav", "../../etc")
