"""The embedded default market for ``barter backtest``: SYNTHETIC one-minute candles, not real prices."""
from __future__ import annotations

import numpy as np

from barter.data.historic import HistoricalCandles
from barter.errors import ConfigError

__all__ = ["default_candles"]

_START_NS = 1_704_067_200_000_000_000  # 2024-01-01T00:00:00Z, UNIX epoch ns
_MINUTE_NS = 60_000_000_000
_START_PRICE = 40_000.0  # USDT per BTC
_SIGMA = 0.0008  # per-minute volatility of log returns
_REGIME_MINUTES = (1_500, 6_000)  # length range of one drift/volatility regime
_MAX_DRIFT = 0.00003  # per-minute log drift at most, sign alternating between regimes
_VOL_RANGE = (0.7, 1.4)  # volatility multiplier range per regime


def default_candles(n: int = 100_000, seed: int = 7) -> HistoricalCandles:
    """SYNTHETIC BTC/USDT-like one-minute candles: a seeded random walk, NOT real market prices.

    Deterministic for a given ``(n, seed)`` (``numpy.random.default_rng(seed)``). Bars start at
    2024-01-01T00:00Z and step exactly one minute. Close prices follow a geometric random walk from
    40,000 USDT with per-minute volatility about 0.0008, cut into regimes of 1,500-6,000 minutes whose
    drift alternates up and down and whose volatility is scaled by 0.7-1.4, so that trend and
    mean-reversion signals (e.g. RSI) fire both ways. ``open[i] == close[i - 1]``; wicks extend
    ``high``/``low`` beyond the body; volume (BTC per minute) is positive and grows with the move size.

    Parameters
    ----------
    n : int
        Number of one-minute candles, >= 1.
    seed : int
        Seed of the NumPy generator.

    Returns
    -------
    HistoricalCandles
        Prices in USDT per 1 BTC, ``time_ns`` in UNIX epoch ns (UTC); ``source`` says it is synthetic.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"n must be an int >= 1, was {n!r}")
    rng = np.random.default_rng(seed)
    drift, vol = _regimes(rng, int(n))
    returns = drift + _SIGMA * vol * rng.standard_normal(n)
    close = _START_PRICE * np.exp(np.cumsum(returns))
    open_ = np.concatenate(([_START_PRICE], close[:-1]))
    wick_up = np.abs(rng.standard_normal(n)) * 0.5 * _SIGMA * vol
    wick_down = np.abs(rng.standard_normal(n)) * 0.5 * _SIGMA * vol
    high = np.maximum(open_, close) * np.exp(wick_up)
    low = np.minimum(open_, close) * np.exp(-wick_down)
    volume = rng.lognormal(np.log(2.0), 0.6, n) * (1.0 + np.abs(returns) / _SIGMA)
    time_ns = _START_NS + np.arange(n, dtype=np.int64) * _MINUTE_NS
    return HistoricalCandles.from_arrays(time_ns, open_, high, low, close, volume,
                                         source=f"default_candles(n={n}, seed={seed}): SYNTHETIC")


def _regimes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-minute drift and volatility multiplier, constant within each regime."""
    lengths: list[int] = []
    while sum(lengths) < n:
        lengths.append(int(rng.integers(*_REGIME_MINUTES)))
    k = len(lengths)
    signs = np.where(np.arange(k) % 2 == 0, 1.0, -1.0) * (1.0 if rng.random() < 0.5 else -1.0)
    drift = signs * rng.uniform(0.0, _MAX_DRIFT, k)
    vol = rng.uniform(*_VOL_RANGE, k)
    return np.repeat(drift, lengths)[:n], np.repeat(vol, lengths)[:n]
