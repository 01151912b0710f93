"""The studio's routes in this process with fake engines, as its page uses them: a dub started
from the page, its progress as server-sent events, the library and review data, cancel,
failures, post-edits and a re-dub, and dubs waiting for the real-time demo."""

from __future__ import annotations

import io
import threading
import zipfile
from pathlib import Path

import pytest

from dubber.dub.document import DubDocument
from dubber.errors import DubberError
from dubber.media.decode import write_wav
from dubber.studio.library import outputs_for
from dubber.studio.routes import build_app
from tests.helpers.fake_serving import PageClient, fake_studio, until
from tests.helpers.fakes import beeps, fake_engines

SCRIPT = ("Good evening.", "The river rose two metres overnight.", "Roads are closed.")
SPANS = [(0.4, 1.4), (2.0, 4.0), (4.6, 5.8)]


@pytest.fixture
def folder(tmp_path) -> Path:
    served = tmp_path / "served"
    served.mkdir()
    write_wav(served / "news.wav", beeps(SPANS, 6.5), 16000)
    return served


@pytest.fixture
def made(folder, calibration, tmp_path):
    studio, cache = fake_studio(folder, fake_engines(calibration, SCRIPT), tmp_path / "work")
    cache.gate = threading.Event()
    cache.gate.set()
    yield studio, cache
    cache.gate.set()
    studio.close()


@pytest.fixture
def cache(made):
    return made[1]


@pytest.fixture
def studio(made):
    return made[0]


@pytest.fixture
def page(studio) -> PageClient:
    return PageClient(build_app(studio), studio.token)


def entry(page: PageClient, name: str = "news.wav") -> dict:
    """The library's row for `name`."""
    answer = page.request("GET", "/api/library")
    assert answer.status == 200, answer.body
    (found,) = [f for f in answer.json["files"] if f["name"] == name]
    return found


def ended(page: PageClient, name: str = "news.wav") -> dict:
    """The library's row for `name` once its dub has ended."""
    return until(
        lambda: (
            (row := entry(page, name))["job"]["state"] in ("dubbed", "failed", "cancelled") and row
        ),
        what=f"the dub of {name}",
    )


def dub(page: PageClient, **settings) -> dict:
    answer = page.request("POST", "/api/dub", {"media": "news.wav", **settings})
    assert answer.status == 202, answer.body
    return answer.json


def test_a_dub_started_from_the_page_ends_with_its_files_served(page, folder):
    started = dub(page, max_rate=1.5, background="keep")
    assert (started["media"], started["state"], started["redub"]) == ("news.wav", "queued", False)
    row = ended(page)
    assert (row["state"], row["dubbed"], row["job"]["error"]) == ("dubbed", True, None)
    assert row["job"]["fraction"] == 1.0 and row["job"]["synthesized"] >= len(SCRIPT)
    assert row["settings"]["max_rate"] == 1.5 and row["settings"]["background"] == "keep"
    assert row["duration"] == pytest.approx(6.5, abs=0.01) and not row["video"]
    outputs = outputs_for(folder / "news.wav")
    for path in (outputs.media, outputs.document, *outputs.subtitles.values()):
        served = page.request("GET", f"/files/{path.name}")
        assert served.status == 200 and served.body == path.read_bytes(), path.name
    vtt = page.request("GET", "/files/news.es.vtt")
    assert vtt.headers["content-type"].startswith("text/vtt")


def test_progress_reaches_the_page_as_server_sent_events(page):
    events = page.events(
        lambda: dub(page),
        lambda got: any(kind == "job" and data["state"] == "dubbed" for kind, data in got),
    )
    jobs = [data for kind, data in events if kind == "job"]
    assert [jobs[0]["state"], jobs[-1]["state"]] == ["queued", "dubbed"]
    stages = [job["stage"] for job in jobs if job["state"] == "dubbing"]
    assert stages[0] == "loading models" and {"recognise", "speak", "mix"} <= set(stages)
    fractions = [job["fraction"] for job in jobs]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_the_review_data_is_the_dub_document_as_the_table_shows_it(page, folder):
    dub(page)
    ended(page)
    answer = page.request("GET", "/api/review/news.wav")
    assert answer.status == 200
    data = answer.json
    outputs = outputs_for(folder / "news.wav")
    document = DubDocument.load(outputs.document)
    assert (data["media"], data["original"], data["dub"]) == ("news.wav", "news.wav", "news.es.wav")
    assert data["subtitles"] == {"en": "news.en.vtt", "es": "news.es.vtt"}
    assert data["version"] == outputs.media.stat().st_mtime_ns and data["state"] == "dubbed"
    assert data["voices"] == [document.voice] and data["duration"] == document.duration
    assert len(data["lines"]) == len(document.lines) == len(SCRIPT)
    for row, line in zip(data["lines"], document.lines, strict=True):
        assert (row["source"], row["translation"]) == (line.source, line.translation)
        assert (row["start"], row["placed_start"]) == (line.start, line.placed_start)
        assert line.translation not in row["candidates"] and row["candidates"]
        assert set(row["candidates"]) <= {h.text for h in line.hypotheses}
        assert row["flags"] == line.flags  # as the dub found them


