"""What the commands show while they work: one stderr console and per-stage progress bars."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as Bars

from dubber.dub.job import Progress

console = Console(stderr=True)


@contextmanager
def stage_progress(name: str, stages: Sequence[str]) -> Iterator[Progress]:
    """One bar per stage, fed by a (stage, completed, total) callback; audio stages count
    seconds. Bars only show on a terminal and vanish when done."""
    bars = Bars(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    with bars:
        tasks: dict[str, TaskID] = {
            stage: bars.add_task(stage, total=None, detail="") for stage in stages
        }

        def report(stage: str, completed: float, total: float | None) -> None:
            unit = "s" if stage == "recognise" else ""
            detail = f"{completed:.0f}{unit}" + (f"/{total:.0f}{unit}" if total else "")
            bars.update(tasks[stage], completed=completed, total=total, detail=f"{name}: {detail}")

        yield report
