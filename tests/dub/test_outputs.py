"""Which files one `dubber dub` call works on, and where their outputs go: every file a dub
writes is checked before any work (no model runs here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dubber.dub.outputs import collect_inputs, plan_outputs
from dubber.errors import UsageError
from dubber.media.probe import MediaInfo


def media(path: Path, video: bool = True, codec: str = "h264") -> MediaInfo:
    """What probing a file with one audio stream (and maybe video) says of it."""
    return MediaInfo(path, 10.0, True, video, 48000, 2, codec if video else None)


def test_folders_expand_to_their_media_but_not_earlier_dubs(tmp_path):
    for name in ("a.mp4", "b.wav", "a.es.mp4", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    found = collect_inputs([tmp_path], "es")
    assert [p.name for p in found] == ["a.mp4", "b.wav"]


def test_outputs_go_beside_inputs_or_into_the_output_folder(tmp_path):
    inputs = [media(tmp_path / "a.mp4"), media(tmp_path / "b.wav", video=False)]
    beside = plan_outputs(inputs, None, "en", "es", force=False)
    assert [p.media.name for p in beside] == ["a.es.mp4", "b.es.wav"]
    assert beside[0].document.name == "a.dub.json"
    assert beside[0].subtitles["es.srt"].name == "a.es.srt"
    into = plan_outputs(inputs, tmp_path / "out", "en", "es", force=False)
    assert all(p.media.parent == tmp_path / "out" for p in into)


@pytest.mark.parametrize("existing", ["a.es.mp4", "a.en.srt", "a.es.vtt", "a.dub.json"])
def test_every_file_a_dub_writes_needs_force_to_be_replaced(tmp_path, existing):
    """The user's own subtitles beside the video are as safe as the dubbed video."""
    (tmp_path / existing).write_bytes(b"the user's own")
    with pytest.raises(UsageError, match=f"{existing} exists: use --force"):
        plan_outputs([media(tmp_path / "a.mp4")], None, "en", "es", force=False)
    assert plan_outputs([media(tmp_path / "a.mp4")], None, "en", "es", force=True)


def test_two_inputs_that_would_write_the_same_files_are_refused(tmp_path):
    inputs = [media(tmp_path / "clip.wav", video=False), media(tmp_path / "clip.flac", video=False)]
    with pytest.raises(
        UsageError,
        match=r"the dub document of clip.wav and the dub document of clip.flac would both be "
        r"written to .*clip.dub.json",
    ):
        plan_outputs(inputs, None, "en", "es", force=True)


def test_an_input_and_the_subtitles_it_dubs_from_are_never_outputs(tmp_path):
    with pytest.raises(UsageError, match="refusing to overwrite the input"):
        plan_outputs([media(tmp_path / "a.mp4")], tmp_path / "a.mp4", "en", "es", force=True)
    edited = tmp_path / "a.es.srt"
    with pytest.raises(UsageError, match="refusing to overwrite the input .*a.es.srt"):
        plan_outputs([media(tmp_path / "a.mp4")], None, "en", "es", force=True, protected=[edited])


@pytest.mark.parametrize(
    ("output", "video", "message"),
    [
        ("out.xyz", True, r"'.xyz' is not a media format dubber writes \(use .mp4"),
        ("out.wav", True, ".wav holds no picture, and in.mp4 has video"),
        ("out.webm", True, "WebM holds VP8, VP9 or AV1 video"),
        ("out.flac", False, None),
        ("out.mkv", True, None),
    ],
)
def test_the_output_format_is_checked_before_any_work(tmp_path, output, video, message):
    info = media(tmp_path / ("in.mp4" if video else "in.wav"), video=video)
    target = tmp_path / "dubbed" / output
    target.parent.mkdir()
    if message is None:
        assert plan_outputs([info], target, "en", "es", force=False)[0].media == target
        return
    with pytest.raises(UsageError, match=message):
        plan_outputs([info], target, "en", "es", force=False)


def test_keeping_the_original_track_needs_a_container_with_two(tmp_path):
    info = media(tmp_path / "in.wav", video=False)
    with pytest.raises(UsageError, match="hold one audio track: drop --keep-original-audio"):
        plan_outputs([info], None, "en", "es", force=False, keep_original_audio=True)


def test_a_name_too_long_for_the_file_system_is_refused(tmp_path):
    info = media(tmp_path / ("n" * 250 + ".mp4"))
    with pytest.raises(UsageError, match="the name is 2.. bytes, file systems allow 255"):
        plan_outputs([info], None, "en", "es", force=False)
