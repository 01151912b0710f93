"""The `Voice` value type: which model speaks, with which of its styles (`MODEL[:STYLE]`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from dubber.errors import UsageError

ESPEAK = "espeak"


class Gender(str, Enum):
    """Whom a voice sounds like, as far as its name says."""

    female = "female"
    male = "male"


@dataclass(frozen=True)
class Voice:
    """A catalogue model id (or `espeak`) and one of its styles (a Kokoro style, a Piper speaker,
    an espeak-ng voice); no style means the model's default."""

    model: str
    style: str | None = None

    @classmethod
    def parse(cls, text: str) -> Voice:
        """`kokoro-82m-offline:jm_kumo`, `piper-es_ES-davefx-medium`, `espeak:es-419`."""
        model, _, style = text.strip().partition(":")
        if not model or (":" in text and not style):
            raise UsageError(f"'{text}' is not a voice id: use MODEL or MODEL:STYLE")
        return cls(model, style or None)

    def __str__(self) -> str:
        return f"{self.model}:{self.style}" if self.style else self.model

    def with_style(self, style: str | None) -> Voice:
        """The same model with another style."""
        return Voice(self.model, style)

    @property
    def gender(self) -> Gender | None:
        """A style named `female`/`male` (or a variant: `male-low`), or Kokoro's naming
        (`ef_dora` female, `jm_kumo` male), else unknown."""
        style = self.style or ""
        if style.split("-")[0] in Gender.__members__:  # Pico's `male`, `female-low`, ...
            return Gender(style.split("-")[0])
        if len(style) > 2 and style[2] == "_" and style[1] in "fm":
            return Gender.female if style[1] == "f" else Gender.male
        return None
