"""What the commands show while they work: one stderr console, per-stage progress bars, and
results written to a file or printed."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.progress import Progress as Bars

from dubber.outputs import atomic_write_text

if TYPE_CHECKING:
    from dubber.store.store import Store

console = Console(stderr=True)
log = logging.getLogger(__name__)

StageProgress = Callable[[str, float, float | None], None]  # stage, completed, total


@contextmanager
def stage_progress(name: str, stages: Sequence[str]) -> Iterator[StageProgress]:
    """One bar per stage (plain names; str-valued enum members find them), fed by a (stage,
    completed, total) callback; the recognise stage counts seconds of audio. Bars only show on
    a terminal and vanish when done; each stage's start is logged (debug) wherever output goes."""
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
        started: set[str] = set()

        def report(stage: str, completed: float, total: float | None) -> None:
            if stage not in started:
                started.add(stage)
                log.debug("%s: %s started", name, stages[stages.index(stage)])
            unit = "s" if stage == "recognise" else ""
            detail = f"{completed:.0f}{unit}" + (f"/{total:.0f}{unit}" if total else "")
            bars.update(tasks[stage], completed=completed, total=total, detail=f"{name}: {detail}")

        yield report


class DownloadBars:
    """A model store's progress hook: one bar per file downloaded or joined, on a terminal,
    shown while any file is under way and gone when they are all done."""

    def __init__(self) -> None:
        self._bars: Bars | None = None
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, name: str, done: int, total: int | None) -> None:
        if self._bars is None:
            self._bars = Bars(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=True,
                disable=not console.is_terminal,
            )
            self._bars.start()
        if name not in self._tasks:
            self._tasks[name] = self._bars.add_task(name, total=total)
        self._bars.update(self._tasks[name], completed=done, total=total)
        if all(task.finished for task in self._bars.tasks):
            self.close()

    def close(self) -> None:
        """Take the bars off the terminal (what is finished or not)."""
        if self._bars is not None:
            self._bars.stop()
        self._bars, self._tasks = None, {}


@contextmanager
def loading_status(store: Store, message: str) -> Iterator[None]:
    """A spinner saying `message` while models load; a model prepared on its first use (packs
    joined into the store) shows how far it is there."""

    def preparing(name: str, done: int, total: int | None) -> None:
        size = f" {done / 1e6:.0f}/{total / 1e6:.0f} MB" if total else f" {done / 1e6:.0f} MB"
        status.update(f"{message}: fetching or preparing {name}{size}")

    with console.status(message) as status:
        previous, store.progress = store.progress, preparing
        try:
            yield
        finally:
            store.progress = previous


def write_or_print(text: str, output: Path | None) -> None:
    """`text` into `output` (atomically), or on standard output."""
    if output is None:
        sys.stdout.write(text)
    else:
        atomic_write_text(output, text)
        console.print(f"wrote {output}", markup=False, highlight=False)
