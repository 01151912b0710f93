"""Catching up: when the Spanish falls behind the speaker, or a line's Spanish would end too
long after its English, speak faster (the voice's own rate first, then time-stretch) and tighten
the pauses, instead of dropping lines."""

from __future__ import annotations

import math
from dataclasses import dataclass

from dubber.live.config import LiveConfig

MIN_ROOM_S = 0.1  # a line already past the lag bound asks for the most speed-up there is


@dataclass(frozen=True)
class Speedup:
    """How one line is spoken: the voice's rate, a time-stretch on top, and whether the pauses
    inside it are cut short."""

    rate: float = 1.0
    stretch: float = 1.0
    tighten: bool = False

    @property
    def factor(self) -> float:
        """rate x stretch."""
        return self.rate * self.stretch


def catch_up(
    lag: float, config: LiveConfig, *, spoken_s: float = 0.0, room_s: float = math.inf
) -> Speedup:
    """The speed-up for a line whose Spanish would start `lag` seconds after its English ended
    and last `spoken_s` seconds at the voice's own speed, with `room_s` seconds left before it
    passes the lag bound (`lag_bound_s` after its English ended): none when on time and within
    the bound; else enough to be back on time over about `catch_up_s` seconds and to end within
    the bound, the voice's rate first (up to `max_rate`), then stretch (up to `max_stretch`)."""
    excess = lag - config.target_lag_s
    factor = 1.0 + excess / config.catch_up_s if excess > 0 else 1.0
    if spoken_s > 0:
        factor = max(factor, spoken_s / max(room_s, MIN_ROOM_S))
    if factor <= 1.0:
        return Speedup()
    factor = min(factor, config.max_rate * config.max_stretch)
    rate = min(factor, config.max_rate)
    return Speedup(round(rate, 3), round(min(factor / rate, config.max_stretch), 3), True)
