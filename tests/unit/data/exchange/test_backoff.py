"""``barter.integration.backoff``: the seed's reconnect policy (125 ms, x2, capped at 60 s, reset on
success, SEED.md section 7) with jitter that never lengthens a delay."""
from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from barter.errors import ConfigError
from barter.integration import Backoff


def test_seed_schedule_without_jitter():
    b = Backoff(jitter=0.0)
    delays = [b.next_delay() for _ in range(12)]
    assert delays == [0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
    assert b.attempts == 12
    b.reset()
    assert b.next_delay() == 0.125 and b.attempts == 1


@given(st.integers(0, 2**32), st.floats(0.0, 1.0))
def test_jitter_stays_within_the_seed_delay(seed, jitter):
    b, plain = Backoff(jitter=jitter, rng=random.Random(seed)), Backoff(jitter=0.0)
    for _ in range(15):
        want = plain.next_delay()
        got = b.next_delay()
        assert want * (1 - jitter) - 1e-12 <= got <= want


def test_jitter_spreads_delays():
    b = Backoff(rng=random.Random(1))
    first = []
    for _ in range(50):
        first.append(b.next_delay())
        b.reset()
    assert len(set(first)) > 40 and min(first) >= 0.1 and max(first) <= 0.125


@pytest.mark.parametrize("kwargs, message", [
    ({"initial_s": 0}, "initial_s must be > 0, was 0"),
    ({"multiplier": 0.5}, "multiplier must be >= 1, was 0.5"),
    ({"max_s": 0.1}, "max_s must be >= initial_s"),
    ({"jitter": 2}, "jitter must be in [0, 1], was 2"),
])
def test_bad_config(kwargs, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Backoff(**kwargs)