def test_every_output_downloads_alone_and_all_of_them_as_one_zip(page, folder):
    dub(page)
    ended(page)
    outputs = outputs_for(folder / "news.wav")
    offered = page.request("GET", "/api/review/news.wav").json["downloads"]
    assert {item["file"] for item in offered} == {path.name for path in outputs.all()}
    labels = {item["label"] for item in offered}
    assert {"dubbed media", "dub document", "English SRT", "Spanish VTT"} <= labels
    answer = page.request("GET", "/api/export/news.wav")
    assert answer.status == 200 and answer.headers["content-type"] == "application/zip"
    assert 'filename="news.dub.zip"' in answer.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(answer.body)) as zipped:
        assert zipped.testzip() is None
        for path in outputs.all():
            assert zipped.read(path.name) == path.read_bytes(), path.name
    assert page.request("GET", "/api/export/other.wav").status == 404


def test_an_edited_line_keeps_the_translators_text_for_a_revert(page, folder):
    dub(page)
    ended(page)
    before = page.request("GET", "/api/review/news.wav").json
    assert all(row["machine"] is None for row in before["lines"])
    assert set(before["fit_legend"]) >= {row["fit"] for row in before["lines"]}
    machine = before["lines"][1]["translation"]
    for text in ("El río subió.", "El río subió dos metros."):
        edit = {"media": "news.wav", "edits": [{"line": 1, "translation": text}]}
        assert page.request("POST", "/api/edits", edit).status == 200
    rows = page.request("GET", "/api/review/news.wav").json["lines"]
    assert rows[1]["machine"] == machine and rows[1]["translation"] == "El río subió dos metros."
    assert rows[0]["machine"] is None


def test_a_failed_dub_shows_in_the_library_with_its_reason(page, cache):
    cache.failure = DubberError("the voice fake-tts is damaged: run 'dubber models pull'")
    dub(page)
    row = ended(page)
    assert (row["state"], row["dubbed"]) == ("failed", False)
    assert row["job"]["error"] == str(cache.failure)
    review = page.request("GET", "/api/review/news.wav")
    assert review.status == 404 and "not dubbed yet" in review.json["error"]


def test_a_dub_cancelled_from_the_page_stops_and_leaves_no_output(page, cache, folder):
    cache.gate.clear()
    dub(page)
    until(lambda: entry(page)["state"] == "dubbing", what="the dub to start")
    answer = page.request("POST", "/api/cancel", {"media": "news.wav"})
    assert (answer.status, answer.json) == (202, {"cancelled": True})
    cache.gate.set()
    row = ended(page)
    assert (row["state"], row["job"]["state"]) == ("new", "cancelled")  # as it was, not failed
    assert sorted(p.name for p in folder.iterdir()) == ["news.wav"]
    again = page.request("POST", "/api/cancel", {"media": "news.wav"})
    assert again.status == 400 and "not being dubbed" in again.json["error"]


def test_a_file_deleted_while_it_is_dubbed_shows_missing_then_as_it_is_when_back(
    page, cache, folder, caplog
):
    caplog.set_level("INFO", logger="dubber.studio.jobs")
    cache.gate.clear()
    dub(page)
    until(lambda: entry(page)["state"] == "dubbing", what="the dub to start")
    kept = (folder / "news.wav").read_bytes()
    (folder / "news.wav").unlink()
    row = entry(page)
    assert (row["state"], row["dubbed"]) == ("missing", False)
    assert row["problem"] == "no longer in the folder: deleted or moved"
    cache.gate.set()
    row = until(lambda: (r := entry(page))["job"]["state"] == "failed" and r, what="the failure")
    assert row["state"] == "missing" and row["job"]["error"]
    assert f"dub of news.wav failed: {row['job']['error']}" in caplog.messages
    (folder / "news.wav").write_bytes(kept)
    back = entry(page)
    assert (back["state"], back["problem"]) == ("new", None)  # not the old failure
    dub(page)
    assert ended(page)["state"] == "dubbed"
    assert any(m.startswith("dub of news.wav done in ") for m in caplog.messages)


