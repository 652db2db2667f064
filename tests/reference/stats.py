"""Whole-series references of the one-pass statistics in ``barter._core.stats`` and of the summary
formulas in ``barter.statistic.summary`` (SEED.md §3).

Slow and obviously right, and written in a different form from the core so a shared slip is
unlikely: two passes over the whole sample (mean first, then squared deviations; exact rationals
over the float samples, so the reference adds no rounding) instead of Welford's shifted update;
drawdowns from ``np.maximum.accumulate`` with the episodes segmented explicitly
from the under-water mask instead of a state machine; daily returns from a pandas resample instead
of day arithmetic; the seed's drawdown as the literal four-case table with its ``Range`` struct.
Nothing here imports ``src/``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd

NAN = float("nan")
DAY_NS = 86_400 * 10**9


# --------------------------------------------------------------------------------------------------
# Moments and downside deviation
# --------------------------------------------------------------------------------------------------
def exact_mean_m2(xs: Sequence[float]) -> tuple[Fraction, Fraction]:
    """The two passes in exact rational arithmetic over the float samples: the mean, then the sum
    of squared deviations from it. Exact, so the reference adds no rounding of its own however
    ill-conditioned the data (a large offset with a tiny spread)."""
    fx = [Fraction(x) for x in xs]
    mean = sum(fx, Fraction(0)) / len(fx)
    return mean, sum(((x - mean) ** 2 for x in fx), Fraction(0))


def moments(xs: Sequence[float]) -> dict[str, float]:
    """Two-pass moments (``exact_mean_m2``), rounded once to float; min/max/range with NumPy.

    Empty: every moment NaN (count 0, sum 0, m2 0); one sample: variance 0, sample variance NaN.
    """
    x = np.asarray(xs, dtype=np.float64)
    n = len(x)
    if n == 0:
        return {"count": 0, "sum": 0.0, "mean": NAN, "m2": 0.0, "variance": NAN, "sample_variance": NAN,
                "std": NAN, "sample_std": NAN, "min": NAN, "max": NAN, "range": NAN}
    mean, m2 = exact_mean_m2(x.tolist())
    return {
        "count": n, "sum": math.fsum(x.tolist()), "mean": float(mean), "m2": float(m2),
        "variance": float(m2 / n), "sample_variance": float(m2 / (n - 1)) if n > 1 else NAN,
        "std": math.sqrt(m2 / n), "sample_std": math.sqrt(m2 / (n - 1)) if n > 1 else NAN,
        "min": float(np.min(x)), "max": float(np.max(x)), "range": float(np.max(x) - np.min(x)),
    }


def numpy_moments(xs: Sequence[float]) -> dict[str, float]:
    """The same with NumPy's float64 two-pass (``np.var``), for well-conditioned data."""
    x = np.asarray(xs, dtype=np.float64)
    return {"mean": float(np.mean(x)), "variance": float(np.var(x)),
            "sample_variance": float(np.var(x, ddof=1)) if len(x) > 1 else NAN}


def welford_dict(xs: Sequence[float]) -> dict[str, float]:
    """The core's Welford state dict (count, sum, mean, m2, low, high); all 0 when empty."""
    if len(xs) == 0:
        return {"count": 0, "sum": 0.0, "mean": 0.0, "m2": 0.0, "low": 0.0, "high": 0.0}
    m = moments(xs)
    return {"count": m["count"], "sum": m["sum"], "mean": m["mean"], "m2": m["m2"], "low": m["min"],
            "high": m["max"]}


def downside_sum_sq(xs: Sequence[float], target: float = 0.0) -> float:
    """Σ min(x − target, 0)²."""
    short = np.minimum(np.asarray(xs, dtype=np.float64) - target, 0.0)
    return float(np.sum(short * short))


def downside_deviation(xs: Sequence[float], target: float = 0.0) -> float:
    """sqrt(Σ min(x − target, 0)² / n); NaN when empty."""
    return math.sqrt(downside_sum_sq(xs, target) / len(xs)) if len(xs) else NAN


