"""ffmpeg at the edges: find it, probe media, decode to PCM, write WAV."""

from __future__ import annotations

import functools
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
from dubber.media.mix import RawAudio

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
LOUDNESS_TARGET = -16.0  # LUFS, EBU R128 integrated (the usual target for online video)
PEAK_CEILING = -1.0  # dBFS
SILENCE_LUFS = -70.0  # the R128 absolute gate: nothing louder was measured
MIX_RATE = 48000
AUDIO_KBPS_PER_CHANNEL = 96


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


def _mix_graph(channels: int) -> str:
    """ffmpeg filters: original x gain + voice, at MIX_RATE, in the original's channel layout."""
    layout = "stereo" if channels == 2 else "mono"
    spread = f"pan={layout}|" + "|".join(f"c{i}=c0" for i in range(channels))
    return (
        f"[0:a:0]aresample={MIX_RATE},aformat=sample_fmts=fltp:channel_layouts={layout}[original];"
        f"[2:a]aresample={MIX_RATE},{spread},aformat=sample_fmts=fltp[gain];"
        f"[1:a]aresample={MIX_RATE},{spread},aformat=sample_fmts=fltp[voice];"
        "[original][gain]amultiply[under];"
        "[under][voice]amix=inputs=2:normalize=0:duration=first[mix]"
    )


def _mix_inputs(source: Path, voice: RawAudio, gain: RawAudio) -> list[str]:
    raw = ["-f", "f32le", "-ac", "1"]
    return [
        "-i", str(source),
        *raw, "-ar", str(voice.sample_rate), "-i", str(voice.path),
        *raw, "-ar", str(gain.sample_rate), "-i", str(gain.path),
    ]  # fmt: skip


@dataclass(frozen=True)
class Loudness:
    """EBU R128 integrated loudness (LUFS) and sample peak (dBFS) of a mix."""

    integrated: float
    peak: float

    def gain_db(self) -> float:
        """The gain that brings the mix to LOUDNESS_TARGET without its peak passing PEAK_CEILING."""
        if self.integrated <= SILENCE_LUFS:
            return 0.0
        return min(LOUDNESS_TARGET - self.integrated, PEAK_CEILING - self.peak)


def measure_loudness(source: Path, voice: RawAudio, gain: RawAudio, channels: int) -> Loudness:
    """Measure the mix with ffmpeg's EBU R128 meter (a first pass that writes nothing)."""
    graph = f"{_mix_graph(channels)};[mix]ebur128=framelog=verbose:peak=sample[out]"
    command = [ffmpeg_binary(), "-nostdin", "-hide_banner", *_mix_inputs(source, voice, gain),
               "-filter_complex", graph, "-map", "[out]", "-f", "null", "-"]  # fmt: skip
    report = subprocess.run(command, capture_output=True).stderr.decode(errors="replace")
    # A filter graph that ffmpeg configures twice prints an empty summary first: take the last.
    integrated = re.findall(r"Integrated loudness:\s+I:\s+(-?[\d.]+|-inf) LUFS", report)
    peak = re.findall(r"Sample peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", report)
    if not integrated or not peak:
        raise DubberError(f"ffmpeg could not mix the dub: {_last_line(report.encode())}")
    return Loudness(float(integrated[-1]), float(peak[-1]))


@dataclass(frozen=True)
class SubtitleTrack:
    """A subtitle file to embed, and its language (ISO 639-1)."""

    path: Path
    language: str


def mux_dub(
    source: Path,
    voice: RawAudio,
    gain: RawAudio,
    output: Path,
    language: str,
    subtitles: list[SubtitleTrack],
    keep_original_audio: bool = False,
    source_language: str = "en",
) -> None:
    """Write `output`: the source's video streams copied bit for bit; as its audio the original
    times `gain` plus `voice`, loudness-normalised (EBU R128) and tagged with `language`;
    optionally the original audio as a second track; soft subtitles where the container takes
    them. Audio-only sources give audio. Memory stays flat: ffmpeg streams everything."""
    info = probe(source)
    suffix = output.suffix.lower()
    if keep_original_audio and suffix in _SINGLE_AUDIO_TRACK:
        raise UsageError(f"{suffix} files hold one audio track: drop --keep-original-audio")
    channels = min(info.audio_channels or 1, 2)
    loudness = measure_loudness(source, voice, gain, channels)
    embed = subtitles if info.has_video and suffix in _SUBTITLE_CODECS else []
    codec = _AUDIO_CODECS.get(suffix) if info.has_video else None
    graph = f"{_mix_graph(channels)};[mix]volume={loudness.gain_db():.2f}dB[dub]"
    arguments = [*_mix_inputs(source, voice, gain), "-filter_complex", graph]
    for track in embed:
        arguments += ["-i", str(track.path)]
    arguments += ["-map", "0:v?", "-map", "[dub]"]
    arguments += ["-map", "0:a:0"] if keep_original_audio else []
    for index, track in enumerate(embed):
        arguments += ["-map", f"{index + 3}:0", f"-c:s:{index}", _SUBTITLE_CODECS[suffix]]
        arguments += [f"-metadata:s:s:{index}", f"language={_iso639_2(track.language)}"]
    arguments += ["-c:v", "copy", "-ar:a:0", str(MIX_RATE)]
    if codec:
        arguments += ["-c:a:0", codec, "-b:a:0", f"{AUDIO_KBPS_PER_CHANNEL * channels}k"]
    if codec == "aac":  # the default "twoloop" coder took 2.7x as long for no audible gain
        arguments += ["-aac_coder:a:0", "fast"]
    arguments += ["-c:a:1", "copy"] if keep_original_audio else []
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
        run_ffmpeg([*arguments, "-y", str(tmp)])


def _iso639_2(language: str) -> str:
    return _ISO639_2.get(language, language)
