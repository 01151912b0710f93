"""Short test media built from real recordings in ../shared/data with ffmpeg."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np

from dubber.media.decode import decode_audio, write_wav
from dubber.media.ffmpeg import binary

RATE = 16000
TONE_HZ = 55.0  # below any voice's pitch, so its level shows the background alone
TONE_LEVEL = 0.05


def speech_with_pauses(
    clips: list[Path], pause: float = 1.5
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Clips joined with pauses (and a lead-in); returns samples and each clip's span."""
    gap = np.zeros(int(pause * RATE), np.float32)
    parts, spans, cursor = [gap], [], pause
    for clip in clips:
        audio = decode_audio(clip)
        parts += [audio, gap]
        spans.append((cursor, cursor + len(audio) / RATE))
        cursor += len(audio) / RATE + pause
    return np.concatenate(parts), spans


def with_tone(speech: np.ndarray) -> np.ndarray:
    """Speech over a steady low tone standing in for music."""
    t = np.arange(len(speech)) / RATE
    return (speech + TONE_LEVEL * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)


def ffmpeg(*arguments: str) -> None:
    subprocess.run(
        [binary("ffmpeg"), "-nostdin", "-loglevel", "error", "-y", *arguments], check=True
    )


def make_video(audio: np.ndarray | None, path: Path, seconds: float | None = None) -> Path:
    """An H.264 MP4 of a test picture with `audio` (AAC), or `seconds` of picture alone."""
    if audio is not None:
        seconds = len(audio) / RATE
    picture = ["-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=25:duration={seconds:.3f}"]
    encode = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio is None:
        ffmpeg(*picture, *encode, str(path))
        return path
    wav = path.with_suffix(".source.wav")
    write_wav(wav, audio, RATE)
    ffmpeg(*picture, "-i", str(wav), *encode, "-c:a", "aac", "-shortest", str(path))
    wav.unlink()
    return path


def video_packet_hashes(path: Path) -> list[str]:
    """ffmpeg's per-packet MD5 lines of the video stream (stream copy, no decode)."""
    out = subprocess.run(
        [
            binary("ffmpeg"),
            "-nostdin",
            "-loglevel",
            "error",
            "-i",
            str(path),
            "-map",
            "0:v",
            "-c",
            "copy",
            "-f",
            "framemd5",
            "-",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [line.split(",")[-1].strip() for line in out.splitlines() if not line.startswith("#")]


def tone_level_db(audio: np.ndarray, rate: int, start: float, end: float) -> float:
    """Level (dB) of the test tone between two times, measured at its frequency alone."""
    piece = audio[int(start * rate) : int(end * rate)].astype(np.float64)
    t = np.arange(len(piece)) / rate
    amplitude = 2 * abs(np.mean(piece * np.exp(-2j * np.pi * TONE_HZ * t)))
    return 20 * np.log10(max(amplitude, 1e-9))


def streams(path: Path) -> list[dict]:
    """ffprobe's description of every stream of a media file."""
    out = subprocess.run(
        [binary("ffprobe"), "-v", "error", "-print_format", "json", "-show_streams", str(path)],
        check=True,
        capture_output=True,
    ).stdout
    return json.loads(out)["streams"]


def stream_seconds(path: Path, kind: str) -> float:
    """Duration of the first stream of `kind` (audio, video)."""
    stream = next(s for s in streams(path) if s["codec_type"] == kind)
    return float(stream["duration"])


def languages(path: Path, kind: str) -> list[str]:
    """The language tags of the streams of `kind`, in order."""
    return [s.get("tags", {}).get("language", "") for s in streams(path) if s["codec_type"] == kind]
