"""Catching up and echo gating, as pure decisions (no model runs)."""

from __future__ import annotations

import numpy as np
import pytest

from dubber.live.catchup import catch_up
from dubber.live.config import LiveConfig
from dubber.live.echo import EchoGate
from dubber.media.decode import AUDIO_RATE

CONFIG = LiveConfig(target_lag_s=1.0, catch_up_s=4.0, max_rate=1.3, max_stretch=1.25)


def test_on_time_lines_keep_their_natural_speed():
    assert catch_up(0.4, CONFIG).factor == 1.0 and not catch_up(1.0, CONFIG).tighten


@pytest.mark.parametrize(("lag", "rate", "stretch"), [(2.0, 1.25, 1.0), (3.0, 1.3, 1.154)])
def test_behind_the_voice_speeds_up_first_then_stretches(lag, rate, stretch):
    speedup = catch_up(lag, CONFIG)
    assert (speedup.rate, speedup.stretch, speedup.tighten) == (rate, stretch, True)


def test_far_behind_stays_within_both_caps():
    speedup = catch_up(60.0, CONFIG)
    assert (speedup.rate, speedup.stretch) == (1.3, 1.25)


def test_input_heard_while_the_speakers_play_is_silenced_with_a_hangover():
    gate = EchoGate(hangover_s=0.3)
    gate.playing(1.0, 2.0)
    gate.playing(2.1, 2.5)  # joins the first: within the hang-over
    chunk = np.ones(AUDIO_RATE * 3, np.float32)  # 0 .. 3 s
    muted = gate.mute(chunk, 0.0)
    assert muted[: AUDIO_RATE - 1].all() and not muted[AUDIO_RATE : int(2.8 * AUDIO_RATE)].any()
    assert muted[int(2.81 * AUDIO_RATE) :].all()
    assert gate.muted_s == pytest.approx(1.8, abs=0.01)
    later = gate.mute(np.ones(AUDIO_RATE, np.float32), 5.0)
    assert later.all(), "nothing plays after 2.8 s"


def test_a_line_whose_spanish_would_end_past_the_lag_bound_is_sped_up_to_end_within_it():
    on_time = catch_up(0.5, CONFIG, spoken_s=2.0, room_s=3.5)
    assert on_time.factor == 1.0  # it ends within the bound at its own speed
    long = catch_up(0.5, CONFIG, spoken_s=4.2, room_s=3.5)
    assert long.factor == pytest.approx(4.2 / 3.5, abs=0.01) and long.rate == pytest.approx(1.2)
    past = catch_up(0.5, CONFIG, spoken_s=3.0, room_s=-1.0)
    assert (past.rate, past.stretch) == (1.3, 1.25)  # already past it: as fast as allowed
