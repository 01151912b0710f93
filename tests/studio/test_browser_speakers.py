"""Speakers in a real browser (headless Chromium), over a studio served from this process on
fake engines: a two-speaker dub is opened, a speaker renamed and given another voice (heard
first), saved and re-dubbed, and the document on disk then has the new name and every line of
that speaker the new voice."""

from __future__ import annotations

import socket
import threading

import pytest
import uvicorn

from dubber.dub.document import DubDocument
from dubber.studio.library import outputs_for
from dubber.studio.options import DubSettings
from dubber.studio.routes import build_app
from dubber.studio.server import url_of
from tests.helpers.fake_serving import fake_studio
from tests.helpers.fakes import FEMALE
from tests.studio.browser import chromium, console_errors, until, wait_for
from tests.studio.cast import two_speaker_engines, write_talk

pytestmark = pytest.mark.slow

TOM = "#speakers-table tr[data-speaker='S1']"


@pytest.fixture(scope="module")
def served(tmp_path_factory, calibration):
    """The studio over a folder with the two-speaker talk, dubbed, served on a free port."""
    folder = tmp_path_factory.mktemp("speakers-browser")
    write_talk(folder / "talk.wav")
    studio, _ = fake_studio(folder, two_speaker_engines(calibration), folder.parent / "work")
    studio.dubs.dub("talk.wav", DubSettings())
    until(lambda: not studio.dubs.busy(), 30, "the first dub")
    sock = socket.create_server(("127.0.0.1", 0))
    config = uvicorn.Config(build_app(studio), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    until(lambda: server.started, 10, "the server")
    yield studio, folder, url_of("127.0.0.1", sock.getsockname()[1], studio.token)
    studio.hub.close()
    server.should_exit = True
    thread.join(10)
    studio.close()


@pytest.fixture(scope="module")
def page(served, tmp_path_factory):
    driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


def script(page, code: str):
    return page.execute_script(f"return ({code});")


def test_a_speaker_renamed_and_revoiced_is_re_dubbed_in_every_line(served, page):
    from selenium.webdriver.support.ui import Select

    studio, folder, url = served
    page.get(f"{url}#review/talk.wav")
    wait_for(page, "document.querySelectorAll('#speakers-table tbody tr').length === 2", 30)
    wait_for(page, f'document.querySelector("{TOM} select.voice").options.length === 2', 30)
    tags = "[...document.querySelectorAll('#lines-table .speaker-tag')].map(t => t.textContent)"
    assert script(page, tags) == ["S1", "S2", "S1", "S2"]
    assert script(page, f'document.querySelector("{TOM} .count").textContent') == "2"
    name = page.find_element("css selector", f"{TOM} input.name")
    name.clear()
    name.send_keys("Tom")
    assert script(page, tags) == ["Tom", "S2", "Tom", "S2"]
    voice = Select(page.find_element("css selector", f"{TOM} select.voice"))
    assert [o.text for o in voice.options] == ["male", "female"]
    voice.select_by_value(str(FEMALE))
    page.find_element("css selector", f"{TOM} button.hear").click()
    wait_for(page, "window.studio.review.cast.sample.src.startsWith('blob:')", 10, "the sample")
    assert script(page, "document.getElementById('edit-count').textContent") == (
        "1 speaker changed."
    )
    page.find_element("id", "save-edits").click()
    wait_for(page, "document.getElementById('review-message').textContent.startsWith('saved 2')")
    path = outputs_for(folder / "talk.wav").document
    saved = DubDocument.load(path)
    assert (saved.speakers["S1"].name, saved.speakers["S1"].voice) == ("Tom", FEMALE)
    page.find_element("id", "redub").click()
    wait_for(page, "document.getElementById('review-message').textContent.startsWith('re-dubbed')")
    document = DubDocument.load(path)
    assert document.speakers["S1"].name == "Tom" and not document.edited
    toms = [line for line in document.lines if line.speaker == "S1"]
    assert len(toms) == 2 and all(line.voice == FEMALE for line in toms)
    assert studio.dubs.jobs()["talk.wav"].result["synthesized"] == 2
    assert script(page, f'document.querySelector("{TOM} input.name").value') == "Tom"
    assert script(page, tags) == ["Tom", "S2", "Tom", "S2"]
    assert console_errors(page) == []
