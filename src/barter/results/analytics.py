"""The series a tear sheet plots, from the equity curve; definitions match ``EquitySummary``.

Every function takes the equity curve (quote currency, UTC-time index, one point per event) and
returns pandas objects. Returns are fractions (0.01 = 1 %).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


def _month_end() -> str:
    """pandas' month-end frequency alias: "ME" from 2.2 on ("M" is deprecated there), "M" before."""
    import pandas as pd

    major, minor = (int(x) for x in pd.__version__.split(".")[:2])
    return "ME" if (major, minor) >= (2, 2) else "M"


def drawdown(equity: pd.Series) -> pd.Series:
    """Fraction ≤ 0 below the running peak: equity / cummax(equity) − 1, at every event."""
    return (equity / equity.cummax() - 1.0).rename("drawdown")


def daily_equity(equity: pd.Series) -> pd.Series:
    """Each UTC day's last equity, for the days with events (a day without any is not in it)."""
    return equity.resample("1D").last().dropna().rename("equity")


def daily_returns(equity: pd.Series, starting_equity: float) -> pd.Series:
    """Each UTC day's last equity over the previous such day's, − 1 (the first day over
    ``starting_equity``), for the days with events: a day without any has no return.

    The same returns as ``EquitySummary`` (``days``, ``mean_daily_return``, ``sharpe``).
    """
    daily = daily_equity(equity)
    previous = daily.shift(1)
    if len(previous):
        previous.iloc[0] = starting_equity
    return (daily / previous - 1.0).rename("return")


def monthly_returns(equity: pd.Series, starting_equity: float) -> pd.DataFrame:
    """Calendar-month returns (UTC) as a table: one row per year, columns 1..12 (NaN: no data).

    Each month's last equity over the previous month's (the first month over ``starting_equity``), − 1.
    """
    import pandas as pd

    month_end = equity.resample(_month_end()).last().ffill()
    previous = month_end.shift(1)
    if len(previous):
        previous.iloc[0] = starting_equity
    returns = month_end / previous - 1.0
    index = returns.index
    table = pd.DataFrame({"year": index.year, "month": index.month, "return": returns.to_numpy()})
    grid = table.pivot(index="year", columns="month", values="return")
    return grid.reindex(columns=range(1, 13))


def rolling_sharpe(returns: pd.Series, window: int = 30, periods_per_year: int = 365,
                   risk_free_return: float = 0.0) -> pd.Series:
    """Sharpe ratio of the last ``window`` periods: mean(r − rf) / sample std(r) × √periods_per_year.

    NaN until ``window`` returns are available and where the std is 0. With ``window`` equal to the
    number of daily returns the last value is ``EquitySummary.sharpe``.
    """
    if window < 2:
        raise ValueError(f"window must be >= 2 periods, was {window!r}")
    rolling = returns.rolling(window, min_periods=window)
    std = rolling.std(ddof=1)
    ratio = (rolling.mean() - risk_free_return) / std.where(std > 0.0) * math.sqrt(periods_per_year)
    return ratio.rename("sharpe")


def envelope(values: np.ndarray, max_points: int) -> np.ndarray:
    """Indices of at most ≈ ``max_points`` samples that keep every bucket's minimum and maximum.

    For plotting long curves: the thinned line has the same peaks, troughs and drawdowns. Always
    keeps the first and last sample; returns all indices when there are few enough.
    """
    n = len(values)
    if n <= max_points:
        return np.arange(n)
    buckets = max(max_points // 2, 1)
    size = -(-n // buckets)  # ceil
    full = (n // size) * size
    body = np.asarray(values[:full], dtype=np.float64).reshape(-1, size)
    offsets = np.arange(0, full, size)
    picks = [offsets + np.nanargmin(body, axis=1), offsets + np.nanargmax(body, axis=1)]
    if full < n:
        tail = np.asarray(values[full:], dtype=np.float64)
        picks.append(np.array([full + np.nanargmin(tail), full + np.nanargmax(tail)]))
    picks.append(np.array([0, n - 1]))
    return np.unique(np.concatenate(picks))


__all__ = ["daily_equity", "daily_returns", "drawdown", "envelope", "monthly_returns", "rolling_sharpe"]
