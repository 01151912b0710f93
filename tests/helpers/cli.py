"""Running `dubber` as a user does and checking how it fails: in this process through Click's
test runner (fast, the same error handling as the program), or in a fresh process where the
process boundary itself is under test (signals, the console script, a server's lifetime)."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

COLUMNS = 200


def run_dubber(
    *arguments: str,
    home: Path | None = None,
    cwd: Path | None = None,
    stdin: str | None = None,
    stdin_bytes: bytes | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`dubber ARGS` in this process, with the program's error handling (`dubber.cli.app.run`):
    `home` overrides DUBBER_HOME, `env` adds variables, `cwd` is the working folder for the
    run; `stdin_bytes` is fed as it is (for text that is not UTF-8)."""
    from dubber.cli.app import run
    from dubber.cli.output import console

    environment = {"COLUMNS": str(COLUMNS), **(env or {})}
    if home:
        environment["DUBBER_HOME"] = str(home)
    data = stdin_bytes if stdin_bytes is not None else stdin
    root = logging.getLogger()
    handlers, level, width = root.handlers[:], root.level, console.width
    code: int | str | None = 0
    with CliRunner().isolation(input=data, env=environment) as (out, err, _):
        console.width = COLUMNS
        try:
            with contextlib.chdir(cwd or Path.cwd()):
                run(list(arguments))
        except SystemExit as done:
            code = done.code
        finally:
            sys.stdout.flush(), sys.stderr.flush()
            root.handlers[:], console.width = handlers, width
            root.setLevel(level)
        stdout, stderr = out.getvalue(), err.getvalue()
    return subprocess.CompletedProcess(
        ["dubber", *arguments],
        code if isinstance(code, int) else 1,
        stdout.decode("utf-8", errors="replace"),
        stderr.decode("utf-8", errors="replace"),
    )


def spawn_dubber(
    *arguments: str,
    home: Path | None = None,
    cwd: Path | None = None,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m dubber ARGS` in a fresh process."""
    environment = {**os.environ, "COLUMNS": str(COLUMNS), **(env or {})}
    if home:
        environment["DUBBER_HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, "-m", "dubber", *arguments],
        cwd=cwd,
        env=environment,
        input=stdin.encode() if stdin else None,
        capture_output=True,
        timeout=600,
    )
    return subprocess.CompletedProcess(
        done.args,
        done.returncode,
        done.stdout.decode("utf-8", errors="replace"),
        done.stderr.decode("utf-8", errors="replace"),
    )


def preparing(line: str) -> bool:
    """The announcement of a model prepared on its first use in a store (not an error)."""
    return line.startswith("WARNING  preparing ")


def one_line_error(
    result: subprocess.CompletedProcess[str], *fragments: str, exit_code: int = 1
) -> None:
    """The command failed with `exit_code`, printing exactly one `error:` line, no traceback."""
    assert result.returncode == exit_code, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if not preparing(line)]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
