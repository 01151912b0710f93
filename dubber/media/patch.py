"""A re-dub of a few lines without mixing and encoding the whole file again: the dub's AAC audio
is encoded anew only over the stretches that changed and spliced, frame for frame, into the
earlier dub's audio; the video and the rest are copied. A 10-minute file costs about what its
changed seconds cost.

AAC codes 1024 samples a frame with windows that overlap the frames beside them, so each
stretch is encoded from a few frames before it (the encoder's priming and warm-up, dropped) to a
few after, and cut at frame boundaries where the old and the new audio are the same sound."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dubber.media import ffmpeg
from dubber.media.mix import RawAudio
from dubber.media.mux import (
    MIX_RATE,
    MixInputs,
    SubtitleTrack,
    TrackTags,
    audio_encoder_options,
    check_written,
)
from dubber.media.probe import MediaInfo

AAC_FRAME = 1024  # samples a frame
LEAD = 3  # frames encoded before and after a stretch and not kept
PATCHABLE_SUFFIXES = {".mp4", ".m4v", ".mov"}  # AAC in an MP4 family container


def can_patch(output: Path, media: MediaInfo) -> bool:
    """Whether a dub of `media` written to `output` can be patched: dubber writes its dub
    track there as AAC in an MP4-family file with the video."""
    return output.suffix.lower() in PATCHABLE_SUFFIXES and media.has_video


def frames_seconds(frames: Sequence[range]) -> float:
    """How many seconds of the dub track `frames` hold."""
    return sum(len(stretch) for stretch in frames) * AAC_FRAME / MIX_RATE


def changed_spans(old: RawAudio, new: RawAudio, chunk_s: float = 0.1) -> list[tuple[float, float]]:
    """Where two raw tracks of one rate differ, in seconds (chunks of `chunk_s`); a length
    that changed counts as a change from the shorter's end."""
    if old.sample_rate != new.sample_rate:
        return [(0.0, float("inf"))]
    a = np.memmap(old.path, dtype="<f4", mode="r")
    b = np.memmap(new.path, dtype="<f4", mode="r")
    chunk = max(int(chunk_s * new.sample_rate), 1)
    common = min(len(a), len(b)) // chunk * chunk
    differs = np.any((a[:common] != b[:common]).reshape(-1, chunk), axis=1)
    spans = [(i * chunk_s, (i + 1) * chunk_s) for i in np.flatnonzero(differs)]
    if len(a) != len(b):
        spans.append((common / new.sample_rate, max(len(a), len(b)) / new.sample_rate))
    return spans


def changed_frames(spans: Sequence[tuple[float, float]], duration: float) -> list[range]:
    """The AAC frames (at MIX_RATE) that hold `spans` (seconds), merged where they touch."""
    last = int(duration * MIX_RATE) // AAC_FRAME + 1
    frames: list[range] = []
    for start, end in sorted(spans):
        start, end = max(start, 0.0), min(end, duration)
        first = int(start * MIX_RATE) // AAC_FRAME
        stop = min(int(end * MIX_RATE) // AAC_FRAME + 2, last)
        if frames and first <= frames[-1].stop + 2 * LEAD:
            first = frames[-1].start
            frames.pop()
        if stop > first:
            frames.append(range(first, stop))
    return frames


def adts_frames(data: bytes) -> list[bytes]:
    """The frames of an ADTS stream (each header says its length)."""
    frames, at = [], 0
    while at + 7 <= len(data):
        if data[at] != 0xFF or data[at + 1] & 0xF0 != 0xF0:
            raise ValueError(f"no ADTS frame at byte {at}")
        length = ((data[at + 3] & 0x03) << 11) | (data[at + 4] << 3) | (data[at + 5] >> 5)
        frames.append(data[at : at + length])
        at += length
    return frames


def patch_dub(
    media: MediaInfo,
    previous: Path,
    voice: RawAudio,
    gain: RawAudio,
    gain_db: float,
    frames: Sequence[range],
    output: Path,
    language: str,
    subtitles: list[SubtitleTrack],
    work: Path,
    keep_original_audio: bool = False,
    source_language: str = "en",
) -> None:
    """Write `output`: `previous` with its dub track's `frames` encoded again from the original,
    `gain` and `voice` (at `gain_db`, the loudness gain the whole dub was given), and
    `subtitles` as its subtitles."""
    channels = min(media.audio_channels or 1, 2)
    old = work / "previous.aac"
    dub_track = ffmpeg.source(previous)["a:0"]
    ffmpeg.run_ffmpeg(ffmpeg.output(dub_track, path=old, format="adts", **{"c:a": "copy"}))
    spliced = adts_frames(old.read_bytes())
    for index, stretch in enumerate(frames):
        first = max(stretch.start - LEAD, 0)
        piece = work / f"stretch-{index}.aac"
        seconds = first * AAC_FRAME / MIX_RATE
        count = len(stretch) + (stretch.start - first) + LEAD
        dub = MixInputs.of(media.path, voice, gain, start=seconds).dub(channels, gain_db)
        options = {"ar": MIX_RATE, **audio_encoder_options("aac", channels), "frames:a": count + 1}
        ffmpeg.run_ffmpeg(ffmpeg.output(dub, path=piece, format="adts", **options))
        encoded = adts_frames(piece.read_bytes())
        skip = stretch.start - first  # its frame m is the dub's frame first + m (0: priming)
        new = encoded[skip : skip + len(stretch)]
        if len(new) < len(stretch):
            raise ValueError(f"stretch {index}: {len(new)} frames encoded, {len(stretch)} asked")
        spliced[stretch.start : stretch.stop] = new
        piece.unlink()
    patched = work / "patched.aac"
    patched.write_bytes(b"".join(spliced))
    old.unlink()
    # ADTS carries no priming: start it a frame early, as the encoder's own output does, so that
    # the container's edit list drops that frame as it did in `previous`.
    earlier = ffmpeg.source(previous)
    audio = ffmpeg.source(patched, itsoffset=f"{-AAC_FRAME / MIX_RATE:.6f}")["a:0"]
    streams = [earlier["v"], audio, *([earlier["a:1"]] if keep_original_audio else [])]
    tracks = TrackTags(subtitles, language, keep_original_audio, source_language)
    ffmpeg.run_ffmpeg(tracks.output(streams, output, **{"c:v": "copy", "c:a": "copy"}))
    patched.unlink()
    check_written(output, media.duration)
