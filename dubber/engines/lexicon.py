"""Words a language's dictionary does not know, from Apertium's morphological analyser (Debian's
apertium-eng-spa holds the Spanish one): a Spanish translation's unknown lowercase words are
most often English the translator left as it was."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

ANALYSERS = {"es": Path("/usr/share/apertium/apertium-eng-spa/spa-eng.automorf.bin")}
_UNKNOWN = re.compile(r"\^([^/$]+)/\*")
_SPECIAL = re.compile(r"([\[\]^$/\\@<>{}])")


def unknown_words(texts: Sequence[str], language: str) -> list[list[str]] | None:
    """For each text, its words the analyser of `language` does not know, in order; None when
    no analyser for it is installed."""
    analyser = ANALYSERS.get(language)
    program = shutil.which("lt-proc")
    if analyser is None or program is None or not analyser.is_file():
        return None
    lines = [_SPECIAL.sub(r"\\\1", " ".join(text.split())) for text in texts]
    done = subprocess.run(
        [program, "-w", str(analyser)],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    analysed = done.stdout.split("\n")
    if done.returncode != 0 or len(analysed) < len(lines):
        return None
    return [_UNKNOWN.findall(line) for line in analysed[: len(lines)]]
