"""Catching up: when the Spanish falls behind the speaker, speak faster (the voice's own rate
first, then time-stretch) and tighten the pauses, instead of dropping lines."""

from __future__ import annotations

from dataclasses import dataclass

from dubber.live.config import LiveConfig


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


def catch_up(lag: float, config: LiveConfig) -> Speedup:
    """The speed-up for a line whose Spanish would start `lag` seconds after its English ended:
    none within `target_lag_s`; beyond it, enough to be back on time over about `catch_up_s`
    seconds, the voice's rate first (up to `max_rate`), then stretch (up to `max_stretch`)."""
    excess = lag - config.target_lag_s
    if excess <= 0:
        return Speedup()
    factor = min(1.0 + excess / config.catch_up_s, config.max_rate * config.max_stretch)
    rate = min(factor, config.max_rate)
    return Speedup(round(rate, 3), round(min(factor / rate, config.max_stretch), 3), True)
