"""The processes a server started (Triton and its Python-backend stubs), found and ended.

PyTriton stops `tritonserver` with a timeout; on a loaded machine a stub can outlive it as an
orphan. The server lists its descendants before it stops and ends whichever are still running
afterwards. Processes are identified by pid *and* start time, so a pid the system has since given
to another process is never signalled. Linux only (it reads /proc); elsewhere nothing is listed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PROC = Path("/proc")


@dataclass(frozen=True)
class Process:
    """One process as /proc showed it: pid, start time (clock ticks after boot), command line."""

    pid: int
    started: int
    command: str

    def running(self) -> bool:
        """True while this very process (not a later one with its pid) exists and is no zombie."""
        stat = _stat(self.pid)
        return stat is not None and stat[2] == self.started and stat[1] != "Z"


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(parent pid, state, start time) from /proc/PID/stat, or None if there is no such process."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # the command name in parentheses may hold spaces
    return int(fields[1]), fields[0], int(fields[19])


def descendants(pid: int) -> list[Process]:
    """Every process below `pid` in the process tree, parents before children."""
    entries = sorted((int(p.name) for p in PROC.glob("[0-9]*")), key=int)
    parents: dict[int, tuple[int, int]] = {}
    for child in entries:
        stat = _stat(child)
        if stat is not None:
            parents[child] = (stat[0], stat[2])
    found: list[Process] = []
    below = {pid}
    grew = True
    while grew:  # a child may have a lower pid than its parent once pids wrap
        grew = False
        for child, (parent, started) in parents.items():
            if parent in below and child not in below:
                below.add(child)
                found.append(Process(child, started, _command(child)))
                grew = True
    return found


def _command(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def end(processes: list[Process], grace: float = 5.0) -> list[Process]:
    """SIGTERM those still running, SIGKILL any left after `grace` seconds; return those ended."""
    left = [p for p in processes if p.running()]
    if not left:
        return []
    for process in left:
        log.warning("ending %s (pid %d), left running by Triton", process.command, process.pid)
        _signal(process, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(p.running() for p in left) and time.monotonic() < deadline:
        time.sleep(0.05)
    for process in left:
        _signal(process, signal.SIGKILL)
    return left


def _signal(process: Process, number: signal.Signals) -> None:
    if process.running():
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, number)
