"""What a benchmark run reports: the machine, every row as JSON and Markdown, plots, and the
comparison with an earlier run that flags regressions."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from dubber.errors import DubberError
from dubber.measure.bench.sweep import BENCH_STAGES, Row, Sweep


def machine() -> dict[str, object]:
    """Where the figures come from."""
    import ctranslate2
    import onnxruntime

    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "ctranslate2": ctranslate2.__version__,
        "onnxruntime": onnxruntime.__version__,
        "cuda_devices": ctranslate2.get_cuda_device_count(),
    }


def to_json(rows: Sequence[Row], sweep: Sweep, inputs_origin: str) -> dict:
    """The report: machine, settings, every row."""
    return {
        "machine": machine(),
        "sweep": asdict(sweep),
        "inputs": inputs_origin,
        "rows": [asdict(r) for r in rows],
    }


def rows_from_json(data: dict) -> list[Row]:
    """Rows of an earlier report."""
    try:
        return [Row(**r) for r in data["rows"]]
    except (KeyError, TypeError) as error:
        raise DubberError(f"not a dubber bench report ({error}): give a file from --json") from None


@dataclass(frozen=True)
class Comparison:
    """A row against the same configuration in a baseline: slowdown > 1 means slower now."""

    key: str
    baseline: float
    current: float
    slowdown: float
    flagged: bool


def compare(rows: Sequence[Row], baseline: Sequence[Row], threshold: float) -> list[Comparison]:
    """Primary-metric ratios to the baseline; a row more than `threshold` (0.1 = 10 %) slower is
    flagged."""
    before = {r.key: r for r in baseline}
    result = []
    for row in rows:
        old = before.get(row.key)
        if old is None or old.primary != row.primary:
            continue
        new_value, old_value = row.median(), old.median()
        if not new_value or not old_value:
            continue
        slowdown = old_value / new_value if row.higher_is_better else new_value / old_value
        result.append(Comparison(row.key, old_value, new_value, slowdown, slowdown > 1 + threshold))
    return result


def format_metric(row: Row, metric: str) -> str:
    """`median ±spread%`."""
    m = row.metrics[metric]
    return f"{m['median']:.4g} ±{m['spread_pct']:.0f}%"


def describe_params(row: Row) -> str:
    """`int8 t2 beam5 batch16` style summary of a row's settings."""
    p = row.params
    parts = [str(p.get("compute_type", "")), f"t{p['threads']}" if "threads" in p else ""]
    parts += [f"{k} {p[k]}" for k in ("beam", "batch") if k in p]
    return " ".join(x for x in parts if x)


def other_metrics(row: Row) -> str:
    """Every metric but the primary one, `name median`."""
    return ", ".join(
        f"{name} {m['median']:.3g}" for name, m in row.metrics.items() if name != row.primary
    )


def markdown(rows: Sequence[Row], comparisons: Sequence[Comparison], images: dict[str, str]) -> str:
    """Tables for BENCHMARKS.md (one per stage) and the plots."""
    flagged = {c.key: c for c in comparisons}
    out = []
    for stage in BENCH_STAGES:
        chosen = [r for r in rows if r.stage == stage]
        if not chosen:
            continue
        out += [f"### {stage}", "", "| model | settings | primary (median ±spread) | other "
                "(median) | peak RSS MiB | vs baseline | note |", "| --- | --- | --- | --- | --- "
                "| --- | --- |"]  # fmt: skip
        for r in chosen:
            c = flagged.get(r.key)
            versus = (
                f"{c.slowdown:.2f}x slower{' **REGRESSION**' if c.flagged else ''}" if c else ""
            )
            out.append(
                f"| {r.name} | {describe_params(r)} | {r.primary} {format_metric(r, r.primary)} "
                f"| {other_metrics(r)} | {r.peak_rss_mb:.0f} | {versus} | {r.note} |"
            )
        out.append("")
    out += [f"![{name}]({Path(path).name})\n" for name, path in images.items()]
    return "\n".join(out)


def plots(rows: Sequence[Row], folder: Path) -> dict[str, str]:
    """Per-stage seconds of the first dub row, and a latency histogram from live rows."""
    from dubber.measure.plots import histogram, stage_times

    images = {}
    dub = next((r for r in rows if r.stage == "dub"), None)
    if dub is not None:
        seconds = {k.removesuffix("_s"): m["median"] for k, m in dub.metrics.items()
                   if k.endswith("_s") and k != "media_s"}  # fmt: skip
        path = stage_times(seconds, folder / "bench-dub-stages.png", f"dub of {dub.name}")
        images["dub stages"] = str(path)
    latencies = [v for r in rows if r.stage == "live" for v in r.metrics.get(
        "latency_s", {}).get("values", [])]  # fmt: skip
    if latencies:
        path = histogram(latencies, folder / "bench-live-latency.png", "live latency", "seconds")
        images["live latency"] = str(path)
    return images


def load_baseline(path: Path) -> list[Row]:
    """The rows of an earlier `--json` report."""
    from dubber.inputs import read_json

    return rows_from_json(read_json(path, "baseline"))


def write_json(
    path: Path, rows: Sequence[Row], comparisons: Sequence[Comparison], sweep: Sweep, origin: str
) -> None:
    """The report with its comparison, atomically."""
    import json

    from dubber.outputs import atomic_write_text

    report = to_json(rows, sweep, origin)
    report["comparison"] = [asdict(c) for c in comparisons]
    atomic_write_text(path, json.dumps(report, indent=2) + "\n")


def write_markdown(path: Path, rows: Sequence[Row], comparisons: Sequence[Comparison]) -> None:
    """Markdown tables, with the plots written beside them."""
    from dubber.outputs import atomic_write_text

    atomic_write_text(path, markdown(rows, comparisons, plots(rows, path.parent)))
