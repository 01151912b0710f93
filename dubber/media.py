"""ffmpeg at the edges: find it, probe media, decode to PCM, write WAV."""

from __future__ import annotations

import functools
import json
import logging
import re
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dubber.errors import DubberError, UsageError
from dubber.fsutil import atomic_path

log = logging.getLogger(__name__)

ASR_SAMPLE_RATE = 16000


@functools.cache
def ffmpeg_binary() -> str:
    """The system `ffmpeg` when present, else the one imageio-ffmpeg ships."""
    if system := shutil.which("ffmpeg"):
        return system
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as error:
        raise DubberError("ffmpeg not found: install it (apt-get install ffmpeg)") from error


@dataclass(frozen=True)
class MediaInfo:
    """What a media file holds."""

    path: Path
    duration: float
    has_audio: bool
    has_video: bool
    audio_sample_rate: int | None
    audio_channels: int | None


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
    """Read the container's streams and duration (through FFmpeg's libraries, via PyAV)."""
    import av

    path = check_input_file(path)
    try:
        with av.open(str(path)) as container:
            audio = next(iter(container.streams.audio), None)
            video = next(iter(container.streams.video), None)
            duration = _container_duration(container)
    except av.FFmpegError as error:
        raise UsageError(
            f"{path} is not a readable audio or video file ({error.strerror})"
        ) from None
    return MediaInfo(
        path=path,
        duration=duration,
        has_audio=audio is not None,
        has_video=video is not None,
        audio_sample_rate=audio.codec_context.sample_rate if audio else None,
        audio_channels=audio.codec_context.channels if audio else None,
    )


def _container_duration(container) -> float:  # noqa: ANN001 - av.container.InputContainer
    if container.duration is not None:
        return container.duration / 1_000_000
    longest = 0.0
    for stream in container.streams:
        if stream.duration is not None and stream.time_base is not None:
            longest = max(longest, float(stream.duration * stream.time_base))
    return longest


def decode_audio(path: Path, sample_rate: int = ASR_SAMPLE_RATE, channels: int = 1) -> np.ndarray:
    """Decode the first audio stream to float32 at `sample_rate` with ffmpeg.

    Mono gives shape (samples,); more channels give (samples, channels).
    """
    import ffmpeg

    info = probe(path)
    if not info.has_audio:
        raise UsageError(f"{path} has no audio stream")
    try:
        pcm, _ = (
            ffmpeg.input(str(path))
            .output(
                "pipe:",
                format="f32le",
                acodec="pcm_f32le",
                ac=channels,
                ar=sample_rate,
                map="0:a:0",
            )
            .global_args("-nostdin", "-hide_banner", "-loglevel", "error")
            .run(cmd=ffmpeg_binary(), capture_stdout=True, capture_stderr=True)
        )
    except ffmpeg.Error as error:
        raise UsageError(f"cannot decode audio from {path}: {_last_line(error.stderr)}") from None
    samples = np.frombuffer(pcm, dtype=np.float32)
    if samples.size == 0:
        raise UsageError(f"{path} holds no decodable audio")
    return samples.copy() if channels == 1 else samples.reshape(-1, channels).copy()


def _last_line(stderr: bytes) -> str:
    lines = stderr.decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else "ffmpeg failed"


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


_AUDIO_CODECS = {".mp4": "aac", ".m4v": "aac", ".mov": "aac", ".mkv": "aac", ".webm": "libopus"}
_SUBTITLE_CODECS = {".mp4": "mov_text", ".m4v": "mov_text", ".mov": "mov_text", ".mkv": "srt"}
_ISO639_2 = {"en": "eng", "es": "spa"}
_SINGLE_AUDIO_TRACK = {".wav", ".mp3", ".flac", ".aac", ".opus"}
LOUDNESS_TARGET = {"I": -16.0, "TP": -1.5, "LRA": 11.0}


def ffmpeg_pcm_arguments(samples: np.ndarray, sample_rate: int) -> list[str]:
    """ffmpeg input arguments for float32 samples piped on stdin."""
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    return ["-f", "f32le", "-ar", str(sample_rate), "-ac", str(channels), "-i", "pipe:"]


