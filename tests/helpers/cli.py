"""Running the real `dubber` entry point as a user does, and checking how it fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_dubber(
    *arguments: str, home: Path | None = None, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m dubber ARGS` in a fresh process; `home` overrides DUBBER_HOME."""
    env = {**os.environ, "COLUMNS": "200", **({"DUBBER_HOME": str(home)} if home else {})}
    return subprocess.run(
        [sys.executable, "-m", "dubber", *arguments],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
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
