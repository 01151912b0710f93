"""Library state read from the folder: not dubbed, dubbed, outdated (no server, no model)."""

from __future__ import annotations

import os
import time

from dubber.chain.line import Line
from dubber.dub.document import DubDocument
from dubber.studio.edits import LineEdit, apply_edits
from dubber.studio.library import (
    EDIT_SLACK_S,
    Library,
    State,
    disk_state,
    is_media_name,
    is_servable,
    outputs_for,
)


def dubbed(folder, name="talk.mp4", document_age=0.5):
    """Files as a dub leaves them: the input, then its dub, then (just after) its document."""
    media = folder / name
    media.write_bytes(b"not really a video")
    outputs = outputs_for(media)
    for path in outputs.all():
        path.write_text("WEBVTT\n")
    now = time.time()
    os.utime(media, (now - 100, now - 100))
    os.utime(outputs.media, (now - 50, now - 50))
    os.utime(outputs.document, (now - 50 + document_age, now - 50 + document_age))
    return media


def test_outputs_are_where_dubber_dub_writes_them(tmp_path):
    outputs = outputs_for(tmp_path / "talk.mp4")
    assert outputs.media.name == "talk.es.mp4"
    assert outputs.document.name == "talk.dub.json"
    assert {p.name for p in outputs.subtitles.values()} == {
        "talk.en.srt", "talk.es.srt", "talk.en.vtt", "talk.es.vtt",
    }  # fmt: skip
    assert outputs_for(tmp_path / "memo.wav").media.name == "memo.es.wav"


def test_states_follow_the_files(tmp_path):
    fresh = tmp_path / "fresh.mp4"
    fresh.write_bytes(b"x")
    assert disk_state(fresh) is State.new
    media = dubbed(tmp_path)
    assert disk_state(media) is State.dubbed
    document = outputs_for(media).document
    later = time.time()
    os.utime(document, (later, later))  # edited by a person (or the page) after the dub
    assert disk_state(media) is State.outdated
    media = dubbed(tmp_path, "other.mp4", document_age=EDIT_SLACK_S / 2)
    assert disk_state(media) is State.dubbed
    os.utime(media, (later, later))  # the input replaced after its dub
    assert disk_state(media) is State.outdated
    outputs_for(media).document.unlink()
    assert disk_state(media) is State.new


def test_the_library_lists_inputs_not_dubs_hidden_files_or_links_out(tmp_path):
    folder = tmp_path / "served"
    folder.mkdir()
    dubbed(folder)
    (folder / "notes.txt").write_text("x")
    (folder / ".talk.es.part.mp4").write_bytes(b"x")
    (folder / "folder.mp4").mkdir()
    (tmp_path / "outside.mp4").write_bytes(b"x")
    os.symlink(tmp_path / "outside.mp4", folder / "linked.mp4")
    entries = Library(folder).entries()
    assert [entry.name for entry in entries] == ["talk.mp4"]
    assert entries[0].state is State.unreadable  # whatever outputs lie beside it
    assert entries[0].problem.startswith("talk.mp4 is not a readable audio or video file")


def test_names_the_library_lists_and_serves():
    assert is_media_name("talk.mp4") and is_media_name("Memo.WAV")
    assert not is_media_name("talk.es.mp4") and not is_media_name(".talk.mp4")
    assert not is_media_name("talk.dub.json") and not is_media_name("notes.txt")
    assert is_servable("talk.es.mp4") and is_servable("talk.es.vtt")
    assert is_servable("talk.dub.json")
    assert not is_servable("notes.txt") and not is_servable("key.pem")


def test_an_edit_saved_right_after_a_dub_still_makes_it_outdated(tmp_path):
    """Edits are counted in the document's history, not guessed from file times."""
    media = dubbed(tmp_path)
    path = outputs_for(media).document
    document = DubDocument(str(media), 3.0, "en", "es", lines=[Line(0, 0.0, 1.0, "Hi.")])
    document.lines[0].translation = "Hola."
    document.save(path)
    os.utime(path, (time.time() - 50, time.time() - 50))  # no later than the dub itself
    assert disk_state(media) is State.dubbed
    apply_edits(document, [LineEdit(0, "Buenas.", None)])
    document.save(path)
    os.utime(path, (time.time() - 50, time.time() - 50))
    assert disk_state(media) is State.outdated and document.history[-1]["line"] == 0
    document.spoken_edits = len(document.history)  # as a dub of it writes it
    document.save(path)
    os.utime(path, (time.time() - 50, time.time() - 50))
    assert disk_state(media) is State.dubbed
