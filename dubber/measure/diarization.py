"""Diarization evaluation on a joined multi-speaker set built from the shared ASR clips.

Each file joins pieces of real recordings of 2-5 speakers (a speaker is one corpus speaker: both
LibriSpeech 1089 clips are one, both LJ Speech clips are one, each FLEURS clip is taken as its
own), cut at low-energy points, in turns where speakers come back, with short silent gaps. Every
other file has a synthetic music bed under it (chords, a bass line and a drum beat made in numpy,
nothing recorded) at about -15 dB below the speech. The reference turns are where each piece was
placed. Scores: DER from pyannote.metrics, whether the number of speakers was found, and the real
time factor of `diarize()`.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dubber.errors import UsageError
from dubber.media.decode import decode_audio
from dubber.speakers.diarize import DiarizeRules, Turn, diarize
from dubber.speakers.encoder import SpeakerEncoder
from dubber.speakers.features import SAMPLE_RATE

RATE = SAMPLE_RATE
MUSIC_DB = -15.0  # music bed level against the speech


@dataclass(frozen=True)
class RefTurn:
    """A reference turn: seconds, and the speaker's identity (corpus + speaker id)."""

    start: float
    end: float
    speaker: str


@dataclass(frozen=True)
class Recording:
    """A recording with its reference turns (a file of the joined set, or the user's own)."""

    name: str
    audio: np.ndarray
    turns: tuple[RefTurn, ...]
    music: bool

    @property
    def speakers(self) -> int:
        return len({t.speaker for t in self.turns})

    @property
    def duration(self) -> float:
        return len(self.audio) / RATE


@dataclass(frozen=True)
class FileScore:
    """How diarize() did on one file."""

    name: str
    duration: float
    music: bool
    speakers: int
    found: int
    der: float  # DER, +-0.25 s collar around each reference boundary
    der_strict: float  # DER, +-0.125 s collar (pyannote's collar=0.25)
    purity: float  # speaker purity, +-0.25 s collar
    seconds: float

    @property
    def count_right(self) -> bool:
        return self.found == self.speakers

    @property
    def rtf(self) -> float:
        return self.seconds / self.duration


def speaker_of(filename: str) -> str:
    """The speaker identity of a shared clip: corpus + speaker id."""
    stem = Path(filename).stem
    corpus, _, rest = stem.partition("_")
    if corpus == "librispeech":
        return f"librispeech_{rest.split('-')[0]}"
    if corpus == "cmuarctic":
        return f"cmuarctic_{rest.split('_')[0]}"
    if corpus in ("ljspeech", "jfk"):
        return corpus
    return stem  # FLEURS: each clip its own speaker


