"""The work folder of one input: the dub document and every clip synthesised for it, kept so
that an interrupted dub resumes and a post-edit re-speaks only what changed."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dubber.dub.document import DubDocument
from dubber.errors import DubberError
from dubber.media.mix import GAIN_RATE, RawAudio
from dubber.outputs import atomic_path

log = logging.getLogger(__name__)

STEM_CHARS = 40  # of the input's name in the folder's name: file systems cap names at 255 bytes


@dataclass(frozen=True)
class LastMix:
    """What the last dub made from this folder wrote: its voice track and ducking gain (kept
    raw) and the loudness gain (dB) its mix was given; a re-dub patches what changed."""

    voice: RawAudio
    gain: RawAudio
    gain_db: float
    keep_original_audio: bool  # the output holds the original's track too


class WorkFolder:
    """`root/NAME-HASH`: the hash of the input's path, size and modification time."""

    def __init__(self, root: Path, media: Path) -> None:
        stat = media.stat()
        fingerprint = f"{media.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
        digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
        self.path = root / f"{media.stem[:STEM_CHARS]}-{digest}"
        (self.path / "clips").mkdir(parents=True, exist_ok=True)

    @property
    def _document(self) -> Path:
        return self.path / "dub.json"

    def load_document(self) -> DubDocument | None:
        """The document an earlier run saved, if it got that far (a damaged one is ignored)."""
        if not self._document.exists():
            return None
        try:
            return DubDocument.load(self._document)
        except DubberError as error:
            log.warning("ignoring the saved dub document (%s): recognising again", error)
            return None

    def save_document(self, document: DubDocument) -> None:
        """Keep recognition and translation for a later --resume."""
        document.save(self._document)

    def _clip(self, key: str) -> Path:
        return self.path / "clips" / f"{key}.npy"

    def load(self, key: str) -> np.ndarray | None:
        """A clip synthesised earlier under `key`; a damaged one is made again."""
        path = self._clip(key)
        if not path.exists():
            return None
        try:
            samples = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as error:
            log.warning("ignoring a damaged clip in the work folder (%s): speaking it again", error)
            return None
        if samples.dtype != np.float32 or samples.ndim != 1:
            log.warning("ignoring a damaged clip in the work folder: speaking it again")
            return None
        return samples

    def save(self, key: str, samples: np.ndarray) -> None:
        """Store a clip atomically."""
        with atomic_path(self._clip(key)) as tmp, open(tmp, "wb") as handle:
            np.save(handle, samples.astype(np.float32))

    def keep_mix(
        self, voice: RawAudio, gain: RawAudio, gain_db: float, output: Path, keep_original: bool
    ) -> None:
        """Keep the voice track and gain a dub just mixed into `output` (now in place), for a
        re-dub that changes only some lines."""
        kept = self.path / "last-voice.f32", self.path / "last-gain.f32"
        voice.path.replace(kept[0])
        gain.path.replace(kept[1])
        written = output.stat()
        record = {"output": str(output.resolve()), "size": written.st_size}
        record |= {"mtime_ns": written.st_mtime_ns, "gain_db": gain_db}
        record |= {"voice_rate": voice.sample_rate, "keep_original_audio": keep_original}
        with atomic_path(self.path / "last-mix.json") as tmp:
            tmp.write_text(json.dumps(record), encoding="utf-8")

    def last_mix(self, output: Path) -> LastMix | None:
        """What the last dub mixed, if `output` is still the file it wrote (else None)."""
        try:
            record = json.loads((self.path / "last-mix.json").read_text(encoding="utf-8"))
            written = output.stat()
            same = record["output"] == str(output.resolve()) and record["size"] == written.st_size
            if not same or record["mtime_ns"] != written.st_mtime_ns:
                return None
            voice = RawAudio(self.path / "last-voice.f32", int(record["voice_rate"]))
            gain = RawAudio(self.path / "last-gain.f32", GAIN_RATE)
            if not (voice.path.is_file() and gain.path.is_file()):
                return None
            return LastMix(voice, gain, float(record["gain_db"]), record["keep_original_audio"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
