"""PNG plots for the Markdown reports (matplotlib, Agg backend; needs the `eval` extra)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from dubber.errors import DubberError
from dubber.outputs import atomic_path


def _pyplot():  # noqa: ANN202 - the matplotlib.pyplot module
    try:
        import matplotlib
    except ImportError:
        raise DubberError("plots need the eval extra: pip install 'dubber[eval]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path: Path) -> Path:  # noqa: ANN001 - matplotlib Figure
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)
    _pyplot().close(figure)
    return path


def stage_times(seconds: Mapping[str, float], path: Path, title: str) -> Path:
    """A horizontal bar per pipeline stage: seconds spent in it."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 0.5 + 0.45 * len(seconds)))
    names = list(seconds)
    axes.barh(names, [seconds[n] for n in names], color="tab:blue")
    axes.invert_yaxis()
    axes.set_xlabel("seconds")
    axes.set_title(title)
    return _save(figure, path)


def histogram(values: Sequence[float], path: Path, title: str, xlabel: str) -> Path:
    """Distribution of `values` (latencies, speed-ups, offsets)."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 3.2))
    axes.hist(list(values), bins=min(30, max(5, len(values))), color="tab:orange")
    axes.set_xlabel(xlabel)
    axes.set_ylabel("count")
    axes.set_title(title)
    return _save(figure, path)