# --------------------------------------------------------------------------------------------------
# Drawdowns of an equity curve
# --------------------------------------------------------------------------------------------------
def drawdowns(times: Sequence[int], equity: Sequence[float], start: Optional[float] = None) -> dict[str, Any]:
    """Drawdowns below the running peak, two passes over the whole curve.

    ``start`` (EquityStats) is a first point at the first point's time. A point at or above the
    running peak is a peak (ties too: the episode starts at the *last* point at the peak). An
    episode is a maximal run of points below the peak; it starts at the peak point just before the
    run and ends at the first point back at the peak (recovery), or at the latest point when still
    in progress. Time under water sums the intervals that start at a point below the peak.
    """
    t = np.asarray(times, dtype=np.int64)
    e = np.asarray(equity, dtype=np.float64)
    if start is not None and len(t):
        t = np.concatenate([t[:1], t])
        e = np.concatenate([[start], e])
    n = len(e)
    if n == 0:
        return {"points": 1 if start is not None else 0, "peak": start if start is not None else NAN,
                "current": 0.0, "max": 0.0, "max_duration_ns": 0, "episodes": 0, "mean": 0.0,
                "mean_duration_ns": 0.0, "underwater_ns": 0, "current_duration_ns": 0}
    peak = np.maximum.accumulate(e)
    dd = (e - peak) / peak
    under = dd < 0.0
    underwater = int(np.sum(np.diff(t)[under[:-1]]))
    # explicit segmentation: runs of ``under``, padded with False at both ends
    edges = np.diff(np.concatenate([[0], under.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)          # first point below the peak
    ends = np.flatnonzero(edges == -1)           # first point back at the peak (n: still under)
    depths, durations = [], []
    for s, r in zip(starts, ends):
        assert s >= 1 and not under[s - 1]       # the first point is its own peak
        begin = t[s - 1]
        finish = t[r] if r < n else t[-1]
        depths.append(float(np.min(dd[s:r])))
        durations.append(int(finish - begin))
    in_progress = bool(under[-1])
    return {
        "points": n, "peak": float(peak[-1]), "current": float(dd[-1]), "max": float(np.min(dd)),
        "max_duration_ns": max(durations, default=0), "episodes": len(depths),
        "mean": float(np.mean(depths)) if depths else 0.0,
        "mean_duration_ns": float(np.mean(durations)) if durations else 0.0,
        "underwater_ns": underwater,
        "current_duration_ns": int(t[-1] - t[starts[-1] - 1]) if in_progress else 0,
    }


# --------------------------------------------------------------------------------------------------
# Daily returns
# --------------------------------------------------------------------------------------------------
def daily_closes(times_ns: Sequence[int], equity: Sequence[float]) -> pd.Series:
    """The equity curve resampled to UTC days: each day's last value; a day without points is not
    in the series (no return for it; the next day's return is over the last close before it)."""
    s = pd.Series(np.asarray(equity, dtype=np.float64),
                  index=pd.to_datetime(np.asarray(times_ns, dtype=np.int64), unit="ns", utc=True))
    return s.resample("1D").last().dropna()


def daily_returns(times_ns: Sequence[int], equity: Sequence[float], start: float) -> np.ndarray:
    """pct_change of the daily closes (days with points) with the starting equity prepended."""
    if len(times_ns) == 0:
        return np.empty(0)
    closes = daily_closes(times_ns, equity)
    before = pd.Series([start], index=[closes.index[0] - pd.Timedelta(days=1)])
    return pd.concat([before, closes]).pct_change(fill_method=None).iloc[1:].to_numpy()


# --------------------------------------------------------------------------------------------------
# The seed's drawdown over exit balances (SEED.md §3), literally
# --------------------------------------------------------------------------------------------------
@dataclass
class SeedRange:
    activated: bool = False
    high: float = 0.0
    low: float = 0.0

    def update(self, x: float) -> None:
        if not self.activated:
            self.activated, self.high, self.low = True, x, x
        else:
            self.high, self.low = max(self.high, x), min(self.low, x)


@dataclass
class SeedDrawdownRef:
    """Drawdown{equity_range, drawdown, start_time, duration}; MaxDrawdown; AvgDrawdown.

    ``summary(fold_open=True)`` is barter's fix (seed-differences #3): a drawdown still open is
    folded into max and average; the seed (``fold_open=False``) never counts it. Average duration
    is a float mean in ns (seed-differences #4).
    """

    starting_equity: float
    range: SeedRange = field(init=False)
    drawdown: float = 0.0
    start_ns: int = 0
    duration_ns: int = 0
    max_drawdown: float = 0.0
    max_duration_ns: int = 0
    ended: list[tuple[float, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.range = SeedRange(True, self.starting_equity, self.starting_equity)

    def calculate(self) -> float:
        return -(self.range.high - self.range.low) / self.range.high

    def update(self, time_ns: int, total: float) -> Optional[tuple[float, int]]:
        waiting = self.drawdown == 0.0
        above = total > self.range.high
        if waiting and above:                           # A: a new peak
            self.range.high = total
            return None
        if waiting:                                     # B: a drawdown starts
            self.start_ns = time_ns
            self.range.low = total
            self.drawdown = self.calculate()
            return None
        if not above:                                   # C: still under the peak
            self.duration_ns = time_ns - self.start_ns
            self.range.update(total)
            self.drawdown = self.calculate()
            return None
        ended = (self.drawdown, self.duration_ns)       # D: recovered above the peak
        self.drawdown, self.duration_ns = 0.0, 0
        self.range.high = total
        self._record(ended)
        return ended

    def _record(self, dd: tuple[float, int]) -> None:
        self.ended.append(dd)
        if abs(dd[0]) > abs(self.max_drawdown):
            self.max_drawdown, self.max_duration_ns = dd

    def summary(self, fold_open: bool = True) -> dict[str, Any]:
        done = list(self.ended)
        max_dd, max_dur = self.max_drawdown, self.max_duration_ns
        if fold_open and self.drawdown != 0.0:
            done.append((self.drawdown, self.duration_ns))
            if abs(self.drawdown) > abs(max_dd):
                max_dd, max_dur = self.drawdown, self.duration_ns
        return {
            "seed_current_drawdown": self.drawdown, "seed_max_drawdown": max_dd,
            "seed_max_drawdown_duration_ns": max_dur, "seed_drawdown_count": len(done),
            "seed_avg_drawdown": float(np.mean([d for d, _ in done])) if done else 0.0,
            "seed_avg_drawdown_duration_ns": float(np.mean([u for _, u in done])) if done else 0.0,
        }


# --------------------------------------------------------------------------------------------------
# Trades, and the summary formulas
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RefTrade:
    enter_ns: int
    exit_ns: int
    pnl_return: float
    pnl: float
    equity: float  # the balance total after the exit


def trade_state(trades: Sequence[RefTrade], starting_equity: float, rfr: float = 0.0) -> dict[str, Any]:
    """What ``TradeStats.state()`` should hold after pushing ``trades`` in order."""
    r = [t.pnl_return for t in trades]
    loss = [math.copysign(1.0, x) < 0 for x in r]          # the sign bit: -0.0 is a loss
    seed = SeedDrawdownRef(starting_equity)
    for t in trades:
        seed.update(t.exit_ns, t.equity)
    return {
        "starting_equity": starting_equity,
        "start_ns": min(t.enter_ns for t in trades) if trades else 0,   # the first entry
        "end_ns": max([0] + [t.exit_ns for t in trades]),
        "holding_ns": sum(t.exit_ns - t.enter_ns for t in trades),
        "returns": welford_dict(r),
        "losses": welford_dict([x for x, lo in zip(r, loss) if lo]),
        "pnl": welford_dict([t.pnl for t in trades]),
        "downside": {"count": len(r), "target": rfr, "sum_sq": downside_sum_sq(r, rfr)},
        "gross_profit": math.fsum(t.pnl for t, lo in zip(trades, loss) if not lo),
        "gross_loss": math.fsum(t.pnl for t, lo in zip(trades, loss) if lo),
        **seed.summary(fold_open=True),
    }


def trade_summary(trades: Sequence[RefTrade], starting_equity: float, rfr: float,
                  trading_days_per_year: int) -> dict[str, float]:
    """The per-trade figures of ``TradingSummary``, from its docstring, straight from the trades."""
    r = np.array([t.pnl_return for t in trades], dtype=np.float64)
    pnl = np.array([t.pnl for t in trades], dtype=np.float64)
    n = len(r)
    is_loss = np.signbit(r)
    wins, losses = int(n - is_loss.sum()), int(is_loss.sum())
    seed = SeedDrawdownRef(starting_equity)
    for t in trades:
        seed.update(t.exit_ns, t.equity)
    sd = seed.summary(fold_open=True)
    period = (max(t.exit_ns for t in trades) - min(t.enter_ns for t in trades)) if n else 0
    tpd = n / (max(period, 10**9) / DAY_NS) if n else 0.0
    mean = float(np.mean(r)) if n else 0.0
    std = math.sqrt(exact_mean_m2(r.tolist())[1] / n) if n else 0.0   # population
    down = math.sqrt(float(np.mean(np.minimum(r - rfr, 0.0) ** 2))) if n else 0.0

    def ratio(den: float) -> float:
        return (mean - rfr) / den if den != 0.0 else 0.0

    per_trade = {"sharpe": ratio(std), "sortino": ratio(down), "calmar": ratio(abs(sd["seed_max_drawdown"]))}
    gp, gl = float(pnl[~is_loss].sum()), float(pnl[is_loss].sum())
    out = {
        "trades": n, "wins": wins, "losses": losses, "win_rate": wins / n if n else 0.0,
        "trades_per_day": tpd, "trading_days": period // DAY_NS,
        "total_return": float(r.sum()), "mean_return": mean, "std_dev_return": std,
        "loss_mean_return": float(np.mean(r[is_loss])) if losses else 0.0,
        "biggest_win": float(r.max()) if n else 0.0, "biggest_loss": float(r.min()) if n else 0.0,
        "total_pnl": float(pnl.sum()), "expectancy": float(pnl.mean()) if n else 0.0,
        "avg_win": gp / wins if wins else 0.0, "avg_loss": gl / losses if losses else 0.0,
        "profit_factor": gp / abs(gl) if gl != 0.0 else (math.inf if gp > 0 else 0.0),
        "max_drawdown": sd["seed_max_drawdown"], "avg_drawdown": sd["seed_avg_drawdown"],
        "current_drawdown": sd["seed_current_drawdown"],
        "max_drawdown_days": sd["seed_max_drawdown_duration_ns"] // DAY_NS,
        "avg_drawdown_days": int(sd["seed_avg_drawdown_duration_ns"] // DAY_NS),
    }
    for name, value in per_trade.items():
        out[f"{name}_per_trade"] = value
        out[f"{name}_daily"] = value * math.sqrt(tpd)
        out[f"{name}_annual"] = value * math.sqrt(tpd) * math.sqrt(trading_days_per_year)
    return out


def _cagr(growth: float, exponent: float) -> float:
    try:
        return growth ** exponent - 1.0
    except OverflowError:
        return math.inf


def equity_summary(times_ns: Sequence[int], equity: Sequence[float], start: float, rfr: float,
                   trading_days_per_year: int, span_ns: int) -> dict[str, float]:
    """``EquitySummary``'s figures from its docstring: daily returns with sample std, ×√days/year."""
    r = daily_returns(times_ns, equity, start)
    days = len(r)
    end = float(equity[-1]) if len(equity) else start
    ann = math.sqrt(trading_days_per_year)
    sample_std = math.sqrt(exact_mean_m2(r.tolist())[1] / (days - 1)) if days > 1 else 0.0
    down = math.sqrt(float(np.mean(np.minimum(r - rfr, 0.0) ** 2))) if days else 0.0
    excess = float(np.mean(r)) - rfr if days else 0.0
    dd = drawdowns(times_ns, equity, start)
    return {
        "start": start, "end": end, "days": days, "total_return": end / start - 1.0,
        "cagr": _cagr(end / start, trading_days_per_year / days) if days else 0.0,
        "mean_daily_return": float(np.mean(r)) if days else 0.0,
        "volatility": sample_std * ann,
        "sharpe": excess / sample_std * ann if sample_std else 0.0,
        "sortino": excess / down * ann if down else 0.0,
        "max_drawdown": dd["max"], "max_drawdown_days": dd["max_duration_ns"] / DAY_NS,
        "avg_drawdown": dd["mean"], "avg_drawdown_days": dd["mean_duration_ns"] / DAY_NS,
        "current_drawdown": dd["current"], "drawdowns": dd["episodes"],
        "time_under_water": dd["underwater_ns"] / span_ns if span_ns else 0.0,
    }
