"""Clustering, turn smoothing, speaker look-ups and diarization of the joined multi-speaker set."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dubber.speakers.cluster import ClusterRules, average_linkage, cluster
from dubber.speakers.diarize import DiarizeRules, Turn, smooth, speaker_at

TURNS = [Turn(0.0, 2.0, 0), Turn(2.2, 4.0, 1), Turn(4.0, 6.0, 0)]


def test_speaker_at_takes_the_majority_or_the_nearest():
    assert speaker_at(TURNS, 1.5, 3.5) == 1
    assert speaker_at(TURNS, 1.5, 2.5) == 0
    assert speaker_at(TURNS, 2.05, 2.15) == 0  # in a gap: the nearer turn
    assert speaker_at(TURNS, 10.0, 11.0) == 0
    assert speaker_at([], 0, 1) is None


def test_smoothing_gives_short_flips_to_a_neighbour():
    rules = DiarizeRules(min_turn=0.6, bridge=1.0)
    turns = [Turn(0.0, 3.0, 0), Turn(3.0, 3.3, 1), Turn(3.3, 6.0, 0), Turn(6.5, 9.0, 1)]
    assert smooth(turns, rules) == [Turn(0.0, 6.0, 0), Turn(6.5, 9.0, 1)]
    # a short turn far from every other keeps its speaker
    lonely = [Turn(0.0, 3.0, 0), Turn(10.0, 10.3, 1), Turn(20.0, 23.0, 0)]
    assert smooth(lonely, rules) == lonely


def _blobs(sizes: list[int], spread: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((len(sizes), 64))
    x = np.concatenate(
        [c + spread * rng.standard_normal((n, 64)) for c, n in zip(centres, sizes, strict=True)]
    )
    return x, np.repeat(np.arange(len(sizes)), sizes)


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    return (
        len({(int(x), int(y)) for x, y in zip(a, b, strict=True)})
        == len(set(a.tolist()))
        == len(set(b.tolist()))
    )


def test_average_linkage_agrees_with_brute_force():
    x, _ = _blobs([5, 7, 6], 0.8)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    dist = 1 - unit @ unit.T
    clusters, brute = [[i] for i in range(len(x))], []
    while len(clusters) > 1:
        d, i, j = min(
            (dist[np.ix_(a, b)].mean(), i, j)
            for i, a in enumerate(clusters)
            for j, b in enumerate(clusters)
            if i < j
        )
        brute.append(d)
        clusters[i] += clusters.pop(j)
    assert [m[2] for m in average_linkage(x)] == pytest.approx(sorted(brute))


def test_cluster_finds_the_number_of_speakers_or_takes_it():
    x, truth = _blobs([30, 20, 25, 3], 0.3)
    labels = cluster(x)
    assert labels.max() + 1 == 3  # the 3-window cluster is too small to be a speaker
    big = truth < 3
    assert _same_partition(labels[big], truth[big])
    assert cluster(x, speakers=4).max() + 1 == 4
    assert cluster(x, speakers=1).tolist() == [0] * len(x)
    assert cluster(x[:1]).tolist() == [0]
    assert cluster(x, rules=ClusterRules(threshold=2.0)).max() == 0


@pytest.fixture(scope="module")
def joined(shared_data):
    from dubber.measure.diarization import build_joined_set

    return build_joined_set(shared_data / "asr", count=4, seed=0)


def test_joined_set_is_deterministic_and_as_described(joined, shared_data):
    from dubber.measure.diarization import build_joined_set, rttm

    assert [f.speakers for f in joined] == [2, 3, 4, 5]
    assert [f.music for f in joined] == [False, True, False, True]
    again = build_joined_set(shared_data / "asr", count=2, seed=0)
    assert all(
        np.array_equal(a.audio, b.audio) and a.turns == b.turns
        for a, b in zip(joined[:2], again, strict=True)
    )
    for f in joined:
        speakers = [t.speaker for t in f.turns]
        assert all(a != b for a, b in zip(speakers, speakers[1:], strict=False))  # turns alternate
        assert all(a.end < b.start for a, b in zip(f.turns, f.turns[1:], strict=False))
        assert f.turns[-1].end <= f.duration
    lines = rttm(joined[0].name, joined[0].turns).splitlines()
    assert len(lines) == len(joined[0].turns) and lines[0].startswith(
        f"SPEAKER {joined[0].name} 1 "
    )


@pytest.mark.slow  # the real speaker encoder
def test_diarize_counts_speakers_on_the_joined_set(joined, encoder):
    from dubber.measure.diarization import evaluate, summary

    found = summary(evaluate(joined, encoder))
    assert found["count_accuracy"] >= 0.75, found
    assert found["der_mean"] <= 0.10, found
    assert found["rtf"] < 0.2, found
    known = summary(evaluate(joined[1:2], encoder, known_speakers=True))
    assert known["count_accuracy"] == 1.0 and known["der_mean"] <= 0.10, known


@pytest.mark.slow  # the real speaker encoder
def test_eval_diarization_scores_recordings_against_their_rttm(joined, tmp_path):
    from dubber.measure.diarization import rttm
    from dubber.media.decode import write_wav
    from tests.helpers.cli import run_dubber

    recording = joined[1]
    audio = tmp_path / f"{recording.name}.wav"
    write_wav(audio, recording.audio, 16000)
    reference = tmp_path / "ref.rttm"
    reference.write_text(rttm(recording.name, recording.turns), encoding="utf-8")
    report = tmp_path / "report" / "diarization.json"
    done = run_dubber(
        "eval", "diarization", str(audio), "--rttm", str(reference), "--json", str(report)
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(report.read_text(encoding="utf-8"))
    assert figures["recordings"] == 1 and 0.0 <= figures["der_mean"] <= 0.10
    assert 0.9 <= figures["purity_mean"] <= 1.0
    hypothesis = (report.parent / "diarization.hyp.rttm").read_text(encoding="utf-8")
    assert hypothesis.startswith(f"SPEAKER {recording.name} 1 ")
    missing = run_dubber("eval", "diarization", str(audio), "--rttm", str(tmp_path / "none.rttm"))
    assert missing.returncode != 0 and "Traceback" not in missing.stderr
