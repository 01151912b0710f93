"""The data an evaluation runs on: TSV manifests of recordings with references, and line-aligned
text files."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dubber.errors import DubberError
from dubber.inputs import read_text

REFERENCE_COLUMNS = ("reference", "reference_text", "text", "transcript", "sentence")
TRANSLATION_COLUMNS = ("reference_es", "translation", "reference")


@dataclass(frozen=True)
class ManifestRow:
    """One audio file and its reference text."""

    file: Path
    reference: str


def read_manifest(
    path: Path, text_column: str | None = None, candidates: Sequence[str] = REFERENCE_COLUMNS
) -> list[ManifestRow]:
    """Rows of a TSV manifest with a `file` column (relative to the manifest) and a text column:
    `text_column`, or the first of `candidates` present."""
    path = Path(path)
    if not path.is_file():
        raise DubberError(
            f"manifest {path} not found: give a TSV file with columns file, reference"
        )
    text = read_text(path, "manifest")
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    columns = reader.fieldnames or []
    rows = list(reader)
    wanted = [text_column] if text_column else list(candidates)
    column = next((c for c in wanted if c in columns), None)
    if "file" not in columns or column is None:
        raise DubberError(
            f"manifest {path} has columns {', '.join(columns) or '(none)'}: it needs 'file' and "
            f"one of {', '.join(wanted)} (choose another with --text-column)"
        )
    if not rows:
        raise DubberError(f"manifest {path} has no rows: add one line per audio file")
    result = [ManifestRow(path.parent / r["file"], (r[column] or "").strip()) for r in rows]
    missing = [str(r.file) for r in result if not r.file.is_file()]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise DubberError(
            f"manifest {path} lists audio that does not exist: {missing[0]}{more} "
            "(file paths are relative to the manifest's folder)"
        )
    return result


def read_lines(path: Path, what: str) -> list[str]:
    """Non-empty text file, one segment a line."""
    lines = read_text(Path(path), f"{what} file").splitlines()
    if not any(line.strip() for line in lines):
        raise DubberError(f"{what} file {path} is empty: give one sentence a line")
    return lines
