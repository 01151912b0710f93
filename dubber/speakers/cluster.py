"""Clustering of speaker embeddings: average-linkage agglomerative clustering on cosine distance.

The dendrogram is built with the nearest-neighbour chain (O(n^2) time and memory, numpy per
step); it is cut where clusters are farther apart than a threshold (the number of speakers
found), or into a fixed number of clusters. Clusters too small to be a speaker are then merged
into their nearest large one, and windows are reassigned to the nearest centroid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClusterRules:
    """How embeddings become speakers."""

    threshold: float = 0.40  # cosine distance (1 - cos) at which two clusters stay apart
    min_share: float = 0.05  # a cluster with less of the windows than this is not a speaker...
    min_windows: int = 2  # ...nor one with fewer windows than this
    max_speakers: int = 20
    refine: int = 2  # rounds of reassignment to the nearest centroid


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def average_linkage(embeddings: np.ndarray) -> list[tuple[int, int, float]]:
    """The n - 1 merges (a, b, distance) of average linkage on cosine distance, closest first.

    `a` and `b` are points of the two clusters merged (replay them with a union-find).
    """
    x = _unit(embeddings)
    n = len(x)
    dist = 1.0 - x @ x.T
    np.fill_diagonal(dist, np.inf)
    sizes = np.ones(n)
    alive = n
    chain: list[int] = []
    merges: list[tuple[int, int, float]] = []
    first_alive = 0
    while alive > 1:
        if not chain:
            while not np.isfinite(sizes[first_alive]):
                first_alive += 1
            chain.append(first_alive)
        a = chain[-1]
        b = int(np.argmin(dist[a]))
        if len(chain) > 1 and dist[a, chain[-2]] <= dist[a, b]:
            b = chain[-2]
        if len(chain) < 2 or b != chain[-2]:
            chain.append(b)
            continue
        chain.pop()
        chain.pop()
        merges.append((a, b, float(dist[a, b])))
        keep, gone = min(a, b), max(a, b)
        merged = (sizes[keep] * dist[keep] + sizes[gone] * dist[gone]) / (sizes[keep] + sizes[gone])
        dist[keep], dist[:, keep] = merged, merged
        dist[gone], dist[:, gone] = np.inf, np.inf
        dist[keep, keep] = np.inf
        sizes[keep] += sizes[gone]
        sizes[gone] = np.inf  # marks a slot no longer in use
        alive -= 1
    merges.sort(key=lambda m: m[2])
    return merges


def cut(
    merges: list[tuple[int, int, float]], n: int, threshold: float, k: int | None
) -> np.ndarray:
    """Labels 0.. of n points: merges below `threshold` applied, or the n - k closest ones."""
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    count = n if k is None else max(0, n - k)
    for index, (a, b, d) in enumerate(merges):
        if (k is None and d > threshold) or (k is not None and index >= count):
            break
        parent[root(a)] = root(b)
    roots = [root(i) for i in range(n)]
    return _relabel(np.array(roots))


def _relabel(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 0.. in order of first appearance."""
    order: dict[int, int] = {}
    return np.array([order.setdefault(int(v), len(order)) for v in labels], dtype=np.int64)


def centroids(embeddings: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(K, d) unit mean embedding of each label 0..K-1."""
    x = _unit(embeddings)
    k = int(labels.max()) + 1 if len(labels) else 0
    return _unit(np.stack([x[labels == c].mean(axis=0) for c in range(k)]))


def cluster(
    embeddings: np.ndarray,
    speakers: int | None = None,
    rules: ClusterRules = ClusterRules(),
    weights: Sequence[float] | np.ndarray | None = None,
) -> np.ndarray:
    """A speaker label per embedding, 0.. in order of first appearance; `speakers` fixes their
    number, else it is found.

    `weights` (e.g. each window's speech seconds) count towards a cluster's share.
    """
    n = len(embeddings)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if n == 1 or speakers == 1:
        return np.zeros(n, dtype=np.int64)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    merges = average_linkage(embeddings)
    k = None if speakers is None else min(speakers, n)
    labels = cut(merges, n, rules.threshold, k)
    if k is None:
        labels = _drop_small(embeddings, labels, w, rules)
        if labels.max() + 1 > rules.max_speakers:
            labels = cut(merges, n, rules.threshold, rules.max_speakers)
    for _ in range(rules.refine):
        new = np.argmax(_unit(embeddings) @ centroids(embeddings, labels).T, axis=1)
        if len(np.unique(new)) != labels.max() + 1 or np.array_equal(new, labels):
            break
        labels = new
    return _relabel(labels)


def _drop_small(
    embeddings: np.ndarray, labels: np.ndarray, weights: np.ndarray, rules: ClusterRules
) -> np.ndarray:
    """Windows of clusters too small to be a speaker moved to the nearest large cluster."""
    k = int(labels.max()) + 1
    share = np.array([weights[labels == c].sum() for c in range(k)]) / weights.sum()
    count = np.bincount(labels, minlength=k)
    big = [c for c in range(k) if share[c] >= rules.min_share and count[c] >= rules.min_windows]
    if not big or len(big) == k:
        return labels
    cents = centroids(embeddings, labels)[big]
    nearest = np.array(big)[np.argmax(_unit(embeddings) @ cents.T, axis=1)]
    small = ~np.isin(labels, big)
    labels = labels.copy()
    labels[small] = nearest[small]
    return _relabel(labels)
