"""Running the real `dubber` entry point as a user does, and checking how it fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_dubber(
    *arguments: str,
    home: Path | None = None,
    cwd: Path | None = None,
    stdin: str | None = None,
    stdin_bytes: bytes | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m dubber ARGS` in a fresh process; `home` overrides DUBBER_HOME, `env` adds
    variables; `stdin_bytes` is fed as it is (for text that is not UTF-8)."""
    environment = {**os.environ, "COLUMNS": "200", **(env or {})}
    if home:
        environment["DUBBER_HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, "-m", "dubber", *arguments],
        cwd=cwd,
        env=environment,
        input=stdin_bytes if stdin_bytes is not None else (stdin.encode() if stdin else None),
        capture_output=True,
        timeout=600,
    )
    return subprocess.CompletedProcess(
        done.args,
        done.returncode,
        done.stdout.decode("utf-8", errors="replace"),
        done.stderr.decode("utf-8", errors="replace"),
    )


def one_line_error(
    result: subprocess.CompletedProcess[str], *fragments: str, exit_code: int = 1
) -> None:
    """The command failed with `exit_code`, printing exactly one `error:` line, no traceback."""
    assert result.returncode == exit_code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
