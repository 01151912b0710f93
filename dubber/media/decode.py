"""Audio in and out of files: any media decoded to float32 PCM, resampling, and 16-bit WAV
files."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from dubber.errors import UsageError
from dubber.media.ffmpeg import last_line, pcm_input_arguments, run, run_ffmpeg
from dubber.media.probe import check_input_file
from dubber.outputs import atomic_path

AUDIO_RATE = 16000  # Hz: what Whisper, Silero VAD and every recogniser input is sampled at


def decode_audio(path: Path, sample_rate: int = AUDIO_RATE, channels: int = 1) -> np.ndarray:
    """Decode the first audio stream to float32 at `sample_rate` with ffmpeg.

    Mono gives shape (samples,); more channels give (samples, channels).
    """
    path = check_input_file(path)
    arguments = ["-i", str(path), "-map", "0:a:0", "-f", "f32le", "-acodec", "pcm_f32le"]
    arguments += ["-ac", str(channels), "-ar", str(sample_rate), "pipe:"]
    done = run("ffmpeg", arguments)
    if done.returncode != 0:
        reason = last_line(done.stderr)
        if "matches no streams" in reason:
            raise UsageError(f"{path} has no audio stream")
        raise UsageError(f"cannot decode audio from {path}: {reason.removeprefix(f'{path}: ')}")
    samples = np.frombuffer(done.stdout, dtype=np.float32)
    if samples.size == 0:
        raise UsageError(f"{path} holds no decodable audio")
    return samples.copy() if channels == 1 else samples.reshape(-1, channels).copy()


def resample(samples: np.ndarray, sample_rate: int, target_rate: int) -> np.ndarray:
    """Mono float32 audio at another sample rate (ffmpeg's resampler)."""
    if sample_rate == target_rate or samples.size == 0:
        return samples
    arguments = [
        *pcm_input_arguments(samples, sample_rate),
        "-ar",
        str(target_rate),
        "-f",
        "f32le",
        "pipe:",
    ]
    converted = run_ffmpeg(arguments, stdin=samples.astype("<f4").tobytes())
    return np.frombuffer(converted, dtype="<f4").astype(np.float32)


def to_pcm16(samples: np.ndarray) -> np.ndarray:
    """float32 in [-1, 1] to little-endian 16-bit integers, clipping overs."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    """Write mono float32 samples as a 16-bit PCM WAV file, atomically."""
    with atomic_path(Path(path)) as tmp, wave.open(str(tmp), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(to_pcm16(samples).tobytes())


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Read a 16-bit PCM WAV file as mono float32 and its sample rate."""
    with wave.open(str(path), "rb") as source:
        channels, rate = source.getnchannels(), source.getframerate()
        data = np.frombuffer(source.readframes(source.getnframes()), dtype="<i2")
    samples = data.astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples, rate
