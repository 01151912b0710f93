"""Downloads of a dubbed file's outputs: each file on its own, or all of them as one zip."""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import quote

from dubber.dub.outputs import OutputPaths
from dubber.studio.options import LANGUAGE_NAMES

CHUNK = 1 << 20


def downloads(outputs: OutputPaths) -> list[tuple[str, str]]:
    """(what it is, file name) of each output that exists, as the page offers them."""
    named = [("dubbed media", outputs.media), ("dub document", outputs.document)]
    for key, path in outputs.subtitles.items():
        language, _, kind = key.partition(".")
        named.append((f"{LANGUAGE_NAMES.get(language, language)} {kind.upper()}", path))
    return [(label, path.name) for label, path in named if path.is_file()]


def bundle(outputs: OutputPaths) -> BinaryIO:
    """A temporary file (gone when closed) holding every existing output in a zip: the media
    as it is (it is compressed already), the text deflated."""
    archive = tempfile.TemporaryFile()  # noqa: SIM115 (closed by `chunks`)
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in outputs.all():
            if path.is_file():
                stored = zipfile.ZIP_STORED if path == outputs.media else zipfile.ZIP_DEFLATED
                zipped.write(path, path.name, compress_type=stored)
    archive.seek(0)
    return archive


def chunks(archive: BinaryIO) -> Iterator[bytes]:
    """The archive's bytes, a chunk at a time; closed (and so removed) at the end."""
    with archive:
        while block := archive.read(CHUNK):
            yield block


def attachment(filename: str) -> str:
    """A Content-Disposition header that saves as `filename` (any characters, RFC 6266)."""
    fallback = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
