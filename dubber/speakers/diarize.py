"""Who spoke when: Silero VAD speech regions, speaker embeddings of sliding windows, clustering,
then a speaker per 10 ms frame and smoothed turns.

Each window votes, for every frame it covers, with its similarity to each speaker's centroid; a
frame goes to the speaker with the most votes. Turns shorter than `min_turn` go to a neighbour,
and turns of one speaker with a short gap between them are joined.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from dubber.speakers.cluster import ClusterRules, centroids, cluster
from dubber.speakers.encoder import SpeakerEncoder, level_gain
from dubber.speakers.features import SAMPLE_RATE

FRAME = 0.01  # seconds per decision frame


@dataclass(frozen=True)
class Turn:
    """One speaker's stretch of speech, in seconds."""

    start: float
    end: float
    speaker: int


@dataclass(frozen=True)
class DiarizeRules:
    """Windows, clustering and smoothing."""

    window: float = 1.5  # seconds per embedding window
    hop: float = 0.75  # seconds between windows
    min_window: float = 0.5  # speech regions shorter than this get no window of their own
    min_turn: float = 0.6  # shorter turns go to a neighbouring speaker
    bridge: float = 1.0  # turns of one speaker this close are joined
    background_percentile: float | None = 20.0  # steady background taken off the mel power
    vad_threshold: float = 0.5
    vad_min_silence_ms: int = 200
    vad_pad_ms: int = 60
    cluster: ClusterRules = field(default_factory=ClusterRules)


def speech_regions(
    audio16k: np.ndarray, rules: DiarizeRules = DiarizeRules()
) -> list[tuple[float, float]]:
    """(start, end) seconds of speech found by Silero VAD (faster-whisper's)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(
        threshold=rules.vad_threshold,
        min_silence_duration_ms=rules.vad_min_silence_ms,
        speech_pad_ms=rules.vad_pad_ms,
    )
    stamps = get_speech_timestamps(np.asarray(audio16k, dtype=np.float32), options)
    return [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in stamps]


def windows_of(
    regions: Sequence[tuple[float, float]], rules: DiarizeRules
) -> list[tuple[float, float]]:
    """Sliding windows over each region; the last one ends with the region."""
    out: list[tuple[float, float]] = []
    for start, end in regions:
        length = end - start
        if length < rules.min_window:
            continue
        if length <= rules.window:
            out.append((start, end))
            continue
        count = int(np.ceil((length - rules.window) / rules.hop)) + 1
        for index in range(count):
            first = min(start + index * rules.hop, end - rules.window)
            out.append((first, first + rules.window))
    return out


def diarize(
    audio16k: np.ndarray,
    speakers: int | None = None,
    *,
    encoder: SpeakerEncoder,
    rules: DiarizeRules = DiarizeRules(),
    regions: Sequence[tuple[float, float]] | None = None,
) -> list[Turn]:
    """Speaker turns of 16 kHz mono audio (speakers numbered 0.. in order of first appearance);
    `speakers` fixes how many there are, else they are counted.

    `regions` (speech, in seconds) skips the VAD.
    """
    audio = np.asarray(audio16k, dtype=np.float32).reshape(-1)
    regions = list(speech_regions(audio, rules) if regions is None else regions)
    if not regions:
        return []
    gain = _level_gain(audio, regions)
    windows = windows_of(regions, rules)
    if not windows:
        return [Turn(a, b, 0) for a, b in regions]
    embeddings = encoder.embed_windows(audio, windows, rules.background_percentile, gain)
    labels = cluster(embeddings, speakers, rules.cluster, weights=[b - a for a, b in windows])
    frames = _frame_labels(embeddings, labels, windows, regions, len(audio) / SAMPLE_RATE)
    return smooth(_runs(frames), rules)


def _level_gain(audio: np.ndarray, regions: Sequence[tuple[float, float]]) -> float:
    """The gain that raises the speech in `regions` to the encoder's training level (never
    lowers it), measured without copying the speech out of the recording."""
    pieces = [audio[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)] for a, b in regions]
    samples = sum(len(piece) for piece in pieces)
    energy = sum(float(np.dot(piece, piece)) for piece in pieces)
    return level_gain(float(np.sqrt(energy / samples)) if samples else 0.0)


def _frame_labels(
    embeddings: np.ndarray,
    labels: np.ndarray,
    windows: Sequence[tuple[float, float]],
    regions: Sequence[tuple[float, float]],
    duration: float,
) -> np.ndarray:
    """A speaker per 10 ms frame (-1 outside speech) from the windows' centroid similarities."""
    n = int(np.ceil(duration / FRAME)) + 1
    unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    sims = unit @ centroids(embeddings, labels).T  # (windows, speakers)
    votes = np.zeros((n, sims.shape[1]))
    covered = np.zeros(n, dtype=bool)
    for (start, end), sim in zip(windows, sims, strict=True):
        a, b = int(start / FRAME), int(np.ceil(end / FRAME))
        votes[a:b] += sim
        covered[a:b] = True
    frames = np.full(n, -1, dtype=np.int64)
    speech = np.zeros(n, dtype=bool)
    for start, end in regions:
        speech[int(start / FRAME) : int(np.ceil(end / FRAME))] = True
    best = np.argmax(votes, axis=1)
    known = np.flatnonzero(covered)
    if len(known) == 0:
        return frames
    # speech no window covered takes the speaker of the nearest covered frame
    nearest = known[np.clip(np.searchsorted(known, np.arange(n)), 0, len(known) - 1)]
    before = known[np.clip(np.searchsorted(known, np.arange(n)) - 1, 0, len(known) - 1)]
    nearest = np.where(
        np.abs(before - np.arange(n)) < np.abs(nearest - np.arange(n)), before, nearest
    )
    frames[speech] = best[nearest[speech]]
    return frames


