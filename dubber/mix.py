"""The dub track and its mix with the original sound: ducking with smooth ramps."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

import numpy as np

_ENVELOPE_RATE = 100  # gain envelope frames per second


class Background(str, Enum):
    """What happens to the original sound under the dub."""

    duck = "duck"
    keep = "keep"
    none = "none"


@dataclass(frozen=True)
class MixRules:
    """How the original is lowered while the dub speaks."""

    background: Background = Background.duck
    duck_db: float = -15.0
    ramp: float = 0.25


def place_clips(
    clips: Iterable[tuple[float, np.ndarray]], length: int, sample_rate: int
) -> np.ndarray:
    """A silent track of `length` samples with each (start seconds, samples) clip added in."""
    track = np.zeros(length, np.float32)
    for start, samples in clips:
        begin = min(max(int(round(start * sample_rate)), 0), length)
        piece = samples[: length - begin]
        track[begin : begin + len(piece)] += piece
    return track


def duck_gain(
    regions: Iterable[tuple[float, float]], length: int, sample_rate: int, rules: MixRules
) -> np.ndarray:
    """Per-sample gain for the original: `duck_db` inside regions, 0 dB outside, linear ramps.

    Each ramp ends as the region starts and begins as it ends, so speech is never masked.
    """
    frames = int(np.ceil(length / sample_rate * _ENVELOPE_RATE)) + 1
    mask = np.zeros(frames)
    half = rules.ramp / 2
    for start, end in regions:
        lo = max(int((start - half) * _ENVELOPE_RATE), 0)
        hi = min(int(np.ceil((end + half) * _ENVELOPE_RATE)), frames)
        mask[lo:hi] = 1.0
    width = max(int(rules.ramp * _ENVELOPE_RATE), 1)
    smooth = np.convolve(mask, np.ones(width) / width, mode="same")
    gain_frames = 10 ** (rules.duck_db * smooth / 20)
    times = np.arange(length) / sample_rate
    return np.interp(times, np.arange(frames) / _ENVELOPE_RATE, gain_frames).astype(np.float32)


def mix(
    original: np.ndarray,
    dub: np.ndarray,
    regions: Iterable[tuple[float, float]],
    sample_rate: int,
    rules: MixRules = MixRules(),
) -> np.ndarray:
    """Mix a mono dub track over the original (samples x channels); same shape as the original."""
    if rules.background is Background.none:
        background = np.zeros_like(original)
    elif rules.background is Background.keep:
        background = original
    else:
        background = original * duck_gain(regions, len(original), sample_rate, rules)[:, None]
    return (background + dub[:, None]).astype(np.float32)
