"""The studio in a real browser (headless Chromium), as a user meets it: the library, a dub
started from the page (and one that fails, with the CLI's line), the review table against the
dub document, playing and seeking, a post-edit re-dubbed (only that line's audio changes, the
subtitles follow), and the real-time demo. The tests run in order and share one studio.

Screenshots go to $DUBBER_SCREENSHOTS (docs/screenshots for the README) or a temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from dubber.dub.document import DubDocument
from dubber.dub.sample import NEWS_SCRIPT, build_demo_video, narrate
from dubber.engines.load import load_synthesizer
from dubber.media.decode import decode_audio
from dubber.store.store import Store
from dubber.studio.library import outputs_for
from dubber.studio.review import review_rows
from tests.helpers.cli import run_dubber
from tests.helpers.media import RATE, make_video, with_tone
from tests.helpers.models import RUNTIME
from tests.studio.browser import chromium, console_errors, until, wait_for
from tests.studio.running import studio_server

pytestmark = pytest.mark.slow

SECRET = b"not for the page"
EDITED = "Abrirán diez nuevas líneas de autobús."
SECOND_EDIT = "Diez líneas de autobús abrirán este año."
THIRD_EDIT = "Habrá diez líneas de autobús nuevas."
CHANGED = 2  # the line post-edited: shorter than before, so its neighbours keep their slots


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """The 26 s sample news video, a short recording of its first two sentences, and a clip
    with no speech."""
    served = tmp_path_factory.mktemp("studio-browser")
    english, _ = load_synthesizer(Store(), None, "en", RUNTIME)
    build_demo_video(served / "news.mp4", narrate(english), english.sample_rate)
    short = narrate(english, NEWS_SCRIPT[:2])
    build_demo_video(served / "short.mp4", short, english.sample_rate)
    make_video(with_tone(np.zeros(2 * RATE, np.float32)), served / "silence.mp4")
    outside = tmp_path_factory.mktemp("outside") / "secret.mp4"
    outside.write_bytes(SECRET)
    (served / "linked.mp4").symlink_to(outside)  # a link out of the folder: never served
    return served


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("DUBBER_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def studio(folder):
    with studio_server(folder, "--max-upload-mb", "1") as running:
        yield running


@pytest.fixture(scope="module")
def page(studio, tmp_path_factory):
    driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
    driver.get(studio.url)
    wait_for(driver, "document.body.dataset.ready === 'true'", 30, "the page")
    yield driver
    driver.quit()


def row_state(page, name: str) -> str:
    return page.execute_script(
        "const r = document.querySelector(`#library-table tr[data-name='${arguments[0]}']`);"
        "return r ? r.dataset.state : null;",
        name,
    )


def click_in_row(page, name: str, label: str) -> None:
    page.execute_script(
        "const r = document.querySelector(`#library-table tr[data-name='${arguments[0]}']`);"
        "[...r.querySelectorAll('button')].find(b => b.textContent === arguments[1]).click();",
        name,
        label,
    )


def test_the_library_lists_the_folder(studio, page, shots):
    timing = page.execute_script(
        "const n = performance.getEntriesByType('navigation')[0];"
        "return {load: n.loadEventEnd, ready: window.studio.metrics.ready};"
    )
    print(f"\npage load: {timing['load']:.0f} ms to the load event, "
          f"{timing['ready']:.0f} ms to the library shown")  # fmt: skip
    assert timing["ready"] < 5000
    names = page.execute_script(
        "return [...document.querySelectorAll('#library-table tr[data-name]')]"
        ".map(r => r.dataset.name);"
    )
    assert names == ["news.mp4", "short.mp4", "silence.mp4"]
    assert row_state(page, "news.mp4") == "new"
    voices = page.execute_script("return [...document.getElementById('voice').options].length")
    assert voices > 1
    assert console_errors(page) == []


def test_a_failed_dub_shows_the_command_lines_error(studio, page, folder):
    click_in_row(page, "silence.mp4", "Dub")
    until(lambda: row_state(page, "silence.mp4") == "failed", 300, "the dub to fail")
    shown = page.execute_script(
        "return document.querySelector(\"tr[data-name='silence.mp4'] .error\").textContent"
    )
    cli = run_dubber("dub", str(folder / "silence.mp4"), "-o", str(folder / "out"))
    assert cli.returncode == 2
    assert shown == cli.stderr.strip() == f"error: no speech found in {folder / 'silence.mp4'}"


def test_a_dub_started_from_the_page_streams_its_progress(studio, page, folder, shots):
    click_in_row(page, "news.mp4", "Dub")
    until(lambda: row_state(page, "news.mp4") == "dubbing", 30, "the dub to start")
    fractions = []

    def progressed() -> bool:
        fractions.append(page.execute_script(
            "const bar = document.querySelector(\"tr[data-name='news.mp4'] .progress div\");"
            "return bar ? parseFloat(bar.style.width) : null;"
        ))  # fmt: skip
        return (fractions[-1] or 0) >= 40

    until(progressed, 300, "the dub to pass 40 %")
    page.save_screenshot(str(shots / "library.png"))
    until(lambda: row_state(page, "news.mp4") == "dubbed", 300, "the dub to finish")
    assert len({f for f in fractions if f is not None}) >= 3  # it moved while the page watched
    outputs = outputs_for(folder / "news.mp4")
    assert all(path.is_file() for path in outputs.all())


def test_the_review_table_is_the_dub_document(studio, page, folder):
    page.get(f"{studio.url}#review/news.mp4")
    wait_for(page, "document.querySelectorAll('#lines-table tbody tr').length > 0", 30)
    document = DubDocument.load(outputs_for(folder / "news.mp4").document)
    models = page.execute_script("return document.getElementById('review-models').textContent")
    assert document.asr_model in models and document.translator in models, models
    flagged = [i for i, line in enumerate(document.lines) if line.flags]
    if flagged:  # N goes to the first flagged line and plays from there
        page.find_element("css selector", "body").send_keys("n")
        wait_for(page, f"window.studio.review.active === {flagged[0]}", 10)
        page.execute_script(
            "const player = document.getElementById('player');"
            "player.pause(); player.currentTime = 0; window.studio.review.track();"
        )  # back to the start for the tests that follow
    rows = page.execute_script("""
        return [...document.querySelectorAll('#lines-table tbody tr')].map(r => ({
          line: Number(r.dataset.line),
          slot: r.querySelector('.slot').textContent,
          source: r.querySelector('.source').textContent,
          translation: r.querySelector('textarea').value,
          candidates: [...r.querySelectorAll('.candidates button')].map(b => b.textContent),
          voice: r.querySelector('select').value,
          fit: r.querySelector('.fit').textContent,
          speedup: r.querySelector('.speedup').textContent,
          flagged: r.className.includes('flag-'),
        }));""")
    assert len(rows) == len(document.lines) >= 5  # six sentences; Whisper may join two
    for row, line, expected in zip(rows, document.lines, review_rows(document), strict=True):
        assert row["source"] == line.source
        assert row["translation"] == line.translation
        assert row["voice"] == str(line.voice)
        assert row["fit"] == ("cut" if line.fit.value == "overflow" else line.fit.value)
        assert row["speedup"] == f"×{line.speedup:.2f}"
        assert row["candidates"] == expected["candidates"]
        assert row["flagged"] == bool(expected["flags"])
        shown = [seconds(part) for part in row["slot"].split("–")]
        assert shown == pytest.approx([line.placed_start, line.placed_end], abs=0.051)
    page.execute_script("document.getElementById('worst-first').click()")
    order = page.execute_script(
        "return [...document.querySelectorAll('#lines-table tbody tr')]"
        ".map(r => Number(r.dataset.line))"
    )
    ranked = sorted(review_rows(document), key=lambda r: (-r["severity"], r["line"]))
    assert order == [r["line"] for r in ranked]
    page.execute_script("document.getElementById('worst-first').click()")


def test_playing_follows_the_lines_and_a_click_seeks(studio, page, folder):
    lines = DubDocument.load(outputs_for(folder / "news.mp4").document).lines
    page.execute_script("document.getElementById('player').play()")
    wait_for(page, "document.getElementById('player').currentTime > 1.5", 30, "playback")
    page.execute_script("document.getElementById('player').pause()")  # a loaded machine polls late
    now = page.execute_script("return document.getElementById('player').currentTime")
    spoken = max(i for i, line in enumerate(lines) if line.placed_start <= now + 0.01)
    wait_for(page, f"document.querySelector('#lines-table tr.active')?.dataset.line === '{spoken}'",
             10, f"line {spoken} highlighted at {now:.2f} s")  # fmt: skip
    page.execute_script(
        "document.querySelector(\"#lines-table tr[data-line='3'] .source\").click()"
    )
    now = page.execute_script("return document.getElementById('player').currentTime")
    assert abs(now - lines[3].placed_start) < 0.5
    assert (
        page.execute_script("return document.querySelector('#lines-table tr.active').dataset.line")
        == "3"
    )
    page.execute_script("document.getElementById('player').play()")
    wait_for(page, "document.querySelector('#lines-table tr.active').dataset.line === '4'", 15,
             "the table to follow the playback to line 5")  # fmt: skip
    page.execute_script("document.getElementById('player').pause()")
    # subtitles: Spanish by default, English on request, each the dub's own text
    inside = lines[4].placed_start + 0.3
    page.execute_script(f"document.getElementById('player').currentTime = {inside}")
    spanish = wait_for(page, "[...document.getElementById('player').textTracks]"
                       ".find(t => t.language === 'es').activeCues?.[0]?.text", 10)  # fmt: skip
    assert " ".join(spanish.split()) == lines[4].translation  # laid out on up to two lines
    page.execute_script("document.querySelector('[data-subtitles=en]').click()")
    page.execute_script(f"document.getElementById('player').currentTime = {lines[4].start + 0.3}")
    english = wait_for(page, "[...document.getElementById('player').textTracks]"
                       ".find(t => t.language === 'en').activeCues?.[0]?.text", 10)  # fmt: skip
    assert " ".join(english.split()) == lines[4].source
    page.execute_script("document.querySelector('[data-subtitles=es]').click()")
    # the original's audio at the same moment, and back
    page.execute_script("document.querySelector('[data-audio=original]').click()")
    wait_for(page, "document.getElementById('player').currentSrc.includes('/files/news.mp4')", 10)
    wait_for(
        page,
        f"Math.abs(document.getElementById('player').currentTime - {lines[4].start + 0.3}) < 0.3",
        10,
    )
    page.execute_script("document.querySelector('[data-audio=dub]').click()")
    wait_for(page, "document.getElementById('player').currentSrc.includes('news.es.mp4')", 10)


def test_a_post_edit_re_dubs_only_that_line(studio, page, folder, shots):
    outputs = outputs_for(folder / "news.mp4")
    before = DubDocument.load(outputs.document)
    audio_before = decode_audio(outputs.media)
    box = page.find_element("css selector", f"#lines-table tr[data-line='{CHANGED}'] textarea")
    box.clear()
    box.send_keys(EDITED)
    assert page.execute_script("return document.getElementById('edit-count').textContent") == (
        "1 line changed."
    )
    page.execute_script("document.getElementById('save-edits').click()")
    wait_for(page, "document.getElementById('review-message').textContent.startsWith('saved 1')")
    library = studio.request("GET", "/api/library").json["files"]
    assert next(f for f in library if f["name"] == "news.mp4")["state"] == "outdated"
    assert DubDocument.load(outputs.document).lines[CHANGED].translation == EDITED
    page.execute_script("document.getElementById('redub').click()")
    metrics = wait_for(page, "window.studio.metrics.redub", 300, "the re-dubbed audio to play")
    print(f"\nre-dub to new audio playing: {metrics['seconds']:.2f} s "
          f"({metrics['synthesized']} clips spoken, {metrics['reused']} from the cache, "
          f"{metrics['remixed']} s mixed again; stages {metrics['stages']})")  # fmt: skip
    wait_for(page, "!document.getElementById('player').paused", 10)
    page.save_screenshot(str(shots / "review.png"))

    after = DubDocument.load(outputs.document)
    assert after.lines[CHANGED].translation == EDITED
    assert 1 <= metrics["synthesized"] <= 3 and metrics["reused"] >= len(before.lines) - 1
    assert 0 < metrics["remixed"] < before.duration / 2  # the changed stretch, patched in
    audio_after = decode_audio(outputs.media)
    for position, (old, new) in enumerate(zip(before.lines, after.lines, strict=True)):
        similarity = correlation(audio_before, audio_after, old.placed_start, old.placed_end)
        if position == CHANGED:
            assert similarity < 0.9, similarity
            continue
        assert (new.placed_start, new.placed_end, new.translation) == (
            old.placed_start, old.placed_end, old.translation,
        )  # fmt: skip
        assert similarity > 0.98, (position, similarity)
    vtt = outputs.subtitles["es.vtt"].read_text()
    assert EDITED in vtt and before.lines[CHANGED].translation not in vtt
    cues = wait_for(page, "[...document.getElementById('player').textTracks]"
                    ".find(t => t.language === 'es').cues?.length", 10)  # fmt: skip
    assert cues == len(after.subtitles()["es"])  # a long line may take two cues
    texts = page.execute_script(
        "return [...[...document.getElementById('player').textTracks]"
        ".find(t => t.language === 'es').cues].map(c => c.text)"
    )
    assert EDITED in [" ".join(text.split()) for text in texts]
    page.execute_script("document.getElementById('player').pause()")


def wait_for_state(page, name: str, state: str, timeout: float = 300) -> None:
    wait_for(
        page,
        f"document.querySelector(`#library-table tr[data-name='{name}']`)?.dataset.state"
        f" === '{state}'",
        timeout,
        f"{name} {state}",
    )


def test_no_edit_is_lost_by_leaving_dubbing_again_or_starting_over(studio, page, folder):
    outputs = outputs_for(folder / "news.mp4")
    box = page.find_element("css selector", f"#lines-table tr[data-line='{CHANGED}'] textarea")
    box.clear()
    box.send_keys(SECOND_EDIT)
    page.execute_script("window.confirm = () => false")  # the editor does not want to leave
    page.execute_script("document.querySelector('header nav a[data-view=library]').click()")
    wait_for(page, "window.location.hash.startsWith('#review')", 5)
    assert page.execute_script("return document.body.dataset.view") == "review"
    assert page.execute_script("return document.getElementById('edit-count').textContent") == (
        "1 line changed."
    )
    page.execute_script("document.getElementById('save-edits').click()")
    wait_for(page, "document.getElementById('review-message').textContent.startsWith('saved 1')")
    page.execute_script("window.confirm = () => true")
    page.execute_script("window.studio.go('library')")
    wait_for_state(page, "news.mp4", "outdated", 10)
    click_in_row(page, "news.mp4", "Dub again")  # speaks the edits: nothing is recognised again
    wait_for_state(page, "news.mp4", "dubbed")
    document = DubDocument.load(outputs.document)
    assert document.lines[CHANGED].translation == SECOND_EDIT
    assert [entry["translation"]["after"] for entry in document.history][-2:] == [
        EDITED,
        SECOND_EDIT,
    ]
    edit = {"media": "news.mp4", "edits": [{"line": CHANGED, "translation": THIRD_EDIT}]}
    assert studio.request("POST", "/api/edits", edit).status == 200
    page.execute_script("window.studio.library.refresh()")
    wait_for_state(page, "news.mp4", "outdated", 10)
    click_in_row(page, "news.mp4", "From scratch…")  # asked, and agreed
    wait_for_state(page, "news.mp4", "dubbed")
    assert DubDocument.load(outputs.document).lines[CHANGED].translation != THIRD_EDIT
    [kept] = studio.request("GET", "/api/library").json["files"][0]["versions"]
    click_in_row(page, "news.mp4", "Restore…")
    wait_for(page, "document.getElementById('library-message').textContent.startsWith('restored')")
    restored = DubDocument.load(outputs.document)
    assert restored.lines[CHANGED].translation == THIRD_EDIT and kept
    assert len(studio.request("GET", "/api/library").json["files"][0]["versions"]) == 2
    wait_for_state(page, "news.mp4", "outdated", 10)  # the restored edit is not spoken yet
    click_in_row(page, "news.mp4", "Dub again")
    wait_for_state(page, "news.mp4", "dubbed")


FETCHED = """
const done = arguments[arguments.length - 1];
Promise.all([...document.querySelectorAll('#downloads a')].map(a => fetch(a.href)
    .then(async r => [a.textContent, a.hasAttribute('download'), r.status,
                      r.headers.get('content-type'),
                      new Uint8Array(await r.arrayBuffer()).slice(0, 2)])))
  .then(found => done(found.map(([label, saves, status, type, head]) =>
    [label, saves, status, type, String.fromCharCode(...head)])));
