"""Mixing the dub voice over the original and writing the dubbed file: the video copied bit for
bit, the mix loudness-normalised (EBU R128), tracks tagged by language, subtitles embedded."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from dubber.errors import DubberError, UsageError
from dubber.media.ffmpeg import last_line, run, run_ffmpeg
from dubber.media.mix import RawAudio
from dubber.media.probe import MediaInfo, probe

_AUDIO_CODECS = {".mp4": "aac", ".m4v": "aac", ".mov": "aac", ".mkv": "aac", ".webm": "libopus"}
_SUBTITLE_CODECS = {".mp4": "mov_text", ".m4v": "mov_text", ".mov": "mov_text", ".mkv": "srt"}
_ISO639_2 = {"en": "eng", "es": "spa"}
_SINGLE_AUDIO_TRACK = {".wav", ".mp3", ".flac", ".aac", ".opus"}
VIDEO_FORMATS = (".mp4", ".mkv", ".mov", ".m4v", ".webm", ".avi")
AUDIO_FORMATS = (".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".opus", *VIDEO_FORMATS)
LOUDNESS_TARGET = -16.0  # LUFS, EBU R128 integrated (the usual target for online video)
PEAK_CEILING = -1.0  # dBFS
SILENCE_LUFS = -70.0  # the R128 absolute gate: nothing louder was measured
MIX_RATE = 48000
AUDIO_KBPS_PER_CHANNEL = 96


def mix_graph(channels: int) -> str:
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


def dub_graph(channels: int, gain_db: float) -> str:
    """The mix graph with the loudness gain applied, out as [dub]."""
    return f"{mix_graph(channels)};[mix]volume={gain_db:.2f}dB[dub]"


def mix_inputs(source: Path, voice: RawAudio, gain: RawAudio, start: float = 0.0) -> list[str]:
    """ffmpeg inputs 0-2 of the mix (the original, the voice, the gain), from `start` seconds."""
    seek = ["-ss", f"{start:.6f}"] if start else []
    raw = [*seek, "-f", "f32le", "-ac", "1"]
    return [
        *seek, "-i", str(source),
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
    graph = f"{mix_graph(channels)};[mix]ebur128=framelog=verbose:peak=sample[out]"
    arguments = [*mix_inputs(source, voice, gain), "-filter_complex", graph,
                 "-map", "[out]", "-f", "null", "-"]  # fmt: skip
    report = run("ffmpeg", arguments, loglevel="info").stderr.decode(errors="replace")
    # A filter graph that ffmpeg configures twice prints an empty summary first: take the last.
    integrated = re.findall(r"Integrated loudness:\s+I:\s+(-?[\d.]+|-inf) LUFS", report)
    peak = re.findall(r"Sample peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", report)
    if not integrated or not peak:
        raise DubberError(f"ffmpeg could not mix the dub: {last_line(report.encode())}")
    return Loudness(float(integrated[-1]), float(peak[-1]))


@dataclass(frozen=True)
class SubtitleTrack:
    """A subtitle file to embed, and its language (ISO 639-1)."""

    path: Path
    language: str


def mux_dub(
    media: MediaInfo,
    voice: RawAudio,
    gain: RawAudio,
    output: Path,
    language: str,
    subtitles: list[SubtitleTrack],
    keep_original_audio: bool = False,
    source_language: str = "en",
) -> float:
    """Write `output`: the source's video streams copied bit for bit; as its audio the original
    times `gain` plus `voice`, loudness-normalised (EBU R128) and tagged with `language`;
    optionally the original audio as a second track; soft subtitles where the container takes
    them. Audio-only sources give audio. Memory stays flat: ffmpeg streams everything.
    `output` is written in place: the caller stages it beside its final name. Returns the
    loudness gain (dB) the mix was given."""
    source, info = media.path, media
    suffix = output.suffix.lower()
    check_output(media, output, keep_original_audio)
    channels = min(info.audio_channels or 1, 2)
    loudness = measure_loudness(source, voice, gain, channels)
    embed = subtitles if info.has_video and suffix in _SUBTITLE_CODECS else []
    codec = _AUDIO_CODECS.get(suffix) if info.has_video else None
    graph = dub_graph(channels, loudness.gain_db())
    arguments = [*mix_inputs(source, voice, gain), "-filter_complex", graph]
    for track in embed:
        arguments += ["-i", str(track.path)]
    arguments += ["-map", "0:v?", "-map", "[dub]"]
    arguments += ["-map", "0:a:0"] if keep_original_audio else []
    arguments += ["-c:v", "copy", "-ar:a:0", str(MIX_RATE)]
    arguments += audio_encoder_arguments(codec, channels, ":a:0") if codec else []
    arguments += ["-c:a:1", "copy"] if keep_original_audio else []
    arguments += track_arguments(output, embed, 3, language, keep_original_audio, source_language)
    run_ffmpeg([*arguments, "-y", str(output)])
    check_written(output, media.duration)
    return loudness.gain_db()


def audio_encoder_arguments(codec: str, channels: int, stream: str = "") -> list[str]:
    """The dub track's encoder: `codec` at AUDIO_KBPS_PER_CHANNEL (for `stream`, e.g. ":a:0")."""
    arguments = [f"-c{stream}", codec, f"-b{stream}", f"{AUDIO_KBPS_PER_CHANNEL * channels}k"]
    if codec == "aac":  # the default "twoloop" coder took 2.7x as long for no audible gain
        arguments += [f"-aac_coder{stream}", "fast"]
    return arguments


