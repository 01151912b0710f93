"""Mixing the dub voice over the original and writing the dubbed file: the video copied bit for
bit, the mix loudness-normalised (EBU R128), tracks tagged by language, subtitles embedded."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from dubber.errors import DubberError, UsageError
from dubber.media import ffmpeg
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


@dataclass(frozen=True)
class MixInputs:
    """The three inputs of the mix: the original file, the dub voice and the ducking gain."""

    original: ffmpeg.Stream
    voice: ffmpeg.Stream
    gain: ffmpeg.Stream

    @classmethod
    def of(cls, original: Path, voice: RawAudio, gain: RawAudio, start: float = 0.0) -> MixInputs:
        """The inputs read from `start` seconds on."""
        seek = {"ss": f"{start:.6f}"} if start else {}
        raw = {**seek, "format": "f32le", "ac": 1}
        return cls(
            ffmpeg.source(original, **seek),
            ffmpeg.source(voice.path, **raw, ar=voice.sample_rate)["a"],
            ffmpeg.source(gain.path, **raw, ar=gain.sample_rate)["a"],
        )

    def mix(self, channels: int) -> ffmpeg.Stream:
        """Original x gain + voice, at MIX_RATE, in the original's channel layout."""
        layout = "stereo" if channels == 2 else "mono"
        spread = {"map": "|".join(f"0-{i}" for i in range(channels)), "channel_layout": layout}

        def at_mix_rate(stream: ffmpeg.Stream, **formats: str) -> ffmpeg.Stream:
            return stream.filter("aresample", MIX_RATE).filter(
                "aformat", sample_fmts="fltp", **formats
            )

        original = at_mix_rate(self.original["a:0"], channel_layouts=layout)
        gain = at_mix_rate(self.gain.filter("channelmap", **spread))
        voice = at_mix_rate(self.voice.filter("channelmap", **spread))
        under = ffmpeg.combine([original, gain], "amultiply")
        return ffmpeg.combine([under, voice], "amix", inputs=2, normalize=0, duration="first")

    def dub(self, channels: int, gain_db: float) -> ffmpeg.Stream:
        """The mix with the loudness gain applied."""
        return self.mix(channels).filter("volume", f"{gain_db:.2f}dB")


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
    meter = (
        MixInputs.of(source, voice, gain)
        .mix(channels)
        .filter("ebur128", framelog="verbose", peak="sample")
    )
    measured = ffmpeg.run(ffmpeg.output(meter, path="-", format="null"), loglevel="info")
    report = measured.stderr.decode(errors="replace")
    # A filter graph that ffmpeg configures twice prints an empty summary first: take the last.
    integrated = re.findall(r"Integrated loudness:\s+I:\s+(-?[\d.]+|-inf) LUFS", report)
    peak = re.findall(r"Sample peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", report)
    if not integrated or not peak:
        raise DubberError(f"ffmpeg could not mix the dub: {ffmpeg.last_line(report.encode())}")
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
    suffix = output.suffix.lower()
    check_output(media, output, keep_original_audio)
    channels = min(media.audio_channels or 1, 2)
    loudness = measure_loudness(media.path, voice, gain, channels)
    embed = subtitles if media.has_video and suffix in _SUBTITLE_CODECS else []
    codec = _AUDIO_CODECS.get(suffix) if media.has_video else None
    inputs = MixInputs.of(media.path, voice, gain)
    streams = [inputs.original["v?"], inputs.dub(channels, loudness.gain_db())]
    streams += [inputs.original["a:0"]] if keep_original_audio else []
    options: dict[str, object] = {"c:v": "copy", "ar:a:0": MIX_RATE}
    options |= audio_encoder_options(codec, channels, ":a:0") if codec else {}
    options |= {"c:a:1": "copy"} if keep_original_audio else {}
    tracks = TrackTags(embed, language, keep_original_audio, source_language)
    ffmpeg.run_ffmpeg(tracks.output(streams, output, **options))
    check_written(output, media.duration)
    return loudness.gain_db()


def audio_encoder_options(codec: str, channels: int, stream: str = "") -> dict[str, object]:
    """The dub track's encoder: `codec` at AUDIO_KBPS_PER_CHANNEL (for `stream`, e.g. ":a:0")."""
    options: dict[str, object] = {f"c{stream}": codec}
    options[f"b{stream}"] = f"{AUDIO_KBPS_PER_CHANNEL * channels}k"
    if codec == "aac":  # the default "twoloop" coder took 2.7x as long for no audible gain
        options[f"aac_coder{stream}"] = "fast"
    return options


@dataclass(frozen=True)
class TrackTags:
    """What follows the audio in a dubbed file: `subtitles` in the container's subtitle codec,
    each track's language, the dub track as the default (the original's after it, if kept)."""

    subtitles: list[SubtitleTrack]
    language: str
    keep_original_audio: bool
    source_language: str

    def output(
        self, streams: list[ffmpeg.Stream], target: Path, **options: object
    ) -> ffmpeg.Output:
        """`streams` (video, dub, original audio) then the subtitles, written to `target`."""
        for index, track in enumerate(self.subtitles):
            streams = [*streams, ffmpeg.source(track.path)["0"]]
            options[f"c:s:{index}"] = _SUBTITLE_CODECS[target.suffix.lower()]
            options[f"metadata:s:s:{index}"] = f"language={_iso639_2(track.language)}"
        options["metadata:s:a:0"] = f"language={_iso639_2(self.language)}"
        options["disposition:a:0"] = "default"
        if self.keep_original_audio:
            options["metadata:s:a:1"] = f"language={_iso639_2(self.source_language)}"
            options["disposition:a:1"] = "0"
        return ffmpeg.output(*streams, path=target, **options)


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
