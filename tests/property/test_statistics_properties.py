"""Hypothesis: the compiled one-pass statistics (``barter._core.stats``) and the summaries derived from
them (``barter.statistic.summary``) against whole-series references (``tests/reference/stats.py``)
and empyrical.

Samples mix wide-range floats, a large offset with a small spread (up to 1e12 ± 1e-3), and heavy
ties; equity curves have irregular timestamps (equal times, hours, gaps of 1–5 days) with random
walks or a few repeated levels (ties at the peak). Example counts come from the hypothesis profile
in tests/conftest.py.

Tolerance: rel 1e-9. Quantities that are differences of larger numbers (a sum or mean of
mixed-sign samples, a ratio's excess mean − risk-free) also allow 1e-9 of the magnitudes involved
(the largest |sample|; |mean| + |rf| over the denominator), as the float rounding of any correct
implementation scales with those. Variances are compared without a floor: the reference is exact.
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Sequence

import empyrical
import numpy as np
import pytest
from hypothesis import assume, given, note
from hypothesis import strategies as st

from barter._core.stats import DownsideDeviation, DrawdownTracker, EquityStats, RunningStats, TradeStats
from barter.statistic import StatisticConfig, TradingSummary
from barter.statistic.summary import EquitySummary
from reference.stats import (
    DAY_NS, RefTrade, daily_returns, downside_deviation, downside_sum_sq, drawdowns, equity_summary, moments,
    trade_state, trade_summary, welford_dict,
)

REL = 1e-9
T0 = 1_640_995_200 * 10**9  # 2022-01-01 00:00 UTC
HOUR = 3600 * 10**9


def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def close(actual: float, expected: float, floor: float = 0.0) -> bool:
    """rel 1e-9 of ``expected`` or of ``floor`` (the magnitudes involved); NaN equals NaN."""
    if math.isnan(expected) or math.isnan(actual):
        return math.isnan(expected) and math.isnan(actual)
    if math.isinf(expected) or math.isinf(actual):
        return actual == expected
    return abs(actual - expected) <= REL * max(abs(expected), floor)


def assert_close(actual: dict[str, Any], expected: dict[str, Any], floors: dict[str, float] | None = None) -> None:
    """Every key of ``expected``: ints exactly, floats by ``close``."""
    floors = floors or {}
    for k, want in expected.items():
        got = actual[k]
        if isinstance(want, (int, np.integer)) and not isinstance(want, bool):
            assert got == want, (k, got, want)
        else:
            assert close(float(got), float(want), floors.get(k, 0.0)), (k, got, want)


# --------------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------------
@st.composite
def samples(draw: Any, min_size: int = 0, max_size: int = 120) -> list[float]:
    n = draw(st.integers(min_size, max_size))
    kind = draw(st.sampled_from(["wide", "offset", "ties"]))
    if kind == "wide":
        return draw(st.lists(floats(-1e9, 1e9).map(lambda x: x if abs(x) >= 1e-6 else 0.0),
                             min_size=n, max_size=n))
    if kind == "offset":
        offset = draw(st.sampled_from([1.0, -1e3, 1e6, 1e9, -1e9, 1e12]))
        scale = draw(st.sampled_from([1e-3, 1.0, 1e3]))
        return [offset + scale * z for z in draw(st.lists(floats(-1.0, 1.0), min_size=n, max_size=n))]
    return draw(st.lists(st.sampled_from([-2.5, 0.0, 1.0, 3.0, 1e6]), min_size=n, max_size=n))


gaps_st = st.one_of(st.just(0), st.integers(1, 6 * HOUR), st.integers(DAY_NS, 5 * DAY_NS))


@st.composite
def curves(draw: Any, min_points: int = 1, max_points: int = 60, realistic: bool = False):
    """(times ns, equity > 0): irregular, non-decreasing times from T0; a random walk or ties."""
    n = draw(st.integers(min_points, max_points))
    if n == 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    first = T0 + draw(st.integers(0, DAY_NS - 1))
    times = (first + np.cumsum([0] + draw(st.lists(gaps_st, min_size=n - 1, max_size=n - 1)))).astype(np.int64)
    if realistic or draw(st.booleans()):
        width = 0.05 if realistic else 0.3
        steps = draw(st.lists(floats(-width, width), min_size=n, max_size=n))
        equity = draw(floats(100.0, 1e5)) * np.exp(np.cumsum(steps))
    else:
        equity = np.array(draw(st.lists(st.sampled_from([90.0, 100.0, 100.0, 110.0, 120.0]), min_size=n,
                                        max_size=n)))
    return times, np.ascontiguousarray(equity, dtype=np.float64)


rfr_st = st.sampled_from([0.0, 0.0, 0.001, -0.002]) | floats(-0.01, 0.01)


def running(xs: Sequence[float], bulk: bool) -> RunningStats:
    r = RunningStats()
    if bulk:
        r.push_many(np.asarray(xs, dtype=np.float64))
    else:
        for x in xs:
            r.push(x)
    return r


def running_dict(r: RunningStats) -> dict[str, float]:
    return {k: getattr(r, k) for k in ("count", "sum", "mean", "m2", "variance", "sample_variance", "std",
                                        "sample_std", "min", "max", "range")}


def moment_floors(xs: Sequence[float]) -> dict[str, float]:
    big = max((abs(x) for x in xs), default=0.0)
    return {"sum": big, "mean": big}


# --------------------------------------------------------------------------------------------------
# Moments, downside deviation, merging
# --------------------------------------------------------------------------------------------------
@given(samples(), st.booleans())
def test_running_stats_equal_two_pass_reference(xs, bulk):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # empty / one sample: defined results, no RuntimeWarning
        r = running(xs, bulk)
        got = running_dict(r)
    assert_close(got, moments(xs), moment_floors(xs))
    if xs:
        assert got["range"] == max(xs) - min(xs) and (got["min"], got["max"]) == (min(xs), max(xs))
    if len(xs) == 1:
        assert got["variance"] == 0.0 and math.isnan(got["sample_variance"])


@given(samples(), rfr_st, st.booleans())
def test_downside_deviation_equals_reference(xs, target, bulk):
    d = DownsideDeviation(target)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if bulk:
            d.push_many(np.asarray(xs, dtype=np.float64))
        else:
            for x in xs:
                d.push(x)
        value = d.value
    assert d.count == len(xs) and d.target == target
    assert close(value, downside_deviation(xs, target))


@given(samples(max_size=150), st.lists(st.integers(0, 150), max_size=4), rfr_st, st.data())
def test_merge_equals_one_accumulator_over_the_concatenation(xs, cuts, target, data):
    bounds = [0, *sorted(min(c, len(xs)) for c in cuts), len(xs)]
    parts = [xs[a:b] for a, b in zip(bounds, bounds[1:])]
    merged, down = running(parts[0], data.draw(st.booleans())), DownsideDeviation(target)
    down.push_many(np.asarray(parts[0], dtype=np.float64))
    for part in parts[1:]:
        assert merged.merge(running(part, data.draw(st.booleans()))) is merged
        other = DownsideDeviation(target)
        other.push_many(np.asarray(part, dtype=np.float64))
        down.merge(other)
    whole = running_dict(running(xs, False))
    got = running_dict(merged)
    assert got["count"] == whole["count"] == len(xs)
    assert (got["min"], got["max"]) == pytest.approx((whole["min"], whole["max"]), rel=0, nan_ok=True)
    floors = moment_floors(xs)
    for k in ("sum", "mean", "m2", "variance", "sample_variance", "std", "sample_std", "range"):
        assert close(got[k], whole[k], floors.get(k, 0.0)), (k, got[k], whole[k])
    assert down.count == len(xs) and close(down.value, downside_deviation(xs, target))


# --------------------------------------------------------------------------------------------------
# Drawdowns
# --------------------------------------------------------------------------------------------------
@given(curves(min_points=0), st.booleans())
def test_drawdown_tracker_equals_two_pass_reference(curve, bulk):
    times, equity = curve
    d = DrawdownTracker()
    if bulk:
        d.update_many(times, equity)
    else:
        for t, e in zip(times.tolist(), equity.tolist()):
            d.update(t, e)
    got, want = d.state(), drawdowns(times, equity)
    if len(times) == 0:
        assert math.isnan(got.pop("peak")) and math.isnan(want.pop("peak"))
    assert_close(got, want)
    assert set(got) == set(want)


@given(curves(), floats(50.0, 2e5))
def test_equity_stats_drawdowns_start_at_the_starting_equity(curve, start):
    times, equity = curve
    e = EquityStats(start)
    e.update_many(times, equity)
    assert_close(e.state()["drawdowns"], drawdowns(times, equity, start))


@given(curves(), st.lists(st.integers(0, 60), max_size=5))
def test_reading_state_mid_stream_changes_nothing(curve, reads):
    times, equity = curve
    read, quiet = EquityStats(1000.0), EquityStats(1000.0)
    snapshots = {}
    for i, (t, v) in enumerate(zip(times.tolist(), equity.tolist())):
        read.update(t, v)
        quiet.update(t, v)
        if i in reads:
            snapshots[i] = read.state()
            assert read.state() == snapshots[i]
    for i in snapshots:  # a snapshot equals a fresh accumulator fed the prefix
        prefix = EquityStats(1000.0)
        prefix.update_many(times[:i + 1], equity[:i + 1])
        assert prefix.state() == snapshots[i]
    assert read.state() == quiet.state()


# --------------------------------------------------------------------------------------------------
# Daily returns
# --------------------------------------------------------------------------------------------------
@given(curves(max_points=80), floats(50.0, 2e5), rfr_st)
def test_daily_returns_equal_pandas_resample(curve, start, rfr):
    times, equity = curve
    e = EquityStats(start, rfr)
    e.update_many(times, equity)
    daily = e.state()["daily"]
    r = daily_returns(times, equity, start)
    note(f"daily returns {r.tolist()}")
    days = len(np.unique(times // DAY_NS))  # the days with points: a day without any has no return
    assert len(r) == days and daily["returns"]["count"] == days
    assert (daily["points"], daily["last"], daily["last_ns"]) == (len(times), equity[-1], times[-1])
    assert_close(daily["returns"], welford_dict(r.tolist()), moment_floors(r.tolist()))
    assert (daily["returns"]["low"], daily["returns"]["high"]) == (r.min(), r.max())
    assert daily["downside"]["count"] == days and daily["downside"]["target"] == rfr
    assert close(daily["downside"]["sum_sq"], downside_sum_sq(r, rfr))


# --------------------------------------------------------------------------------------------------
# Equity-curve ratios: the summary's formulas and empyrical
# --------------------------------------------------------------------------------------------------
def _config(start: float, tdpy: int, rfr: float) -> StatisticConfig:
    return StatisticConfig(starting_equity=start, trading_days_per_year=tdpy, risk_free_return=rfr)


def _ratio_floor(mean: float, rfr: float, den: float, scale: float) -> float:
    return (abs(mean) + abs(rfr)) / den * scale if den else 0.0


@given(curves(min_points=1, max_points=80), floats(50.0, 2e5), st.sampled_from([365, 252, 360]),
       rfr_st)
def test_equity_summary_equals_formula_reference(curve, start, tdpy, rfr):
    times, equity = curve
    e = EquityStats(start, rfr)
    e.update_many(times, equity)
    span = int(times[-1] - times[0])
    got = EquitySummary.from_state(e.state(), span, _config(start, tdpy, rfr))
    want = equity_summary(times, equity, start, rfr, tdpy, span)
    r = daily_returns(times, equity, start)
    ann = math.sqrt(tdpy)
    sample_std = want["volatility"] / ann            # exact (rational) sample std, rounded once
    down = downside_deviation(r, rfr)
    floors = {"sharpe": _ratio_floor(float(np.mean(r)), rfr, sample_std, ann),
              "sortino": _ratio_floor(float(np.mean(r)), rfr, down, ann),
              "mean_daily_return": float(np.max(np.abs(r))), "cagr": 1.0}
    assert_close(vars_of(got), want, floors)


def vars_of(summary: Any) -> dict[str, Any]:
    return {f: getattr(summary, f) for f in summary.__dataclass_fields__}


@given(curves(min_points=2, max_points=80, realistic=True), floats(50.0, 2e5),
       st.sampled_from([365, 252]), rfr_st)
def test_equity_summary_equals_empyrical(curve, start, tdpy, rfr):
    times, equity = curve
    r = daily_returns(times, equity, start)
    assume(len(r) >= 2)
    e = EquityStats(start, rfr)
    e.update_many(times, equity)
    got = EquitySummary.from_state(e.state(), int(times[-1] - times[0]), _config(start, tdpy, rfr))
    ann = math.sqrt(tdpy)
    std = float(np.std(r, ddof=1))
    down = downside_deviation(r, rfr)
    mean = float(np.mean(r))
    with np.errstate(all="ignore"):
        sharpe = empyrical.sharpe_ratio(r, risk_free=rfr, annualization=tdpy)
        sortino = empyrical.sortino_ratio(r, required_return=rfr, annualization=tdpy)
        vol = empyrical.annual_volatility(r, annualization=tdpy)
        cagr = empyrical.cagr(r, annualization=tdpy)
    if std > 0:
        assert close(got.sharpe, sharpe, _ratio_floor(mean, rfr, std, ann))
    else:
        assert got.sharpe == 0.0
    if down > 0:
        assert close(got.sortino, sortino, _ratio_floor(mean, rfr, down, ann))
    else:
        assert got.sortino == 0.0
    assert close(got.volatility, vol)
    # empyrical compounds the returns (∏(1 + r)), the summary divides end by start: n·u apart
    assert got.cagr == pytest.approx(cagr, rel=REL, abs=1e-12 * tdpy)
    # per-event returns, with a 0 return first so the starting equity is a point for any version
    events = np.concatenate([[0.0], equity / np.concatenate([[start], equity[:-1]]) - 1.0])
    assert got.max_drawdown == pytest.approx(empyrical.max_drawdown(events), rel=REL, abs=1e-12)


# --------------------------------------------------------------------------------------------------
# Trades: TradeStats state and the per-trade summary
# --------------------------------------------------------------------------------------------------
@st.composite
def trade_lists(draw: Any, max_trades: int = 40) -> tuple[float, list[RefTrade]]:
    start = draw(st.sampled_from([1000.0, 10_000.0]) | floats(100.0, 1e6))
    n = draw(st.integers(0, max_trades))
    t, equity, trades = T0 + 3 * DAY_NS, start, []
    returns = st.one_of(floats(-0.5, 0.5), st.sampled_from([0.0, -0.0, 0.1, -0.1, 0.02]))
    for _ in range(n):
        # in exit order, as the Total row gets them: a later exit may have entered earlier
        # (several markets' trades overlap), so the first entry is not the first trade's
        exit_ = t + draw(st.integers(0, DAY_NS))
        enter = exit_ - draw(st.one_of(st.just(0), st.integers(1, 3 * DAY_NS)))
        r = draw(returns)
        pnl = r * draw(floats(1.0, 0.5 * equity))
        equity += pnl
        trades.append(RefTrade(enter, exit_, r, pnl, equity))
        t = exit_
    return start, trades


def _trade_stats(start: float, rfr: float, trades: Sequence[RefTrade], bulk: bool) -> TradeStats:
    s = TradeStats(start, rfr)
    if bulk:
        cols = list(zip(*[(t.enter_ns, t.exit_ns, t.pnl_return, t.pnl, t.equity) for t in trades])) or [()] * 5
        s.push_many(np.array(cols[0], dtype=np.int64), np.array(cols[1], dtype=np.int64),
                    np.array(cols[2], dtype=np.float64), np.array(cols[3], dtype=np.float64),
                    np.array(cols[4], dtype=np.float64))
    else:
        for t in trades:
            s.push(t.enter_ns, t.exit_ns, t.pnl_return, t.pnl, t.equity)
    return s


@given(trade_lists(), rfr_st, st.booleans())
def test_trade_stats_equal_reference(case, rfr, bulk):
    start, trades = case
    got, want = _trade_stats(start, rfr, trades, bulk).state(), trade_state(trades, start, rfr)
    r, pnl = [t.pnl_return for t in trades], [t.pnl for t in trades]
    for k in ("returns", "losses", "pnl"):
        xs = {"returns": r, "pnl": pnl, "losses": [x for x in r if math.copysign(1, x) < 0]}[k]
        assert_close(got[k], want[k], moment_floors(xs))
    assert got["downside"]["count"] == want["downside"]["count"] and got["downside"]["target"] == rfr
    assert close(got["downside"]["sum_sq"], want["downside"]["sum_sq"])
    big = max((abs(p) for p in pnl), default=0.0)
    scalars = {k: v for k, v in want.items() if k not in ("returns", "losses", "pnl", "downside")}
    assert_close(got, scalars, {"gross_profit": big, "gross_loss": big})
    assert set(got) == set(want)


@given(trade_lists(), rfr_st, st.sampled_from([365, 252]))
def test_trading_summary_equals_formula_reference(case, rfr, tdpy):
    start, trades = case
    state = {"trades": _trade_stats(start, rfr, trades, True).state(), "equity": EquityStats(start, rfr).state(),
             "first_ns": T0, "last_ns": max([T0] + [t.exit_ns for t in trades]), "open_holding_ns": 0}
    got = vars_of(TradingSummary.from_state("X", state, _config(start, tdpy, rfr)))
    want = trade_summary(trades, start, rfr, tdpy)
    r = np.array([t.pnl_return for t in trades])
    mean = float(np.mean(r)) if len(r) else 0.0
    big_r = float(np.max(np.abs(r))) if len(r) else 0.0
    big_pnl = max((abs(t.pnl) for t in trades), default=0.0)
    tpd = want["trades_per_day"]
    floors = {"total_return": big_r, "mean_return": big_r, "loss_mean_return": big_r,
              "total_pnl": big_pnl, "expectancy": big_pnl, "avg_win": big_pnl, "avg_loss": big_pnl,
              "profit_factor": 0.0}
    for name, den in (("sharpe", want["std_dev_return"]),
                      ("sortino", downside_deviation(r, rfr) if len(r) else 0.0),
                      ("calmar", abs(want["max_drawdown"]))):
        base = _ratio_floor(mean, rfr, den, 1.0)
        floors.update({f"{name}_per_trade": base, f"{name}_daily": base * math.sqrt(tpd),
                       f"{name}_annual": base * math.sqrt(tpd * tdpy)})
    # profit factor: a ratio of sums, each rounded to n·u of its magnitude
    gl = sum(t.pnl for t in trades if math.copysign(1, t.pnl_return) < 0)
    if gl:
        floors["profit_factor"] = big_pnl * len(trades) / abs(gl)
    assert_close(got, want, floors)
    assert got["id"] == "X" and got["exposure"] == pytest.approx(
        sum(t.exit_ns - t.enter_ns for t in trades) / (state["last_ns"] - T0) if state["last_ns"] > T0 else 0.0,
        rel=REL)
    if trades and gl == 0.0 and want["avg_win"] > 0:
        assert got["profit_factor"] == math.inf