"""


def focused(page) -> str:
    """What has the keyboard: a row's line number, 'text' for a line's text box, else a tag."""
    return page.execute_script(
        "const e = document.activeElement;"
        "if (e.matches('#lines-table tr')) return e.dataset.line;"
        "return e.matches('#lines-table textarea') ? 'text' : e.tagName;"
    )


def test_a_review_by_keyboard_alone_with_labels_downloads_and_both_subtitles(studio, page, folder):
    from selenium.webdriver.common.keys import Keys

    page.execute_script("window.studio.go('review/news.mp4')")
    wait_for(page, "document.querySelectorAll('#lines-table tbody tr').length > 3", 30)
    press = lambda key: page.switch_to.active_element.send_keys(key)  # noqa: E731
    page.execute_script("document.activeElement.blur(); window.studio.review.focused = null")
    first = page.execute_script("return window.studio.review.current()")
    press(Keys.ARROW_DOWN)
    assert focused(page) == str(first + 1)
    slot = page.execute_script(
        "const r = window.studio.review; return r.slot(r.data.lines[arguments[0]])[0]", first + 1
    )
    player = "document.getElementById('player')"
    wait_for(page, f"Math.abs({player}.currentTime - {slot}) < 0.05", 10, "the seek")
    press(Keys.ARROW_DOWN)
    press(Keys.ARROW_UP)
    assert focused(page) == str(first + 1)
    press(Keys.ENTER)
    assert focused(page) == "text"
    press(" y más")
    assert page.execute_script("return document.getElementById('edit-count').textContent") == (
        "1 line changed."
    )
    press(Keys.ESCAPE)
    assert focused(page) == str(first + 1)
    page.execute_script(
        f"document.querySelector(\"#lines-table tr[data-line='{first + 1}'] .undo\").click()"
    )
    assert (
        page.execute_script("return document.getElementById('edit-count').textContent")
        == "No changes."
    )
    page.execute_script(
        f"document.querySelector(\"#lines-table tr[data-line='{first + 1}']\").focus()"
    )
    press(" ")
    wait_for(page, "!document.getElementById('player').paused", 10, "Space to play")
    press("k")
    wait_for(page, "document.getElementById('player').paused", 10, "K to pause")
    at = page.execute_script("return document.getElementById('player').currentTime")
    press("l")
    assert page.execute_script("return document.getElementById('player').currentTime") == (
        pytest.approx(at + 5, abs=0.05)
    )
    press("p")  # the line's English from the original, then its Spanish from the dub
    hearing = "window.studio.review.hearing"
    wait_for(page, f"{hearing}.src.includes('/files/news.mp4?') && !{hearing}.paused", 10)
    wait_for(page, f"{hearing}.src.includes('/files/news.es.mp4?') && !{hearing}.paused", 30)
    wait_for(page, f"{hearing}.paused", 30, "the line to end")
    assert page.execute_script("return document.getElementById('player').paused")

    page.find_element("css selector", "#subtitle-switch button[data-subtitles=both]").click()
    modes = page.execute_script(
        "return [...document.getElementById('player').textTracks]"
        ".map(t => t.language + ':' + t.mode)"
    )
    assert sorted(modes) == ["en:showing", "es:showing"]
    labels = page.execute_script(
        "return [...document.querySelector('#lines-table tr select').options]"
        ".map(o => o.textContent)"
    )
    assert labels and all(label.startswith("Spanish, ") for label in labels)
    fits = page.execute_script(
        "return [...document.querySelectorAll('#lines-table td.fit')].map(td => td.title)"
    )
    assert all(fits)

    fetched = page.execute_async_script(FETCHED)
    assert len(fetched) == len(outputs_for(folder / "news.mp4").all()) + 1
    for label, saves, status, *_ in fetched:
        assert saves and status == 200, label
    assert fetched[-1][3:] == ["application/zip", "PK"]
    assert console_errors(page) == []


def test_the_headers_stop_cancels_a_dub_in_progress(studio, page, folder):
    page.execute_script("window.studio.go('library')")
    wait_for(page, "document.body.dataset.view === 'library'", 10)
    assert page.execute_script("return document.getElementById('header-stop').hidden")
    click_in_row(page, "short.mp4", "Dub")
    wait_for(page, "!document.getElementById('header-stop').hidden", 10, "the header's Stop")
    page.find_element("id", "header-stop").click()
    message = "document.getElementById('library-message').textContent"
    wait_for(page, f"{message}.startsWith('dub of short.mp4 cancelled')", 120, "the cancel")
    wait_for(page, "document.getElementById('header-stop').hidden", 10)
    assert not outputs_for(folder / "short.mp4").media.exists()
    assert row_state(page, "short.mp4") == "new"  # as it was, not "failed"
    until(lambda: "dub of short.mp4 cancelled" in studio.output, 10, "the terminal's line")
    assert "dub of news.mp4 done in " in studio.output


def test_a_file_deleted_while_it_is_dubbed_is_shown_missing_with_its_failure(studio, page, folder):
    gone = folder / "gone.mp4"
    shutil.copy(folder / "news.mp4", gone)
    page.execute_script("window.studio.library.refresh()")
    wait_for(page, "document.querySelector(`#library-table tr[data-name='gone.mp4']`)", 10)
    click_in_row(page, "gone.mp4", "Dub")
    until(lambda: row_state(page, "gone.mp4") == "dubbing", 30, "the dub to start")
    gone.unlink()
    row = "document.querySelector(`#library-table tr[data-name='gone.mp4']`)"
    ended = f"{row}?.textContent.includes('its dub') && !{row}.textContent.includes('running')"
    shown = wait_for(page, f"{ended} && {row}.textContent", 300, "the dub's end shown")
    assert "its dub failed" in shown, shown
    assert row_state(page, "gone.mp4") == "missing" and "no longer in the folder" in shown
    message = page.execute_script("return document.getElementById('library-message').textContent")
    assert message.startswith("dub of gone.mp4 failed: "), message
    assert "dub of gone.mp4 failed: " in studio.output
    assert not [path.name for path in folder.iterdir() if path.name.startswith("gone.")]


def test_a_stopped_server_greys_the_page_out_under_a_banner(folder, tmp_path_factory):
    with studio_server(folder) as other:
        driver = chromium(tmp_path_factory.mktemp("chromium-stopped"))
        try:
            driver.get(other.url)
            wait_for(driver, "document.body.dataset.ready === 'true'", 30, "the page")
            assert driver.execute_script("return document.getElementById('offline').hidden")
            other.stop()
            banner = wait_for(
                driver,
                "!document.getElementById('offline').hidden"
                " && document.getElementById('offline').textContent",
                30,
                "the banner",
            )
            assert "not answering" in banner or "session has ended" in banner
            main = "getComputedStyle(document.querySelector('main')).pointerEvents"
            assert driver.execute_script(f"return {main}") == "none"  # nothing can be clicked
        finally:
            driver.quit()


def test_the_real_time_demo_streams_speech_and_captions_while_it_plays(studio, page, shots):
    page.get(f"{studio.url}#live/short.mp4")
    wait_for(page, "document.getElementById('live-media').value === 'short.mp4'", 10)
    page.find_element("id", "live-play").click()
    wait_for(page, "document.getElementById('live-status').textContent.startsWith('playing')", 120,
             "the live pipeline to start")  # fmt: skip
    duration = wait_for(page, "document.getElementById('live-player').duration", 10)
    wait_for(page, "document.querySelector('#live-lines .es')?.textContent", 60, "a caption")
    wait_for(page, "window.studio.live.received.length > 0", 60, "Spanish speech")
    page.save_screenshot(str(shots / "live.png"))
    wait_for(page, "document.getElementById('live-status').textContent.startsWith('finished')",
             120, "the demo to finish")  # fmt: skip
    received = page.execute_script("return window.studio.live.received")
    lines = page.execute_script(
        "return [...document.querySelectorAll('#live-lines li')].map(li => ({"
        "en: li.querySelector('.en').textContent, es: li.querySelector('.es').textContent,"
        "latency: li.querySelector('.latency').textContent}))"
    )
    print(f"\nreal-time demo: {len(lines)} lines, latencies {[li['latency'] for li in lines]}")
    assert lines and all(li["en"] and li["es"] for li in lines)
    assert all(li["latency"].endswith(" s") for li in lines)
    during = [piece for piece in received if piece["playing"] and piece["videoTime"] < duration]
    assert during, received  # Spanish speech arrived while the video played
    assert sum(piece["seconds"] for piece in received) > 2.0
    assert console_errors(page) == []


def test_stop_silences_the_demo_at_once_and_leaving_the_view_stops_it(studio, page):
    page.get(f"{studio.url}#live/short.mp4")
    wait_for(page, "document.getElementById('live-media').value === 'short.mp4'", 10)
    page.find_element("id", "live-play").click()
    wait_for(page, "window.studio.live.received.length > 0", 120, "Spanish speech")
    page.find_element("id", "live-stop").click()
    assert page.execute_script("return window.studio.live.sources.size") == 0  # silent now
    heard = page.execute_script("return window.studio.live.received.length")
    status = wait_for(
        page,
        "document.getElementById('live-status').textContent.startsWith('stopped after')"
        " && document.getElementById('live-status').textContent",
        60,
        "the demo to stop",
    )
    assert re.fullmatch(r"stopped after \d+ lines?", status), status
    assert page.execute_script("return window.studio.live.received.length") == heard
    assert page.execute_script("return document.getElementById('live-player').paused")
    page.find_element("id", "live-play").click()
    wait_for(page, "document.getElementById('live-status').textContent.startsWith('playing')", 120)
    page.execute_script("window.studio.go('library')")
    until(lambda: not studio.request("GET", "/api/library").json["live"]["running"], 60,
          "the demo to stop when its view is left")  # fmt: skip
    assert page.execute_script("return window.studio.live.sources.size") == 0


REFUSED = """
const [token, done] = [document.querySelector('meta[name="dubber-token"]').content,
                       arguments[arguments.length - 1]];
