"""Whole-series references of the indicators in ``barter.strategy`` (``_core/indicators.pyx``).

Each function takes the full input list and returns one output per input (NaN while not warm),
written from the definitions and in a different arithmetic form from the core (e.g. the EMA as
``prev + k * (x - prev)``, sums with ``math.fsum``), so a shared slip is unlikely.
"""
from __future__ import annotations

import math
from typing import Sequence

NAN = float("nan")


def ema(xs: Sequence[float], period: int) -> list[float]:
    """EMA with k = 2 / (period + 1), seeded by the first input (ta 0.5)."""
    k = 2.0 / (period + 1)
    out: list[float] = []
    for x in xs:
        out.append(x if not out else out[-1] + k * (x - out[-1]))
    return out


def sma(xs: Sequence[float], period: int) -> list[float]:
    """Mean of the last ``period`` inputs (correctly rounded sum); NaN before ``period`` inputs."""
    return [NAN if i + 1 < period else math.fsum(xs[i + 1 - period:i + 1]) / period for i in range(len(xs))]


def seed_rsi(xs: Sequence[float], period: int) -> list[float]:
    """The seed's RSI (ta 0.5 ``RelativeStrengthIndex``).

    First input: gain = loss = 0.1 (so 50.0). Later: gain = x - prev if x > prev else 0,
    loss = prev - x if x <= prev else 0. Both are smoothed by ``ema`` (seeded by their first value,
    0.1); RSI = 100 * gain_ema / (gain_ema + loss_ema), and 50 when both EMAs are 0 (no movement).
    """
    if not xs:
        return []
    gains = [0.1] + [max(b - a, 0.0) for a, b in zip(xs, xs[1:])]
    losses = [0.1] + [max(a - b, 0.0) for a, b in zip(xs, xs[1:])]
    return [50.0 if g + lo == 0.0 else 100.0 * g / (g + lo) for g, lo in zip(ema(gains, period), ema(losses, period))]


def wilder_rsi(xs: Sequence[float], period: int) -> list[float]:
    """Wilder's RSI: NaN for the first ``period`` inputs; at input ``period + 1`` the averages are the
    simple means of the first ``period`` gains and losses, then avg = (avg * (period - 1) + x) / period.
    100 when the average loss is 0 (50 when both averages are 0).
    """
    out = [NAN] * min(period, len(xs))
    if len(xs) <= period:
        return out
    changes = [b - a for a, b in zip(xs, xs[1:])]
    gains = [max(c, 0.0) for c in changes]
    losses = [max(-c, 0.0) for c in changes]
    avg_gain = math.fsum(gains[:period]) / period
    avg_loss = math.fsum(losses[:period]) / period
    for i in range(period, len(xs)):
        if i > period:
            avg_gain = (avg_gain * (period - 1) + gains[i - 1]) / period
            avg_loss = (avg_loss * (period - 1) + losses[i - 1]) / period
        if avg_loss == 0.0:
            out.append(50.0 if avg_gain == 0.0 else 100.0)
        else:
            out.append(100.0 * avg_gain / (avg_gain + avg_loss))
    return out