def _runs(frames: np.ndarray) -> list[Turn]:
    """Turns from runs of one label (-1, no speech, ends a run)."""
    turns: list[Turn] = []
    edges = np.flatnonzero(np.diff(frames)) + 1
    for a, b in zip(np.r_[0, edges], np.r_[edges, len(frames)], strict=True):
        if frames[a] >= 0:
            turns.append(Turn(round(a * FRAME, 3), round(b * FRAME, 3), int(frames[a])))
    return turns


def smooth(turns: list[Turn], rules: DiarizeRules = DiarizeRules()) -> list[Turn]:
    """Short turns given to a neighbour, then close turns of one speaker joined."""
    turns = _join(sorted(turns, key=lambda t: t.start), rules.bridge)
    alone: set[Turn] = set()  # short turns with no neighbour near enough: they stay
    while len(turns) > 1:
        short = [i for i, t in enumerate(turns) if t.end - t.start < rules.min_turn]
        short = [i for i in short if turns[i] not in alone]
        if not short:
            break
        index = min(short, key=lambda i: turns[i].end - turns[i].start)
        turn = turns[index]
        near = [j for j in (index - 1, index + 1) if 0 <= j < len(turns)]
        # the neighbour nearer in time (then the longer) takes it
        j = min(near, key=lambda j: (_gap(turns[j], turn), turn.start - turns[j].end))
        if _gap(turns[j], turn) > rules.bridge:
            alone.add(turn)
            continue
        turns[index] = Turn(turn.start, turn.end, turns[j].speaker)
        turns = _join(turns, rules.bridge)
    return turns


def _gap(a: Turn, b: Turn) -> float:
    return max(0.0, max(a.start, b.start) - min(a.end, b.end))


def _join(turns: list[Turn], bridge: float) -> list[Turn]:
    out: list[Turn] = []
    for turn in turns:
        if out and out[-1].speaker == turn.speaker and turn.start - out[-1].end <= bridge:
            out[-1] = Turn(out[-1].start, max(out[-1].end, turn.end), turn.speaker)
        else:
            out.append(turn)
    return out


def speaker_at(turns: Sequence[Turn], start: float, end: float) -> int | None:
    """The speaker who talks most within [start, end] (the nearest turn's if none overlaps)."""
    if not turns:
        return None
    overlap: dict[int, float] = {}
    for turn in turns:
        seconds = min(end, turn.end) - max(start, turn.start)
        if seconds > 0:
            overlap[turn.speaker] = overlap.get(turn.speaker, 0.0) + seconds
    if overlap:
        return max(overlap, key=lambda s: overlap[s])
    middle = (start + end) / 2
    return min(turns, key=lambda t: max(t.start - middle, middle - t.end)).speaker
