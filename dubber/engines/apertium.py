"""Rule-based machine translation with Apertium (Debian's apertium-eng-spa), as one long-lived
pipeline fed text by text.

Apertium's programs run in null-flush mode: each text, ended by a NUL, is translated and comes
back ended by a NUL, so the pipeline starts once (its dictionaries load once) and a text costs
milliseconds, not a process. Each text is translated apart, so no word moves from one into the
next ("the red" / "car" stay "el rojo" / "coche"). The text is escaped as Apertium's plain-text
deformatter would and ends with a blank (`[]`), which Apertium's bilingual stage needs before
the NUL. Unknown words are not marked (`*`, `#`, `@` in the output were in the source). Numbers
are copied through. There is no n-best: every text gets one hypothesis scored 0.0.
"""

from __future__ import annotations

import logging
import os
import re
import select
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from dubber.engines.types import Hypothesis, Translation
from dubber.errors import DubberError
from dubber.text import chunk_text

logger = logging.getLogger(__name__)

_ISO_639_3 = {"en": "eng", "es": "spa", "ca": "cat", "fr": "fra", "pt": "por", "it": "ita"}
# Debian ships both directions of a pair in the package named after its canonical order.
_PACKAGES = {"spa-eng": "apertium-eng-spa", "spa-eng_US": "apertium-eng-spa"}
_SPECIAL = re.compile(r"([\[\]^$/\\@<>{}])")
_ESCAPED = re.compile(r"\\(.)")
_BLANKS = re.compile(r"\[\]")
TIMEOUT_S = 60  # a text that takes longer means the pipeline is stuck
# Apertium reads a line while it writes the last one: a line over the pipes' buffers (64 KiB) would
# block both sides, so longer lines are translated in pieces of whole sentences.
PIECE_CHARS = 8000


class ApertiumTranslator:
    """One Apertium translation mode, e.g. eng-spa."""

    name = "apertium"
    length_hints = False

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
        mode_file = _mode_file(binary, self.mode)
        built = subprocess.run(
            ["apertium-wblank-mode", "-z", str(mode_file)], capture_output=True, text=True
        )
        if built.returncode != 0 or not built.stdout.strip():
            raise DubberError(not_installed)
        self._pipeline = built.stdout.strip()
        self._process: subprocess.Popen | None = None
        self._pending = b""
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - kept as long as the pipeline
        self._lock = threading.Lock()

    def translate(
        self,
        texts: Sequence[str],
        *,
        num_hypotheses: int = 1,
        beam_size: int | None = None,
        max_syllables: Sequence[int | None] | None = None,
    ) -> list[Translation]:
        """Translate each text (one hypothesis each, whatever `num_hypotheses` asks; Apertium
        has no beam)."""
        lines = [" ".join(text.replace("\0", " ").split()) for text in texts]
        pieces = [chunk_text(line, PIECE_CHARS) if line else [] for line in lines]
        with self._lock:
            done = iter(self._translate_all([piece for line in pieces for piece in line]))
        outputs = [" ".join(next(done) for _ in line) for line in pieces]
        return [
            Translation(source=text, hypotheses=(Hypothesis(output, 0.0),))
            for text, output in zip(texts, outputs, strict=True)
        ]

    def close(self) -> None:
        """Stop the pipeline (it starts again when needed)."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def _translate_all(self, pieces: list[str]) -> list[str]:
        """Each piece through the running pipeline: a thread writes them while this one reads
        the answers, so Apertium's stages work at once and no pipe fills up."""
        for attempt in range(2):  # a pipeline that died is started once more
            process = self._running()
            writer = threading.Thread(target=self._write_all, args=(process, pieces), daemon=True)
            writer.start()
            outputs: list[str] = []
            try:
                outputs = [self._read_one(process) for _ in pieces]
            except EOFError:
                if attempt:
                    raise self._failure() from None
                continue
            finally:
                if len(outputs) < len(pieces):
                    self.close()  # stopped reading: the writer may wait on a full pipe
                writer.join()
            return [" ".join(_ESCAPED.sub(r"\1", _BLANKS.sub(" ", out)).split()) for out in outputs]
        raise AssertionError("unreachable")

    @staticmethod
    def _write_all(process: subprocess.Popen, pieces: list[str]) -> None:
        assert process.stdin is not None
        try:
            for piece in pieces:
                process.stdin.write(_SPECIAL.sub(r"\\\1", piece).encode() + b"[]\0")
                process.stdin.flush()
        except (BrokenPipeError, ValueError):  # the pipeline died (or was closed): the reader says
            pass

    def _read_one(self, process: subprocess.Popen) -> str:
        assert process.stdout is not None
        while b"\0" not in self._pending:
            ready, _, _ = select.select([process.stdout], [], [], TIMEOUT_S)
            if not ready:
                self.close()
                raise DubberError(f"apertium {self.mode} did not answer in {TIMEOUT_S} s")
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                raise EOFError
            self._pending += chunk
        output, _, self._pending = self._pending.partition(b"\0")
        return output.decode("utf-8", errors="replace")

    def _running(self) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            logger.debug("starting the apertium %s pipeline", self.mode)
            self._pending = b""
            self._errors.seek(0)
            self._errors.truncate()
            # $1 is the generator's option (-n: no marks for unknown words), $2 the tagger's.
            self._process = subprocess.Popen(
                ["bash", "-c", self._pipeline, "apertium", "-n", ""],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._errors,
            )
        return self._process

    def _failure(self) -> DubberError:
        self._errors.seek(0)
        detail = self._errors.read().decode(errors="replace").strip().splitlines()[-1:]
        return DubberError(
            f"apertium {self.mode} failed ({detail[0] if detail else 'it stopped'}): reinstall"
            f" it with 'sudo apt-get install --reinstall {self._package}'"
        )


def apertium_installed(source_language: str, target_language: str) -> bool:
    """True when Apertium and its mode for the pair are installed."""
    try:
        ApertiumTranslator(source_language, target_language).close()
    except DubberError:
        return False
    return True


def _mode_file(binary: str, mode: str) -> Path:
    """The `.mode` file Apertium itself runs for `mode` (beside its data)."""
    for share in (Path(binary).resolve().parents[1] / "share", Path("/usr/share")):
        candidate = share / "apertium" / "modes" / f"{mode}.mode"
        if candidate.is_file():
            return candidate
    raise DubberError(f"apertium has no mode file for {mode}: reinstall apertium")
