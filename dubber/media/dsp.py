"""Signal helpers on float32 mono arrays: levels, pitch, pitch-preserving time-stretch."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

SILENCE_DB = -120.0
YIN_THRESHOLD = 0.2  # 0.15 missed breathy male speech: no pitch on 1 of the 12 shared clips
MAX_PITCH_FRAMES = 40  # frames analysed per call, spread evenly: enough for a stable median
STRETCH_FRAME_SECONDS = 0.03  # WSOLA frame: a few pitch periods of speech
STRETCH_SEARCH_SECONDS = 0.01  # how far a frame may shift to line up with the previous one


def rms_db(samples: np.ndarray) -> float:
    """RMS level in dB full scale (-120 for silence)."""
    if samples.size == 0:
        return SILENCE_DB
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20 * np.log10(rms) if rms > 1e-6 else SILENCE_DB


def estimate_pitch(samples: np.ndarray, sample_rate: int) -> float | None:
    """Median fundamental frequency (Hz) of the voiced 40 ms frames, by the YIN method.

    Good enough to tell a typical male voice (~85-155 Hz) from a typical female one
    (~165-255 Hz); None when too little of the audio is voiced.
    """
    frame = int(0.04 * sample_rate)
    min_lag, max_lag = int(sample_rate / 400), int(sample_rate / 60)
    floor = max(float(np.abs(samples).max(initial=0.0)) * 0.1, 1e-4)
    pitches = []
    hop = max(frame, len(samples) // MAX_PITCH_FRAMES)
    for begin in range(0, len(samples) - frame - max_lag, hop):
        chunk = samples[begin : begin + frame + max_lag].astype(np.float64)
        if np.abs(chunk[:frame]).max() < floor:
            continue
        lag = _yin_lag(chunk, frame, min_lag, max_lag)
        if lag:
            pitches.append(sample_rate / lag)
    return float(np.median(pitches)) if len(pitches) >= 5 else None


def _yin_lag(chunk: np.ndarray, frame: int, min_lag: int, max_lag: int) -> int | None:
    """The first lag whose cumulative-mean-normalised difference dips under YIN_THRESHOLD."""
    head = chunk[:frame]
    energy = np.concatenate(([0.0], np.cumsum(chunk**2)))
    lags = np.arange(1, max_lag + 1)
    shifted = energy[lags + frame] - energy[lags]
    cross = np.correlate(chunk[1 : frame + max_lag], head, mode="valid")[:max_lag]
    difference = energy[frame] + shifted - 2 * cross
    normalised = difference * lags / np.maximum(np.cumsum(difference), 1e-12)
    below = np.flatnonzero(normalised[min_lag - 1 :] < YIN_THRESHOLD)
    if below.size == 0:
        return None
    index = below[0] + min_lag - 1
    while index + 1 < len(normalised) and normalised[index + 1] < normalised[index]:
        index += 1
    return int(lags[index])


def time_stretch(samples: np.ndarray, sample_rate: int, factor: float) -> np.ndarray:
    """Make audio `factor` times faster without changing its pitch (WSOLA, in process).

    Frames of STRETCH_FRAME_SECONDS are taken from the input every `factor` half-frames, each
    shifted by up to STRETCH_SEARCH_SECONDS to where it best continues the previous frame
    (cross-correlation), and overlap-added with a Hann window every half-frame.
    """
    if abs(factor - 1.0) < 1e-3 or samples.size == 0:
        return samples
    hop = max(int(STRETCH_FRAME_SECONDS * sample_rate) // 2, 1)
    frame, search = 2 * hop, int(STRETCH_SEARCH_SECONDS * sample_rate)
    length = round(len(samples) / factor)
    count = length // hop + 2
    padded = np.zeros(hop + search + round(count * hop * factor) + frame + 2 * search, np.float32)
    padded[hop + search : hop + search + len(samples)] = samples
    window = np.hanning(frame + 1)[:frame].astype(np.float32)  # periodic: halves overlap to 1
    out = np.zeros(count * hop + frame, np.float32)
    start = search
    for k in range(count):
        nominal = search + round(k * hop * factor)
        if k:
            follow = padded[start + hop : start + hop + frame]
            region = padded[nominal - search : nominal + search + frame]
            nominal += int(np.argmax(np.correlate(region, follow, mode="valid"))) - search
        start = nominal
        out[k * hop : k * hop + frame] += window * padded[start : start + frame]
    return out[hop : hop + length]


def with_pauses(pieces: Iterable[np.ndarray], pause_samples: int) -> Iterator[np.ndarray]:
    """Each piece (float32) followed by `pause_samples` of silence, but the last; lazily."""
    gap = np.zeros(max(pause_samples, 0), np.float32)
    held: np.ndarray | None = None
    for piece in pieces:
        if held is not None:
            yield np.concatenate([held, gap]).astype(np.float32)
        held = piece
    if held is not None:
        yield held.astype(np.float32)


def join_with_pauses(pieces: list[np.ndarray], pause_samples: int) -> np.ndarray:
    """Concatenate audio pieces with `pause_samples` of silence between them (float32)."""
    joined = list(with_pauses(pieces, pause_samples))
    return np.concatenate(joined) if joined else np.zeros(0, np.float32)


def trim_silence(samples: np.ndarray, sample_rate: int, floor_db: float = -40.0) -> np.ndarray:
    """Cut leading and trailing stretches quieter than `floor_db` below the loudest 10 ms frame."""
    frame = sample_rate // 100
    count = len(samples) // frame
    if count == 0:
        return samples
    rms = np.sqrt(np.mean(np.square(samples[: count * frame].reshape(count, frame)), axis=1))
    loud = np.flatnonzero(rms > rms.max() * 10 ** (floor_db / 20))
    if loud.size == 0:
        return samples[:0]
    margin = 2 * frame
    return samples[max(0, loud[0] * frame - margin) : (loud[-1] + 1) * frame + margin]