def run_ffmpeg(arguments: list[str], stdin: bytes | None = None) -> bytes:
    """Run ffmpeg quietly; a failure becomes a DubberError with ffmpeg's last message. Returns
    its standard output."""
    command = [ffmpeg_binary(), "-nostdin", "-hide_banner", "-loglevel", "error", *arguments]
    done = subprocess.run(command, input=stdin, capture_output=True)
    if done.returncode != 0:
        raise DubberError(f"ffmpeg failed: {_last_line(done.stderr)}")
    return done.stdout


def measure_loudness(samples: np.ndarray, sample_rate: int) -> dict[str, str]:
    """EBU R128 measurements of the audio (first pass of ffmpeg's loudnorm)."""
    target = ":".join(f"{k}={v}" for k, v in LOUDNESS_TARGET.items())
    report = subprocess.run(
        [ffmpeg_binary(), "-nostdin", "-hide_banner", *ffmpeg_pcm_arguments(samples, sample_rate),
         "-af", f"loudnorm={target}:print_format=json", "-f", "null", "-"],
        input=samples.astype("<f4").tobytes(), capture_output=True,
    ).stderr.decode(errors="replace")  # fmt: skip
    match = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", report)
    if not match:
        raise DubberError("ffmpeg could not measure the loudness of the mix")
    return json.loads(match.group())


def _loudnorm_filter(measured: dict[str, str]) -> str:
    target = ":".join(f"{k}={v}" for k, v in LOUDNESS_TARGET.items())
    return (
        f"loudnorm={target}:measured_I={measured['input_i']}:measured_TP={measured['input_tp']}"
        f":measured_LRA={measured['input_lra']}:measured_thresh={measured['input_thresh']}"
        f":offset={measured['target_offset']}:linear=true"
    )


@dataclass(frozen=True)
class SubtitleTrack:
    """A subtitle file to embed, and its language (ISO 639-1)."""

    path: Path
    language: str


def mux_dub(
    source: Path,
    mix: np.ndarray,
    sample_rate: int,
    output: Path,
    language: str,
    subtitles: list[SubtitleTrack],
    keep_original_audio: bool = False,
    source_language: str = "en",
) -> None:
    """Write `output`: the source's video streams copied bit for bit, the mix as its audio
    (loudness-normalised, tagged with `language`), optionally the original audio as a second
    track, and soft subtitles where the container takes them. Audio-only sources give audio."""
    info = probe(source)
    suffix = output.suffix.lower()
    if keep_original_audio and suffix in _SINGLE_AUDIO_TRACK:
        raise UsageError(f"{suffix} files hold one audio track: drop --keep-original-audio")
    embed = subtitles if info.has_video and suffix in _SUBTITLE_CODECS else []
    codec = _AUDIO_CODECS.get(suffix) if info.has_video else None
    arguments = ["-i", str(source), *ffmpeg_pcm_arguments(mix, sample_rate)]
    for track in embed:
        arguments += ["-i", str(track.path)]
    arguments += ["-map", "0:v?", "-map", "1:a"]
    arguments += ["-map", "0:a:0"] if keep_original_audio else []
    for index, track in enumerate(embed):
        arguments += ["-map", f"{index + 2}:0", f"-c:s:{index}", _SUBTITLE_CODECS[suffix]]
        arguments += [f"-metadata:s:s:{index}", f"language={_iso639_2(track.language)}"]
    arguments += [
        "-c:v",
        "copy",
        "-filter:a:0",
        _loudnorm_filter(measure_loudness(mix, sample_rate)),
    ]
    arguments += ["-ar:a:0", str(sample_rate)]
    arguments += ["-c:a", codec, "-b:a", "160k"] if codec else []
    arguments += [
        "-metadata:s:a:0",
        f"language={_iso639_2(language)}",
        "-disposition:a:0",
        "default",
    ]
    if keep_original_audio:
        arguments += ["-metadata:s:a:1", f"language={_iso639_2(source_language)}"]
        arguments += ["-disposition:a:1", "0"]
    with atomic_path(output) as tmp:
        run_ffmpeg([*arguments, "-y", str(tmp)], stdin=mix.astype("<f4").tobytes())


def _iso639_2(language: str) -> str:
    return _ISO639_2.get(language, language)
