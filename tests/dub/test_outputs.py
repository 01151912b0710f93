"""Which files one `dubber dub` call works on, and where their outputs go."""

from __future__ import annotations

import pytest

from dubber.dub.outputs import collect_inputs, plan_outputs
from dubber.errors import UsageError


def test_folders_expand_to_their_media_but_not_earlier_dubs(tmp_path):
    for name in ("a.mp4", "b.wav", "a.es.mp4", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    found = collect_inputs([tmp_path], "es")
    assert [p.name for p in found] == ["a.mp4", "b.wav"]


def test_outputs_go_beside_inputs_or_into_the_output_folder(tmp_path):
    inputs = [tmp_path / "a.mp4", tmp_path / "b.wav"]
    beside = plan_outputs(inputs, None, "en", "es", force=False)
    assert [p.media.name for p in beside] == ["a.es.mp4", "b.es.wav"]
    assert beside[0].document.name == "a.dub.json"
    assert beside[0].subtitles["es.srt"].name == "a.es.srt"
    into = plan_outputs(inputs, tmp_path / "out", "en", "es", force=False)
    assert all(p.media.parent == tmp_path / "out" for p in into)


def test_an_existing_output_needs_force(tmp_path):
    (tmp_path / "a.es.mp4").write_bytes(b"old")
    with pytest.raises(UsageError, match="--force"):
        plan_outputs([tmp_path / "a.mp4"], None, "en", "es", force=False)
    assert plan_outputs([tmp_path / "a.mp4"], None, "en", "es", force=True)