def track_arguments(
    output: Path,
    subtitles: list[SubtitleTrack],
    first_input: int,
    language: str,
    keep_original_audio: bool,
    source_language: str,
) -> list[str]:
    """Maps and tags after the audio: `subtitles` (ffmpeg inputs from `first_input` on) in the
    container's subtitle codec, each track's language, the dub track as the default."""
    arguments = []
    for index, track in enumerate(subtitles):
        arguments += ["-map", f"{index + first_input}:0"]
        arguments += [f"-c:s:{index}", _SUBTITLE_CODECS[output.suffix.lower()]]
        arguments += [f"-metadata:s:s:{index}", f"language={_iso639_2(track.language)}"]
    arguments += ["-metadata:s:a:0", f"language={_iso639_2(language)}"]
    arguments += ["-disposition:a:0", "default"]
    if keep_original_audio:
        arguments += ["-metadata:s:a:1", f"language={_iso639_2(source_language)}"]
        arguments += ["-disposition:a:1", "0"]
    return arguments


def check_output(media: MediaInfo, output: Path, keep_original_audio: bool = False) -> None:
    """Refuse, before any work, an output that cannot hold what the dub of `media` writes."""
    suffix = output.suffix.lower()
    if suffix not in (*VIDEO_FORMATS, *AUDIO_FORMATS):
        raise UsageError(
            f"cannot write {output}: '{suffix or 'no suffix'}' is not a media format dubber"
            f" writes (use {', '.join(VIDEO_FORMATS if media.has_video else AUDIO_FORMATS)})"
        )
    if media.has_video and suffix not in VIDEO_FORMATS:
        raise UsageError(
            f"cannot write {output}: {suffix} holds no picture, and {media.path.name} has video"
            f" (use {', '.join(VIDEO_FORMATS)})"
        )
    if suffix == ".webm" and media.video_codec not in (None, "vp8", "vp9", "av1"):
        raise UsageError(
            f"cannot write {output}: WebM holds VP8, VP9 or AV1 video, and the video of"
            f" {media.path.name} is {media.video_codec} (copied as it is): use .mkv or .mp4"
        )
    if keep_original_audio and suffix in _SINGLE_AUDIO_TRACK:
        raise UsageError(f"{suffix} files hold one audio track: drop --keep-original-audio")


def check_written(path: Path, duration: float) -> None:
    """ffmpeg can exit 0 when the disk fills: a file shorter than the input is not an output."""
    try:
        written = probe(path).duration
    except DubberError:
        written = 0.0
    if written >= duration - max(0.5, 0.02 * duration):
        return
    if shutil.disk_usage(path.parent).free < 16 * 2**20:
        raise DubberError(f"no space left on {path.parent}: free some space and dub again")
    raise DubberError(
        f"ffmpeg wrote {written:.1f} of {duration:.1f} s: the output is incomplete, nothing"
        " was written"
    )


def _iso639_2(language: str) -> str:
    return _ISO639_2.get(language, language)
