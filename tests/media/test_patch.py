"""Patching a dubbed file's audio where a re-dub changed it: the frames outside the change
copied as they were, the change encoded as a whole mix would encode it, no shift and no click
at the splices, the video copied."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dubber.media.decode import decode_audio
from dubber.media.mix import RawAudio, write_gain
from dubber.media.mux import MIX_RATE, mux_dub
from dubber.media.patch import (
    AAC_FRAME,
    adts_frames,
    can_patch,
    changed_frames,
    changed_spans,
    patch_dub,
)
from dubber.media.probe import probe
from tests.helpers.media import RATE, ffmpeg, make_video, video_packet_hashes, with_tone

SECONDS = 12.0
CHANGE = (5.0, 6.5)  # seconds of the voice a re-dub changes


def voice(path: Path, changed: bool) -> RawAudio:
    """A voice track of tones, spoken 2 s of every 3; `changed` puts another pitch in CHANGE."""
    t = np.arange(int(SECONDS * RATE)) / RATE
    samples = 0.3 * np.sin(2 * np.pi * 220 * t) * ((t % 3) < 2)
    if changed:
        inside = (t >= CHANGE[0]) & (t < CHANGE[1])
        samples[inside] = 0.3 * np.sin(2 * np.pi * 330 * t[inside])
    samples.astype("<f4").tofile(path)
    return RawAudio(path, RATE)


@pytest.fixture(scope="module")
def dubbed(tmp_path_factory):
    """A video, its dub, and the dub of a re-dub that changed CHANGE, mixed whole."""
    folder = tmp_path_factory.mktemp("patch")
    noise = 0.1 * np.random.default_rng(0).standard_normal(int(SECONDS * RATE))
    media = probe(make_video(with_tone(noise.astype(np.float32)), folder / "news.mp4"))
    gain = write_gain(folder / "gain.f32", np.ones(int(SECONDS * 1000) + 1, np.float32))
    before, after = voice(folder / "before.f32", False), voice(folder / "after.f32", True)
    gain_db = mux_dub(media, before, gain, folder / "news.es.mp4", "es", [])
    mux_dub(media, after, gain, folder / "whole.es.mp4", "es", [])
    return folder, media, gain, before, after, gain_db


def test_the_frames_to_patch_are_where_the_tracks_differ(dubbed, tmp_path):
    _, media, _, before, after, _ = dubbed
    spans = changed_spans(before, after)
    assert spans[0][0] == pytest.approx(CHANGE[0], abs=0.1)
    assert spans[-1][1] == pytest.approx(CHANGE[1], abs=0.1)
    (frames,) = changed_frames(spans, media.duration)
    assert frames.start * AAC_FRAME / MIX_RATE <= CHANGE[0] < CHANGE[1]
    assert CHANGE[1] <= frames.stop * AAC_FRAME / MIX_RATE < CHANGE[1] + 0.1
    assert changed_spans(before, before) == []
    other_rate = RawAudio(before.path, 22050)
    assert changed_frames(changed_spans(other_rate, after), media.duration) == [
        range(0, int(media.duration * MIX_RATE) // AAC_FRAME + 1)
    ]


def test_a_patched_dub_is_the_old_one_outside_the_change_and_the_new_mix_inside(dubbed, tmp_path):
    folder, media, gain, before, after, gain_db = dubbed
    previous = folder / "news.es.mp4"
    assert can_patch(previous, media) and not can_patch(folder / "news.es.mkv", media)
    spans = [(start - 0.5, end + 0.5) for start, end in changed_spans(before, after)]
    frames = changed_frames(spans, media.duration)
    patched = tmp_path / "patched.es.mp4"
    patch_dub(media, previous, after, gain, gain_db, frames, patched, "es", [], tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["patched.es.mp4"]  # no scratch left
    old, new, whole = (
        decode_audio(p, MIX_RATE) for p in (previous, patched, folder / "whole.es.mp4")
    )
    assert len(new) == len(old) == len(whole)  # no frame lost or added: the picture keeps sync
    first, last = (f * AAC_FRAME for f in (frames[0].start, frames[0].stop))
    outside = np.r_[0 : first - 2 * AAC_FRAME, last + 2 * AAC_FRAME : len(new)]
    assert np.max(np.abs(new[outside] - old[outside])) < 1e-3  # copied, not encoded again
    inside = slice(int(CHANGE[0] * MIX_RATE) + 2048, int(CHANGE[1] * MIX_RATE) - 2048)
    assert np.corrcoef(new[inside], whole[inside])[0, 1] > 0.99  # the new voice, as mixed whole
    assert np.corrcoef(new[inside], old[inside])[0, 1] < 0.9
    for splice in (first, last):
        near = slice(splice - 3 * AAC_FRAME, splice + 3 * AAC_FRAME)
        error = np.sum((new[near] - old[near]) ** 2) / np.sum(old[near] ** 2)
        assert 10 * np.log10(1 / error) > 20  # as close as two encodings of one sound
    steps = np.abs(np.diff(new))
    assert steps[first - 2048 : last + 2048].max() <= 1.2 * steps[outside[:-1]].max()  # no click
    assert video_packet_hashes(patched) == video_packet_hashes(previous)


def test_adts_frames_are_split_by_their_headers(dubbed, tmp_path):
    folder = dubbed[0]
    ffmpeg("-i", str(folder / "news.es.mp4"), "-map", "0:a", "-c", "copy", str(tmp_path / "a.aac"))
    frames = adts_frames((tmp_path / "a.aac").read_bytes())
    assert len(frames) == pytest.approx(SECONDS * MIX_RATE / AAC_FRAME, abs=3)
    assert all(frame[:2] == b"\xff\xf1" for frame in frames)
    with pytest.raises(ValueError, match="no ADTS frame"):
        adts_frames(b"\x00" * 16)
