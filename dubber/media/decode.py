"""Audio in and out of files: any media decoded to float32 PCM, resampling, and 16-bit WAV
files."""

from __future__ import annotations

import errno
import mmap
import os
import wave
from pathlib import Path

import numpy as np

from dubber.errors import DubberError, UsageError
from dubber.media import ffmpeg
from dubber.media.probe import check_input_file
from dubber.outputs import atomic_path

AUDIO_RATE = 16000  # Hz: what Whisper, Silero VAD and every recogniser input is sampled at


def decode_audio(path: Path, sample_rate: int = AUDIO_RATE, channels: int = 1) -> np.ndarray:
    """Decode the first audio stream to float32 at `sample_rate` with ffmpeg.

    Mono gives shape (samples,); more channels give (samples, channels).
    """
    samples = np.frombuffer(_decode(path, ffmpeg.PIPE, sample_rate, channels), dtype=np.float32)
    if samples.size == 0:
        raise UsageError(f"{path} holds no decodable audio")
    return samples.copy() if channels == 1 else samples.reshape(-1, channels).copy()


class MappedAudio:
    """An input's 16 kHz mono audio decoded once into a raw float32 file and read through a
    memory map: the pages read stay in memory only until `release`, so a long input costs no
    more memory than a short one. The file is removed as soon as it is mapped (nothing is left
    behind however the process ends; its space returns when the map goes)."""

    def __init__(self, path: Path, raw: Path) -> None:
        try:
            _decode(path, str(raw), AUDIO_RATE, 1)
            with open(raw, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size < 4:
                    raise UsageError(f"{path} holds no decodable audio")
                self._map = mmap.mmap(handle.fileno(), size // 4 * 4, access=mmap.ACCESS_READ)
        finally:
            raw.unlink(missing_ok=True)
        self.samples = np.frombuffer(self._map, dtype="<f4")

    def release(self, end: int) -> None:
        """Let go of the memory holding samples before `end` (read again from the file if
        they are needed after all)."""
        length = min(end * 4, len(self._map)) // mmap.PAGESIZE * mmap.PAGESIZE
        if length > 0 and hasattr(self._map, "madvise"):
            self._map.madvise(mmap.MADV_DONTNEED, 0, length)


def _decode(path: Path, target: str, sample_rate: int, channels: int) -> bytes:
    """Decode the first audio stream of `path` as raw float32 into `target` (a file, or
    ffmpeg.PIPE for the bytes returned); unreadable input is a one-line UsageError."""
    path = check_input_file(path)
    if (converted := _decode_plain_wav(path, target, sample_rate, channels)) is not None:
        return converted
    audio = ffmpeg.source(path)["a:0"]
    pcm = {"format": "f32le", "acodec": "pcm_f32le", "ac": channels, "ar": sample_rate}
    done = ffmpeg.run(ffmpeg.output(audio, path=target, **pcm))
    if done.returncode != 0:
        reason = ffmpeg.last_line(done.stderr)
        if b"matches no streams" in done.stderr:  # not the last line in newer FFmpeg
            raise UsageError(f"{path} has no audio stream")
        if "No space left on device" in reason:
            raise _no_space(target)
        raise UsageError(f"cannot decode audio from {path}: {reason.removeprefix(f'{path}: ')}")
    return done.stdout


def _decode_plain_wav(path: Path, target: str, sample_rate: int, channels: int) -> bytes | None:
    """`_decode` without a process for a 16-bit PCM WAV file already at `sample_rate` with
    `channels` (ffmpeg would only scale its integers to floats); None for any other file."""
    try:
        with wave.open(str(path), "rb") as wav:
            layout = (wav.getsampwidth(), wav.getnchannels(), wav.getframerate())
            if layout != (2, channels, sample_rate) or wav.getnframes() == 0:
                return None
            return _convert_pcm16(wav, target)
    except (wave.Error, EOFError):
        return None


def _convert_pcm16(wav: wave.Wave_read, target: str) -> bytes:
    """The WAV's samples as float32 (x / 32768, as ffmpeg converts them): returned for
    ffmpeg.PIPE, else written to the file `target` ten seconds of audio at a time."""
    if target == ffmpeg.PIPE:
        return _pcm16_to_float(wav.readframes(wav.getnframes()))
    try:
        with open(target, "wb") as raw:
            while frames := wav.readframes(10 * wav.getframerate()):
                raw.write(_pcm16_to_float(frames))
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise _no_space(target) from error
        raise
    return b""


def _pcm16_to_float(frames: bytes) -> bytes:
    whole = len(frames) // 2 * 2  # a file cut inside a sample ends on a byte of it
    return (np.frombuffer(frames[:whole], dtype="<i2") / np.float32(32768)).astype("<f4").tobytes()


def _no_space(target: str) -> DubberError:
    return DubberError(f"no space left on {Path(target).parent}: free some room")


def resample(samples: np.ndarray, sample_rate: int, target_rate: int) -> np.ndarray:
    """Mono float32 audio at another sample rate (ffmpeg's resampler)."""
    if sample_rate == target_rate or samples.size == 0:
        return samples
    pcm = ffmpeg.pcm_source(samples, sample_rate)
    resampled = ffmpeg.output(pcm, path=ffmpeg.PIPE, ar=target_rate, format="f32le")
    converted = ffmpeg.run_ffmpeg(resampled, stdin=ffmpeg.pcm_bytes(samples))
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
