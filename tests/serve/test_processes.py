"""The server's process-tree helpers on real processes and real signals."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time

import pytest

from dubber.serve.processes import descendants, end

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

# A child that starts a grandchild ignoring SIGTERM, then waits.
STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
    " print('ready', flush=True); time.sleep(60)"
)
TREE = f"""
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", {STUBBORN!r}], stdout=sys.stdout)
time.sleep(60)
"""


@pytest.fixture
def tree():
    child = subprocess.Popen([sys.executable, "-c", TREE], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    yield child
    child.kill()
    child.wait()


def test_descendants_lists_children_and_grandchildren_with_their_commands(tree):
    found = descendants(os.getpid())
    ours = [p for p in found if p.pid == tree.pid]
    assert len(ours) == 1 and "python" in ours[0].command
    below = descendants(tree.pid)
    assert len(below) == 1 and "SIG_IGN" in below[0].command
    assert {p.pid for p in below} <= {p.pid for p in found}
    assert all(p.running() for p in below)


def test_end_terminates_and_kills_what_ignores_sigterm(tree):
    grandchild = descendants(tree.pid)[0]
    started = time.monotonic()
    ended = end([grandchild], grace=0.5)
    assert ended == [grandchild]
    deadline = time.monotonic() + 5
    while grandchild.running() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not grandchild.running()
    assert time.monotonic() - started >= 0.5  # it had its grace before SIGKILL
    assert end([grandchild]) == []  # nothing left to end


def test_a_pid_with_another_start_time_is_not_signalled(tree):
    grandchild = descendants(tree.pid)[0]
    impostor = dataclasses.replace(grandchild, started=grandchild.started - 1)
    assert not impostor.running()
    assert end([impostor], grace=0.1) == []
    assert grandchild.running()
