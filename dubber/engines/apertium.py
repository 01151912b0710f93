"""Rule-based machine translation with the Apertium command line (Debian's apertium-eng-spa).

A batch is one `apertium` call with the texts separated by blank lines. Apertium's plain-text format
keeps them and ends a sentence at each, so no word moves from one text into the next (with single
line breaks, "the red" / "car" came back as "el coche" / "rojo"). `-u` turns off the unknown-word
marks (`*`, and `#`/`@` from generation), so marks that were in the source text survive untouched.
Numbers are copied through. There is no n-best: every text gets one hypothesis scored 0.0.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Sequence

from dubber.engines.types import Hypothesis, Translation
from dubber.errors import DubberError

logger = logging.getLogger(__name__)

_ISO_639_3 = {"en": "eng", "es": "spa", "ca": "cat", "fr": "fra", "pt": "por", "it": "ita"}
_SEPARATOR = "\n\n"  # a blank line: Apertium ends a sentence there
# Debian ships both directions of a pair in the package named after its canonical order.
_PACKAGES = {"spa-eng": "apertium-eng-spa", "spa-eng_US": "apertium-eng-spa"}


class ApertiumTranslator:
    """One Apertium translation mode, e.g. eng-spa."""

    name = "apertium"

    def __init__(self, source_language: str = "en", target_language: str = "es") -> None:
        self.source_language = source_language
        self.target_language = target_language
        self.mode = "-".join(
            _ISO_639_3.get(code, code) for code in (source_language, target_language)
        )
        self._package = _PACKAGES.get(self.mode, f"apertium-{self.mode}")
        not_installed = (
            f"{self._package} is not installed: run 'sudo apt-get install {self._package}'"
        )
        binary = shutil.which("apertium")
        if binary is None:
            raise DubberError(not_installed)
        self._binary = binary
        listed = subprocess.run(
            [binary, "-l"], capture_output=True, text=True, encoding="utf-8", check=False
        )
        if self.mode not in listed.stdout.split():
            raise DubberError(not_installed)

    def translate(
        self, texts: Sequence[str], *, num_hypotheses: int = 1, beam_size: int | None = None
    ) -> list[Translation]:
        """Translate each text (one hypothesis each, whatever `num_hypotheses` asks; Apertium
        has no beam)."""
        lines = [" ".join(text.split()) for text in texts]
        outputs = iter(self._run([line for line in lines if line]))
        return [
            Translation(source=text, hypotheses=(Hypothesis(next(outputs) if line else "", 0.0),))
            for text, line in zip(texts, lines, strict=True)
        ]

    def _run(self, lines: list[str]) -> list[str]:
        """Translate single-line texts in one apertium call, one output per text, in order."""
        if not lines:
            return []
        logger.debug("apertium %s: %d lines", self.mode, len(lines))
        result = subprocess.run(
            [self._binary, "-u", self.mode],
            input=_SEPARATOR.join(lines) + "\n",
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=False,
        )
        if result.returncode != 0:
            detail = result.stderr.strip().splitlines()[-1:] or [f"exit code {result.returncode}"]
            raise DubberError(
                f"apertium {self.mode} failed ({detail[0]}): reinstall it with "
                f"'sudo apt-get install --reinstall {self._package}'"
            )
        outputs = result.stdout.removesuffix("\n").split(_SEPARATOR)
        if len(outputs) != len(lines):
            raise RuntimeError(f"apertium returned {len(outputs)} lines for {len(lines)}")
        return [" ".join(output.split()) for output in outputs]
