"""The speaker encoder's input: a 40-band mel power spectrogram of 16 kHz audio (no log).

It matches resemblyzer's `wav_to_mel_spectrogram` (librosa's `melspectrogram` defaults): a 25 ms
periodic Hann window, 10 ms hop, frames centred with zero padding, |STFT|^2, and a Slaney-style
mel filterbank (linear below 1 kHz, logarithmic above, each triangle normalised to unit area).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from dubber.media.decode import AUDIO_RATE

SAMPLE_RATE = AUDIO_RATE  # the encoder was trained at 16 kHz
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
_CHUNK_FRAMES = 8192  # frames per FFT batch: bounds memory on long inputs


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear (3 mels per 200 Hz) up to 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / (200.0 / 3)
    log_part = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, log_part, mel)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    """The inverse of `hz_to_mel`."""
    mel = np.asarray(mel, dtype=np.float64)
    hz = mel * (200.0 / 3)
    log_part = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0))
    return np.where(mel >= 15.0, log_part, hz)


@lru_cache(maxsize=4)
def mel_filterbank(sr: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """Triangular filters (n_mels, 1 + n_fft // 2) from 0 Hz to sr / 2, Slaney area norm."""
    fft_hz = np.linspace(0.0, sr / 2, 1 + n_fft // 2)
    edges = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sr / 2), n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_hz[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    bank = np.maximum(0.0, np.minimum(lower, upper))
    bank *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    bank = bank.astype(np.float32)
    bank.setflags(write=False)
    return bank


@lru_cache(maxsize=4)
def _window(n_fft: int) -> np.ndarray:
    n = np.arange(n_fft)
    return (0.5 - 0.5 * np.cos(2 * np.pi * n / n_fft)).astype(np.float32)  # periodic Hann


def mel_spectrogram(audio: np.ndarray) -> np.ndarray:
    """(1 + len(audio) // 160, 40) float32 mel power frames of 16 kHz mono audio."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    padded = np.pad(audio, (N_FFT // 2, N_FFT // 2))
    n_frames = 1 + len(audio) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:n_frames]
    bank, window = mel_filterbank(), _window(N_FFT)
    out = np.empty((n_frames, N_MELS), dtype=np.float32)
    for start in range(0, n_frames, _CHUNK_FRAMES):
        chunk = frames[start : start + _CHUNK_FRAMES] * window
        spec = np.fft.rfft(chunk, axis=1)
        power = (spec.real**2 + spec.imag**2).astype(np.float32)
        out[start : start + len(chunk)] = power @ bank.T
    return out