def _frame_rms(audio: np.ndarray, frame: int = 320) -> np.ndarray:
    n = len(audio) // frame
    return np.sqrt(np.mean(audio[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)


def pieces_of(
    audio: np.ndarray, rng: np.random.Generator, shortest: float = 1.5, longest: float = 3.5
) -> list[np.ndarray]:
    """The clip's speech cut at its quietest points into pieces of about shortest..longest s,
    each trimmed to its speech (40 ms kept either side)."""
    frame = 320  # 20 ms
    rms = _frame_rms(audio, frame)
    floor = 0.1 * np.percentile(rms, 95)  # 20 dB under the loud part
    loud = np.flatnonzero(rms > floor)
    if len(loud) == 0:
        return []
    first, last = loud[0], loud[-1] + 1
    seconds = (last - first) / 50
    count = max(
        1, min(int(seconds // shortest), int(np.ceil(seconds / rng.uniform(shortest, longest))))
    )
    cuts = [first]
    for k in range(1, count):
        middle = first + (last - first) * k // count
        span = np.arange(max(cuts[-1] + 25, middle - 20), min(last - 25, middle + 20))
        if len(span):
            cuts.append(int(span[np.argmin(rms[span])]))
    cuts.append(last)
    out = []
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        inner = a + np.flatnonzero(rms[a:b] > floor)
        if len(inner) >= 40:  # 0.8 s at least
            out.append(audio[max(0, inner[0] - 2) * frame : (inner[-1] + 3) * frame])
    return out


def music_bed(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A synthetic music bed: a chord progression, a bass line and a drum beat (numpy, no
    recording), unit RMS."""
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    bpm = rng.uniform(90, 130)
    beat = 60 / bpm
    root = 45 + int(rng.integers(0, 12))  # MIDI note of the key
    progression = [(0, 4, 7), (7, 11, 14), (9, 12, 16), (5, 9, 12)]  # I V vi IV
    out = np.zeros(n)
    bar = 4 * beat
    for index in range(int(seconds / bar) + 1):
        chord = progression[index % 4]
        a, b = int(index * bar * RATE), min(n, int((index + 1) * bar * RATE))
        if a >= n:
            break
        tt = t[a:b] - t[a]
        envelope = np.minimum(1, tt / 0.05) * np.exp(-tt / (2 * bar))
        for step in chord:
            f = 440 * 2 ** ((root + 12 + step - 69) / 12)
            for h, amp in ((1, 1.0), (2, 0.4), (3, 0.2)):
                out[a:b] += 0.25 * amp * envelope * np.sin(2 * np.pi * f * h * tt)
        f_bass = 440 * 2 ** ((root + chord[0] - 69) / 12)
        out[a:b] += 0.5 * envelope * np.sin(2 * np.pi * f_bass * tt)
    for index in range(int(seconds / (beat / 2)) + 1):
        a = int(index * beat / 2 * RATE)
        if a >= n:
            break
        tt = np.arange(min(n - a, int(0.25 * RATE))) / RATE
        if index % 4 == 0:  # kick on beats 1 and 3
            out[a : a + len(tt)] += np.sin(
                2 * np.pi * (50 * tt + 100 * 0.04 * (1 - np.exp(-tt / 0.04)))
            ) * np.exp(-tt / 0.12)
        if index % 4 == 2:  # snare on 2 and 4
            out[a : a + len(tt)] += 0.5 * rng.standard_normal(len(tt)) * np.exp(-tt / 0.06)
        hat = min(len(tt), int(0.03 * RATE))  # hi-hat on every eighth
        out[a : a + hat] += 0.15 * rng.standard_normal(hat) * np.exp(-tt[:hat] / 0.01)
    return (out / np.sqrt(np.mean(out**2) + 1e-12)).astype(np.float32)


def build_joined_set(data: Path, count: int = 20, seed: int = 0) -> list[Recording]:
    """`count` joined files from the clips in `data` (../shared/data/asr), the same for one seed.

    File i has 2 + i % 4 speakers; odd files have the music bed.
    """
    by_speaker: dict[str, list[np.ndarray]] = {}
    for path in sorted(Path(data).glob("*.wav")):
        by_speaker.setdefault(speaker_of(path.name), []).append(decode_audio(path))
    names = sorted(by_speaker)
    files = []
    for index in range(count):
        rng = np.random.default_rng([seed, index])
        k = min(len(names), 2 + index % 4)
        chosen = [names[i] for i in rng.choice(len(names), size=k, replace=False)]
        queues = {}
        for speaker in chosen:
            pieces = [p for clip in by_speaker[speaker] for p in pieces_of(clip, rng)]
            start = int(rng.integers(0, max(1, len(pieces) - 3)))
            queues[speaker] = pieces[start : start + 4]  # at most 4 turns per speaker
        levels = {s: 10 ** (rng.uniform(-26, -20) / 20) for s in chosen}
        files.append(_join(f"joined_{seed}_{index:02d}", queues, levels, index % 2 == 1, rng))
    return files


def _join(
    name: str,
    queues: dict[str, list[np.ndarray]],
    levels: dict[str, float],
    music: bool,
    rng: np.random.Generator,
) -> Recording:
    parts: list[np.ndarray] = []
    turns: list[RefTurn] = []
    clock, previous = 0.0, None
    while True:
        left = [s for s, q in queues.items() if q and s != previous]
        if not left:  # only the last speaker has pieces left: stop, so turns alternate
            break
        weights = np.array([len(queues[s]) for s in left], dtype=float)
        speaker = left[int(rng.choice(len(left), p=weights / weights.sum()))]
        gap = np.zeros(int(rng.uniform(0.2, 0.8) * RATE), dtype=np.float32)
        piece = queues[speaker].pop(0)
        piece = piece * (levels[speaker] / np.sqrt(np.mean(piece**2) + 1e-12))
        clock += len(gap) / RATE
        turns.append(RefTurn(round(clock, 3), round(clock + len(piece) / RATE, 3), speaker))
        clock += len(piece) / RATE
        parts += [gap, piece.astype(np.float32)]
        previous = speaker
    parts.append(np.zeros(int(0.3 * RATE), dtype=np.float32))
    audio = np.concatenate(parts)
    speech_rms = float(np.sqrt(np.mean(np.concatenate(parts[1::2]) ** 2)))
    audio += 10 ** (-65 / 20) * rng.standard_normal(len(audio)).astype(np.float32)  # noise floor
    if music:
        audio += speech_rms * 10 ** (MUSIC_DB / 20) * music_bed(len(audio) / RATE, rng)
    return Recording(name, np.clip(audio, -1, 1).astype(np.float32), tuple(turns), music)


def rttm(name: str, turns: Sequence[RefTurn | Turn]) -> str:
    """Turns as RTTM lines."""
    return "".join(
        f"SPEAKER {name} 1 {t.start:.3f} {t.end - t.start:.3f} <NA> <NA> {t.speaker} <NA> <NA>\n"
        for t in turns
    )


def rttm_lines(turns: Mapping[str, Sequence[RefTurn | Turn]]) -> list[str]:
    """The turns of several files as RTTM lines."""
    return [line for name, said in turns.items() for line in rttm(name, said).splitlines()]


def read_rttm(path: Path) -> dict[str, list[RefTurn]]:
    """Reference turns by file id from an RTTM file (its SPEAKER lines: file id, channel,
    onset, duration, ..., speaker name); a line that is not one is a UsageError naming it."""
    from dubber.inputs import read_text

    turns: dict[str, list[RefTurn]] = {}
    for number, line in enumerate(read_text(path, "RTTM reference").splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0] != "SPEAKER":
            continue
        try:
            onset, duration = float(fields[3]), float(fields[4])
            turns.setdefault(fields[1], []).append(RefTurn(onset, onset + duration, fields[7]))
        except (IndexError, ValueError):
            raise UsageError(f"{path}:{number}: not an RTTM SPEAKER line: {line[:60]}") from None
    return turns


def recordings_of(paths: Sequence[Path], reference: Path) -> list[Recording]:
    """Each audio file with its turns in the RTTM `reference` (found by the file's stem)."""
    turns = read_rttm(reference)
    found = []
    for path in paths:
        if path.stem not in turns:
            raise UsageError(f"{reference} has no turns for '{path.stem}' ({path.name})")
        ordered = tuple(sorted(turns[path.stem], key=lambda t: t.start))
        found.append(Recording(path.stem, decode_audio(path), ordered, music=False))
    return found


def write_rttm(files: Sequence[Recording], path: Path) -> Path:
    """The reference of a whole set in one RTTM file."""
    path.write_text("".join(rttm(f.name, f.turns) for f in files), encoding="utf-8")
    return path


def _annotations(
    reference: Sequence[RefTurn], hypothesis: Sequence[Turn], duration: float | None
) -> tuple[Any, Any, Any]:
    """The turns as pyannote annotations, and the evaluated extent [0, duration] (default:
    both annotations' extent)."""
    from pyannote.core import Annotation, Segment, Timeline

    ref, hyp = Annotation(), Annotation()
    for t in reference:
        ref[Segment(t.start, t.end)] = str(t.speaker)
    for index, t in enumerate(hypothesis):
        hyp[Segment(t.start, t.end), index] = f"s{t.speaker}"
    if duration is None:
        duration = max([t.end for t in (*reference, *hypothesis)], default=0.0)
    return ref, hyp, Timeline([Segment(0.0, duration)])


def der(
    reference: Sequence[RefTurn],
    hypothesis: Sequence[Turn],
    collar: float = 0.5,
    duration: float | None = None,
) -> float:
    """Diarization error rate (pyannote.metrics) over [0, duration] (default: both extents).

    pyannote's `collar` is the whole width around each reference boundary: 0.5 forgives 0.25 s
    either side, as NIST's md-eval `-c 0.25`.
    """
    from pyannote.metrics.diarization import DiarizationErrorRate

    ref, hyp, uem = _annotations(reference, hypothesis, duration)
    return float(DiarizationErrorRate(collar=collar)(ref, hyp, uem=uem))


def purity(
    reference: Sequence[RefTurn], hypothesis: Sequence[Turn], duration: float | None = None
) -> float:
    """Speaker purity (pyannote.metrics): of each speaker found, the share of their speech that
    one reference speaker says, weighted by time; 1.0 when no found speaker mixes two people
    (the lines dub gives a speaker are cut from these turns). 0.25 s collar either side."""
    from pyannote.metrics.diarization import DiarizationPurity

    ref, hyp, uem = _annotations(reference, hypothesis, duration)
    return float(DiarizationPurity(collar=0.5)(ref, hyp, uem=uem))


def evaluate(
    files: Sequence[Recording],
    encoder: SpeakerEncoder,
    rules: DiarizeRules | None = None,
    known_speakers: bool = False,
    hypotheses: dict[str, list[Turn]] | None = None,
) -> list[FileScore]:
    """diarize() on every file: DER, speakers found and time taken (turns into `hypotheses`)."""
    rules = rules or DiarizeRules()
    scores = []
    for f in files:
        count = f.speakers if known_speakers else None
        began = time.perf_counter()
        turns = diarize(f.audio, count, encoder=encoder, rules=rules)
        seconds = time.perf_counter() - began
        if hypotheses is not None:
            hypotheses[f.name] = turns
        found = len({t.speaker for t in turns})
        loose, strict = der(f.turns, turns, 0.5, f.duration), der(f.turns, turns, 0.25, f.duration)
        scores.append(
            FileScore(
                f.name,
                f.duration,
                f.music,
                f.speakers,
                found,
                loose,
                strict,
                purity(f.turns, turns, f.duration),
                seconds,
            )  # fmt: skip
        )
    return scores


def summary(scores: Sequence[FileScore]) -> dict[str, float]:
    """Medians and means over a set of file scores."""
    total = sum(s.duration for s in scores)
    return {
        "recordings": len(scores),
        "der_median": statistics.median(s.der for s in scores),
        "der_mean": statistics.fmean(s.der for s in scores),
        "der_strict_median": statistics.median(s.der_strict for s in scores),
        "der_strict_mean": statistics.fmean(s.der_strict for s in scores),
        "count_accuracy": sum(s.count_right for s in scores) / len(scores),
        "purity_mean": statistics.fmean(s.purity for s in scores),
        "rtf": sum(s.seconds for s in scores) / total,
        "rtf_median": statistics.median(s.rtf for s in scores),
        "audio_s": total,
    }


def encoder_rtf(
    files: Sequence[Recording], encoder: SpeakerEncoder, rules: DiarizeRules | None = None
) -> dict[str, float]:
    """Seconds the encoder alone takes (mel + LSTM over diarize()'s windows) per audio second,
    and per second of audio inside its windows."""
    from dubber.speakers.diarize import speech_regions, windows_of

    rules = rules or DiarizeRules()
    seconds = audio = windowed = 0.0
    for f in files:
        windows = windows_of(speech_regions(f.audio, rules), rules)
        began = time.perf_counter()
        encoder.embed_windows(f.audio, windows, rules.background_percentile)
        seconds += time.perf_counter() - began
        audio += f.duration
        windowed += sum(b - a for a, b in windows)
    return {"rtf": seconds / audio, "per_window_second": seconds / windowed, "windows_s": windowed}
