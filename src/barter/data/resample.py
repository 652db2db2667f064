"""Longer candles from trades or shorter candles (multi-timeframe), with the compiled aggregator."""
from __future__ import annotations

from typing import Union

from barter._core.aggregate import CandleAggregator, resample as _resample
from barter.data.historic import HistoricalCandles, HistoricalTrades
from barter.errors import ConfigError

_UNITS = {"s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9, "d": 86_400 * 10**9}


def interval_ns(interval: Union[str, int]) -> int:
    """``"1m"``, ``"15m"``, ``"1h"``, ``"1d"``, ``"30s"`` or nanoseconds, as nanoseconds."""
    if isinstance(interval, int):
        ns = interval
    else:
        try:
            ns = int(interval[:-1]) * _UNITS[interval[-1]]
        except (KeyError, ValueError, IndexError):
            raise ConfigError(f"interval must be like '1m', '4h' or '1d', was {interval!r}") from None
    if ns <= 0:
        raise ConfigError(f"interval must be > 0, was {interval!r}")
    return ns


def resample(data: Union[HistoricalCandles, HistoricalTrades], interval: Union[str, int]) -> HistoricalCandles:
    """Candles of ``interval`` (stamped with their close time, UTC-aligned) from candles or trades."""
    if isinstance(data, HistoricalTrades):
        p = data.price
        columns = (data.time_ns, p, p, p, p, data.amount)
    else:
        columns = (data.time_ns, data.open, data.high, data.low, data.close, data.volume)
    t, o, h, lo, c, v, _ = _resample(interval_ns(interval), *columns)
    return HistoricalCandles.from_arrays(t, o, h, lo, c, v, source=f"{data.source} resampled to {interval}",
                                         time_unit="ns")


__all__ = ["CandleAggregator", "interval_ns", "resample"]
