"""The options of the chain a user tunes, each declared once (name, default, help, bounds): the
command line's options, the studio's form and its checks, and the server's request checks are
all built from these."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from typing import Any

from dubber.chain.fit import FitRules
from dubber.errors import UsageError
from dubber.media.mix import Background, MixRules


@dataclass(frozen=True, kw_only=True)
class Option:
    """One tunable option: its name (as the studio and the server spell it), default, help,
    and its bounds (numbers) or choices (an Enum)."""

    name: str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    step: float | None = None  # how the studio's form steps a number
    choices: type[Enum] | None = None

    def check(self, value: Any) -> Any:
        """`value` as the option's type, or a UsageError naming the option and what it takes."""
        if self.choices is not None:
            names = list(self.choices.__members__)
            if not isinstance(value, str) or value not in names:
                raise UsageError(f"'{self.name}' must be one of {', '.join(names)}")
            return self.choices(value)
        if isinstance(self.default, bool):
            if not isinstance(value, bool):
                raise UsageError(f"'{self.name}' must be true or false")
            return value
        kind = int if isinstance(self.default, int) else float
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UsageError(f"'{self.name}' must be a {'whole ' if kind is int else ''}number")
        if kind is int and value != int(value):
            raise UsageError(f"'{self.name}' must be a whole number, not {value:g}")
        if self.low is not None and self.high is not None and not self.low <= value <= self.high:
            raise UsageError(
                f"'{self.name}' must be between {self.low:g} and {self.high:g}, not {value:g}"
            )
        return kind(value)

    def with_default(self, default: Any, help: str | None = None) -> Option:
        """The same option where another command starts from another default."""
        return dataclasses.replace(self, default=default, help=help or self.help)

    def to_json(self) -> dict[str, Any]:
        """What a form needs to offer the option."""
        default = self.default.value if isinstance(self.default, Enum) else self.default
        described: dict[str, Any] = {"name": self.name, "default": default, "help": self.help}
        if self.low is not None:
            described |= {"min": self.low, "max": self.high, "step": self.step}
        if self.choices is not None:
            described["choices"] = list(self.choices.__members__)
        return described


def _speed_cap(name: str, help: str) -> Option:
    """A cap on how much faster than its natural pace speech may be made to fit (1 to 2)."""
    return Option(
        name=name, default=getattr(FitRules, name), help=help, low=1.0, high=2.0, step=0.05
    )


MAX_RATE = _speed_cap("max_rate", "Cap on the voice's own speed-up.")
MAX_STRETCH = _speed_cap("max_stretch", "Cap on pitch-preserving time-stretch.")
DUCK_DB = Option(
    name="duck_db",
    default=MixRules.duck_db,
    help="How far the original is lowered (dB).",
    low=-60.0,
    high=0.0,
    step=1.0,
)
BACKGROUND = Option(
    name="background",
    default=MixRules.background,
    help="Original sound under the dub.",
    choices=Background,
)
MATCH_VOICE_TO_PITCH = Option(
    name="match_voice_to_pitch",
    default=True,
    help="Pick a male or female voice by the speaker's pitch.",
)
NBEST = Option(
    name="nbest",
    default=2,
    help="Translation candidates to choose from by length (the LLM's from a beam that wide).",
    low=1,
    high=16,
)
# The options the studio's dub form offers, in its order (the voice is chosen from a list).
STUDIO_DUB_OPTIONS = (MATCH_VOICE_TO_PITCH, BACKGROUND, DUCK_DB, MAX_RATE, MAX_STRETCH)
