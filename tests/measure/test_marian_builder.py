"""The script that builds a random-weight OPUS-MT-shaped model for tests and benchmarks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dubber.engines.opusmt import OpusMTTranslator
from tests.helpers.models import RUNTIME, TINY_CONFIG
from tests.helpers.paths import REPO


def test_build_script_writes_release_and_converted_model(shared_data: Path, tmp_path: Path) -> None:
    script = REPO / "scripts" / "build_tiny_marian.py"
    subprocess.run(
        [sys.executable, str(script), str(tmp_path), "--data", str(shared_data / "mt")],
        check=True,
        capture_output=True,
    )
    assert (tmp_path / "marian" / "decoder.yml").is_file()
    [translation] = OpusMTTranslator(tmp_path / "ct2", RUNTIME, TINY_CONFIG).translate(["Hi."])
    assert translation.text
