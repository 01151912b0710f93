"""The original sound under the dub: ducking ramps, keep and none, and the on-disk dub track."""

from __future__ import annotations

import numpy as np
import pytest

from dubber.media.mix import GAIN_RATE, Background, DubTrack, MixRules, duck_gain


def test_ducking_ramps_down_before_speech_and_back_up_after():
    rules = MixRules(duck_db=-20.0, ramp=0.2)
    gain = duck_gain([(1.0, 2.0)], 3.0, rules)
    at = lambda seconds: gain[int(seconds * GAIN_RATE)]  # noqa: E731
    assert at(0.5) == pytest.approx(1.0)
    assert gain[GAIN_RATE : 2 * GAIN_RATE].max() == pytest.approx(0.1, rel=0.05)
    assert at(2.6) == pytest.approx(1.0)
    assert np.all(np.abs(np.diff(gain)) < 0.02), "gain changes smoothly"


def test_keep_and_none_backgrounds():
    assert np.all(duck_gain([(1.0, 2.0)], 3.0, MixRules(background=Background.keep)) == 1.0)
    assert np.all(duck_gain([(1.0, 2.0)], 3.0, MixRules(background=Background.none)) == 0.0)


def test_dub_track_places_clips_on_disk(tmp_path):
    track = DubTrack(tmp_path / "dub.f32", duration=2.0, sample_rate=1000)
    track.add(0.5, np.full(300, 0.25, np.float32))
    track.add(1.9, np.full(300, 0.5, np.float32))  # runs past the end: cut
    audio = track.close()
    samples = np.fromfile(audio.path, dtype="<f4")
    assert len(samples) == 2000 and audio.sample_rate == 1000
    assert samples[499] == 0 and samples[500] == 0.25 and samples[799] == 0.25 and samples[800] == 0
    assert samples[-1] == 0.5
