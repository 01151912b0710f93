"""What a media file holds, read once with ffprobe and passed down as a `MediaInfo`."""

from __future__ import annotations

import os
import wave
from dataclasses import dataclass
from pathlib import Path

from dubber.errors import UsageError
from dubber.media import ffmpeg


@dataclass(frozen=True)
class MediaInfo:
    """The streams and duration of a media file."""

    path: Path
    duration: float
    has_audio: bool
    has_video: bool
    audio_sample_rate: int | None
    audio_channels: int | None
    video_codec: str | None = None


def check_input_file(path: Path) -> Path:
    """Reject a path that cannot be a media file, with a message that says why."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"file not found: {path}")
    if path.is_dir():
        raise UsageError(f"{path} is a folder, not a media file")
    if path.stat().st_size == 0:
        raise UsageError(f"{path} is empty (0 bytes)")
    return path


def probe(path: Path) -> MediaInfo:
    """Read the container's streams and duration; a file FFmpeg cannot read is a UsageError.
    A PCM WAV file is read from its header, with no process, as ffprobe reads it."""
    path = check_input_file(path)
    if (plain := _plain_wav_info(path)) is not None:
        return plain
    found, reason = ffmpeg.probe_json(path)
    if found is None:
        raise UsageError(f"{path} is not a readable audio or video file ({reason})")
    streams = found.get("streams", [])
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    video = next(
        (
            s
            for s in streams
            if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")
        ),
        None,
    )
    return MediaInfo(
        path=path,
        duration=_duration(found),
        has_audio=audio is not None,
        has_video=video is not None,
        audio_sample_rate=int(audio["sample_rate"]) if audio and "sample_rate" in audio else None,
        audio_channels=int(audio["channels"]) if audio and "channels" in audio else None,
        video_codec=video.get("codec_name") if video else None,
    )


def _plain_wav_info(path: Path) -> MediaInfo | None:
    """What ffprobe says of a PCM WAV file, from its header: the samples it announces, or as many
    as the file holds when it is shorter (as ffmpeg clamps them); None for any other file."""
    with open(path, "rb") as handle:
        try:
            with wave.open(handle) as wav:
                data_start = handle.tell()  # the header read, the file stands at the samples
                rate, channels = wav.getframerate(), wav.getnchannels()
                held = (os.fstat(handle.fileno()).st_size - data_start) // (
                    wav.getsampwidth() * channels
                )
                frames = min(wav.getnframes(), held)
        except (wave.Error, EOFError):
            return None
    if frames <= 0:
        return None
    microseconds = (frames * 1_000_000 + rate // 2) // rate  # rounded half up, as ffmpeg does
    return MediaInfo(path, microseconds / 1e6, True, False, rate, channels)


def _duration(found: dict) -> float:
    """The container's duration, else the longest stream's, else 0."""
    container = _seconds(found.get("format", {}).get("duration"))
    if container is not None:
        return container
    streams = (_seconds(stream.get("duration")) for stream in found.get("streams", []))
    return max((s for s in streams if s is not None), default=0.0)


def _seconds(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
