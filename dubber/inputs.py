"""Reading the files a user gives: one place for size limits, encoding and type checks, with
one clear message for each way a file can be wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, BinaryIO

from dubber.errors import UsageError

MAX_TEXT_BYTES = 64 * 2**20  # transcripts, subtitles, glossaries, manifests: text, not media


def check_file(path: Path, what: str) -> Path:
    """`path` if it is a readable, non-empty regular file, else a UsageError saying why."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{what} not found: {path}")
    if path.is_dir():
        raise UsageError(f"{what} {path} is a folder, not a file")
    if not path.is_file():
        raise UsageError(f"{what} {path} is not a regular file")
    return path


def read_text(path: Path, what: str, max_bytes: int = MAX_TEXT_BYTES) -> str:
    """The UTF-8 text of `path` (a byte-order mark is dropped)."""
    path = check_file(path, what)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise UsageError(
                f"{what} {path} is {size / 2**20:.0f} MiB: a text file of at most"
                f" {max_bytes / 2**20:.0f} MiB is expected"
            )
        data = path.read_bytes()
    except PermissionError:
        raise UsageError(f"cannot read {what} {path}: permission denied") from None
    except OSError as error:
        raise UsageError(f"cannot read {what} {path}: {error.strerror or error}") from None
    if b"\0" in data[:4096]:
        raise UsageError(f"{what} {path} is a binary file, not text")
    return _utf8(data, f"{what} {path}")


def _utf8(data: bytes, described: str) -> str:
    """`data` decoded as UTF-8 (a BOM dropped); one line naming `described` when it is not."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UsageError(
            f"{described} is not UTF-8 text (invalid byte at offset {error.start})"
        ) from None


def read_json(path: Path, what: str) -> Any:
    """The parsed JSON of `path`."""
    text = read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(
            f"{what} {path} is not valid JSON (line {error.lineno}, column {error.colno}:"
            f" {error.msg})"
        ) from None


def read_stdin(stream: BinaryIO, what: str) -> str:
    """All of standard input as UTF-8 text."""
    data = stream.read(MAX_TEXT_BYTES + 1)
    if len(data) > MAX_TEXT_BYTES:
        raise UsageError(f"{what} on stdin is over {MAX_TEXT_BYTES // 2**20} MiB")
    return _utf8(data, f"{what} on stdin")


def read_text_argument(text: str, stdin: BinaryIO) -> list[str]:
    """TEXT, '-' (standard input) or a path to a UTF-8 text file, as a list of lines."""
    if text == "-":
        lines = read_stdin(stdin, "text").splitlines()
    elif Path(text).is_file():
        lines = read_text(Path(text), "text file").splitlines()
    else:
        lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise UsageError("nothing to translate: the text is empty")
    return lines