def test_an_unreadable_file_is_named_so_without_server_paths(page, folder):
    (folder / "notes.mp4").write_text("not a video")
    row = entry(page, "notes.mp4")
    assert (row["state"], row["dubbed"]) == ("unreadable", False)
    assert "notes.mp4" in row["problem"] and str(folder) not in row["problem"]


def test_while_a_dub_runs_nothing_else_may_change_its_file(page, cache):
    cache.gate.clear()
    dub(page)
    assert entry(page)["state"] in ("queued", "dubbing")
    refused = [
        page.request("POST", "/api/dub", {"media": "news.wav"}),
        page.request("POST", "/api/redub", {"media": "news.wav", "edits": []}),
        page.request("POST", "/api/live/start", {"media": "news.wav"}),
    ]
    assert [answer.status for answer in refused] == [400, 400, 409]
    assert "being dubbed" in refused[0].json["error"]
    assert "a dub is running" in refused[2].json["error"]
    cache.gate.set()
    assert ended(page)["state"] == "dubbed"


def test_saved_edits_then_a_redub_speak_the_new_line(page, folder):
    dub(page)
    ended(page)
    version = page.request("GET", "/api/review/news.wav").json["version"]
    edits = [{"line": 2, "translation": "Las carreteras están cortadas."}, {"line": 0}]
    saved = page.request("POST", "/api/edits", {"media": "news.wav", "edits": edits})
    assert saved.status == 200 and saved.json["changed"] == [2]
    document = DubDocument.load(outputs_for(folder / "news.wav").document)
    assert document.lines[2].translation == "Las carreteras están cortadas."
    answer = page.request("POST", "/api/redub", {"media": "news.wav", "edits": []})
    assert answer.status == 202 and answer.json["redub"] and answer.json["changed"] == []
    row = ended(page)
    assert row["job"]["redub"] and row["job"]["synthesized"] == 1
    assert row["job"]["reused"] == len(SCRIPT) - 1
    review = page.request("GET", "/api/review/news.wav").json
    assert review["lines"][2]["translation"] == "Las carreteras están cortadas."
    assert review["version"] > version


def test_a_redub_with_a_wrong_edit_is_refused_and_changes_nothing(page, folder):
    dub(page)
    ended(page)
    document = outputs_for(folder / "news.wav").document
    before = document.read_bytes()
    for edit, message in [
        ({"line": 0, "voice": "espeak:es"}, "did not speak this dub"),
        ({"line": 7, "translation": "Hola."}, "line 7 is not in the document"),
    ]:
        answer = page.request("POST", "/api/redub", {"media": "news.wav", "edits": [edit]})
        assert answer.status == 400 and message in answer.json["error"]
    assert document.read_bytes() == before
    assert not entry(page)["job"]["redub"]


def test_dubs_wait_for_the_real_time_demo_which_reports_its_failure(page, studio, cache):
    cache.gate.clear()
    answer = page.request("POST", "/api/live/start", {"media": "news.wav"})
    assert answer.status == 202
    until(lambda: studio.live.running, what="the demo to start")
    live = page.request("GET", "/api/library").json["live"]
    assert live == {"running": True, "media": "news.wav"}
    refused = page.request("POST", "/api/dub", {"media": "news.wav"})
    assert refused.status == 400 and "real-time demo is playing" in refused.json["error"]
    cache.failure = DubberError("no live voice installed")
    cache.gate.set()
    until(lambda: studio.hub.of("live-state", state="failed"), what="the demo to fail")
    assert studio.hub.of("live-state", state="failed")[0]["error"] == "no live voice installed"
    assert [e["state"] for e in studio.hub.of("live-state")] == ["loading", "failed"]
    until(lambda: not studio.live.running, what="the demo to end")
    cache.failure = None
    dub(page)
    assert ended(page)["state"] == "dubbed"
