"""Live audio sources: resampling a stream to 16 kHz without seams between chunks."""

from __future__ import annotations

import numpy as np

from dubber.live.sources import StreamResampler
from dubber.media.decode import AUDIO_RATE


def test_resampler_is_continuous_across_chunks():
    rate = 44100
    tone = np.sin(2 * np.pi * 440 * np.arange(rate) / rate).astype(np.float32)
    resample = StreamResampler(rate)
    pieces = [resample(tone[i : i + 1000]) for i in range(0, rate, 1000)]
    out = np.concatenate(pieces)
    assert abs(len(out) - AUDIO_RATE) <= 2
    expected = np.sin(2 * np.pi * 440 * np.arange(len(out)) / AUDIO_RATE)
    assert np.abs(out - expected).max() < 0.01
