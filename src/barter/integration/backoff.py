"""Reconnect delays: the seed's exponential backoff (SEED.md section 7) with jitter.

barter-data's ``STREAM_RECONNECTION_POLICY``: the first delay is 125 ms, each failure doubles it,
it never exceeds 60 s, and a successful connection resets it. Jitter takes up to ``jitter`` of each
delay off at random, so many clients dropped at once do not reconnect in lock step, and no delay
is ever longer than the seed's.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from barter.errors import ConfigError


@dataclass(slots=True)
class Backoff:
    """Exponential backoff with jitter.

    Parameters
    ----------
    initial_s : float
        First delay, seconds (seed: 0.125).
    multiplier : float
        Growth per failure (seed: 2).
    max_s : float
        Cap, seconds (seed: 60).
    jitter : float
        Fraction in [0, 1]: each delay is drawn uniformly from ``[d * (1 - jitter), d]``.
    rng : random.Random
        Source of the jitter (give a seeded one for reproducible delays).

    Attributes
    ----------
    current_s : float
        The next delay before jitter.
    attempts : int
        Delays handed out since the last reset.
    """

    initial_s: float = 0.125
    multiplier: float = 2.0
    max_s: float = 60.0
    jitter: float = 0.2
    rng: random.Random = field(default_factory=random.Random)
    current_s: float = field(init=False)
    attempts: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if not self.initial_s > 0:
            raise ConfigError(f"initial_s must be > 0, was {self.initial_s!r}")
        if not self.multiplier >= 1:
            raise ConfigError(f"multiplier must be >= 1, was {self.multiplier!r}")
        if not self.max_s >= self.initial_s:
            raise ConfigError(f"max_s must be >= initial_s ({self.initial_s!r}), was {self.max_s!r}")
        if not 0 <= self.jitter <= 1:
            raise ConfigError(f"jitter must be in [0, 1], was {self.jitter!r}")
        self.current_s = self.initial_s

    def next_delay(self) -> float:
        """The delay to wait now, seconds; the following one grows by ``multiplier`` up to ``max_s``."""
        delay = self.current_s
        self.current_s = min(self.current_s * self.multiplier, self.max_s)
        self.attempts += 1
        return delay * (1.0 - self.jitter * self.rng.random())

    def reset(self) -> None:
        """After a successful connection: the next delay is ``initial_s`` again."""
        self.current_s = self.initial_s
        self.attempts = 0