const json = {"Content-Type": "application/json"};
const asks = [
  ["/files/..%2fsecret.mp4"], ["/files/%2Fetc%2Fpasswd"], ["/files/linked.mp4"],
  ["/api/review/..%2Fsecret.mp4"],
  ["/api/dub", {method: "POST", headers: json, body: '{"media": "news.mp4"}'}],
  ["/api/dub", {method: "POST", headers: {...json, "X-Dubber-Token": token},
                body: JSON.stringify({media: "x".repeat(300000)})}],
  ["/api/upload/big.mp4", {method: "PUT", headers: {"X-Dubber-Token": token},
                           body: new Uint8Array(3 * 2 ** 20)}],
];
Promise.all(asks.map(([url, init]) => fetch(url, init)
    .then(async r => [url, r.status, await r.text()])
    .catch(e => [url, 0, String(e)])))
  .then(done);
"""


def test_refused_requests_get_a_4xx_and_the_studio_keeps_serving(studio, page, folder):
    before = sorted(os.listdir(folder))
    answers = page.execute_async_script(REFUSED)
    for url, status, body in answers:
        assert 400 <= status < 500, (url, status, body)
        assert SECRET.decode() not in body
    assert [status for _, status, _ in answers[-3:]] == [403, 413, 413]
    assert sorted(os.listdir(folder)) == before
    page.get(studio.url)
    wait_for(page, "document.querySelector(`#library-table tr[data-name='news.mp4']`)", 30)
    assert row_state(page, "news.mp4") == "dubbed"


def seconds(shown: str) -> float:
    """The page's "1:23.4" as seconds."""
    minutes, _, rest = shown.partition(":")
    return 60 * int(minutes) + float(rest)


def correlation(a: np.ndarray, b: np.ndarray, start: float, end: float) -> float:
    """How alike two tracks are between two times (1: the same up to a gain)."""
    begin, stop = int(start * RATE), int(end * RATE)
    x, y = a[begin:stop].astype(np.float64), b[begin:stop].astype(np.float64)
    return float(np.dot(x, y) / (np.linalg.norm(x) * np.linalg.norm(y) + 1e-12))


def test_the_screenshots_are_made(shots):
    for name in ("library.png", "review.png", "live.png"):
        assert (shots / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
