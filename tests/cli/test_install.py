"""The program as installed tools are used: through `pipx` in a clean environment, with Typer's
shell completion, and with its output piped into a reader that stops early."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dubber.store.catalogue import Catalogue

REPO = Path(__file__).resolve().parents[2]
CONSOLE_SCRIPT = Path(sys.executable).with_name("dubber")


def test_shell_completion_offers_the_commands():
    env = {**os.environ, "_DUBBER_COMPLETE": "complete_bash", "COMP_WORDS": "dubber mo"}
    done = subprocess.run(
        [str(CONSOLE_SCRIPT)],
        env={**env, "COMP_CWORD": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["models"]
    # Typer finds the shell among the program's parents (shellingham), as in a user's terminal
    script = subprocess.run(
        ["bash", "-c", f"'{CONSOLE_SCRIPT}' --show-completion; true"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert script.returncode == 0 and "_DUBBER_COMPLETE=complete_bash" in script.stdout


def test_a_reader_that_stops_early_ends_the_program_quietly():
    read, write = os.pipe()
    os.close(read)  # `dubber models list | true`: nobody reads what dubber writes
    done = subprocess.run(
        [str(CONSOLE_SCRIPT), "models", "list", "--json"],
        stdout=write,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
    )
    os.close(write)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr


@pytest.mark.slow
def test_pipx_install_in_a_clean_environment_then_the_demo(tmp_path):
    pipx = {"PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(tmp_path / "bin")}
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env |= pipx | {"DUBBER_HOME": str(tmp_path / "home"), "COLUMNS": "100"}
    install = [sys.executable, "-m", "pipx", "install", "--python", sys.executable, ".[offline]"]
    done = subprocess.run(install, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    dubber = tmp_path / "bin" / "dubber"

    listed = subprocess.run(
        [str(dubber), "models", "list", "--json"], env=env, capture_output=True, timeout=120
    )
    assert listed.returncode == 0, listed.stderr
    shipped = {entry["id"] for entry in json.loads(listed.stdout)}
    assert shipped == {manifest.id for manifest in Catalogue.load(REPO / "models").all()}

    work = tmp_path / "work"
    work.mkdir()
    demo = subprocess.run(
        [str(dubber), "demo"], cwd=work, env=env, capture_output=True, text=True, timeout=900
    )
    assert demo.returncode == 0, demo.stderr[-2000:]
    dubbed = work / "dubber-demo" / "news.es.mp4"
    assert dubbed.stat().st_size > 10_000
    assert "dub summary" in demo.stdout + demo.stderr
