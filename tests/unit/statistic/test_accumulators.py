"""The compiled one-pass accumulators (``barter._core.stats``): defined results for empty and tiny
inputs, input validation, hand-worked drawdowns and daily returns, the seed's drawdown cases A–D,
and a long stream with a large offset (no catastrophic cancellation)."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from barter._core.stats import DownsideDeviation, DrawdownTracker, EquityStats, RunningStats, TradeStats
from reference.stats import SeedDrawdownRef, drawdowns, moments

H = 3600 * 10**9
DAY = 24 * H
T0 = 1_640_995_200 * 10**9  # 2022-01-01 00:00 UTC
EPS = np.finfo(np.float64).eps
NAN_PROPS = ("mean", "variance", "sample_variance", "std", "sample_std", "min", "max", "range")


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# --------------------------------------------------------------------------------------------------
# RunningStats
# --------------------------------------------------------------------------------------------------
def test_empty_running_stats_are_nan_without_warnings():
    r = RunningStats()
    assert (r.count, r.sum, r.m2) == (0, 0.0, 0.0)
    for name in NAN_PROPS:
        assert math.isnan(getattr(r, name)), name
    assert "count=0" in repr(r)


def test_one_sample_has_zero_population_and_nan_sample_variance():
    r = RunningStats()
    r.push(-3.5)
    assert (r.count, r.sum, r.mean, r.m2) == (1, -3.5, -3.5, 0.0)
    assert (r.variance, r.std, r.min, r.max, r.range) == (0.0, 0.0, -3.5, -3.5, 0.0)
    assert math.isnan(r.sample_variance) and math.isnan(r.sample_std)


def test_hand_worked_moments():
    r = RunningStats()
    for x in (1.0, 2.0, 3.0, 4.0):
        r.push(x)
    # mean 2.5; deviations -1.5 -0.5 0.5 1.5; M2 = 2.25+0.25+0.25+2.25 = 5
    assert (r.count, r.sum, r.mean, r.m2) == (4, 10.0, 2.5, 5.0)
    assert r.variance == 1.25 and r.sample_variance == pytest.approx(5 / 3, rel=1e-15)
    assert r.std == pytest.approx(math.sqrt(1.25), rel=1e-15)
    assert r.sample_std == pytest.approx(math.sqrt(5 / 3), rel=1e-15)
    assert (r.min, r.max, r.range) == (1.0, 4.0, 3.0)


def test_push_many_is_push_in_a_loop():
    xs = np.random.default_rng(7).normal(5.0, 3.0, 1001)
    a, b = RunningStats(), RunningStats()
    assert a.push_many(xs) == len(xs)
    for x in xs:
        b.push(float(x))
    # push_many adds blocks (corrected two-pass per block, then a Chan merge): equal up to rounding
    assert (a.count, a.min, a.max) == (b.count, b.min, b.max)
    for name in ("sum", "mean", "m2", "variance", "sample_variance", "std", "sample_std"):
        assert getattr(a, name) == pytest.approx(getattr(b, name), rel=1e-12), name
    assert a.push_many(np.empty(0)) == 0 and a.count == 1001


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_sample_is_rejected_and_state_unchanged(bad):
    r = RunningStats()
    r.push_many(np.array([1.0, 2.0]))
    before = (r.count, r.sum, r.mean, r.m2, r.min, r.max)
    with pytest.raises(ValueError, match="finite"):
        r.push(bad)
    with pytest.raises(ValueError, match="sample 2 must be finite"):
        r.push_many(np.array([10.0, 20.0, bad, 30.0]))  # validated before any is pushed
    assert (r.count, r.sum, r.mean, r.m2, r.min, r.max) == before


@pytest.mark.parametrize("bad", [np.arange(6.0)[::2], np.arange(3), np.float32([1.0, 2.0])])
def test_push_many_needs_contiguous_float64(bad):
    r = RunningStats()
    with pytest.raises(ValueError):
        r.push_many(bad)
    assert r.count == 0


def test_merge_edge_cases_and_hand_example():
    a, b = RunningStats(), RunningStats()
    assert a.merge(b) is a and a.count == 0 and math.isnan(a.mean)  # empty + empty
    b.push_many(np.array([1.0, 2.0]))
    a.merge(b)                                                     # empty + [1, 2]
    assert (a.count, a.mean, a.m2, a.min, a.max) == (2, 1.5, 0.5, 1.0, 2.0)
    a.merge(RunningStats())                                        # + empty
    assert (a.count, a.mean, a.m2) == (2, 1.5, 0.5)
    c = RunningStats()
    c.push_many(np.array([3.0, 4.0]))
    a.merge(c)
    # Chan: M2 = 0.5 + 0.5 + (3.5 - 1.5)^2 * 2 * 2 / 4 = 5; mean = 1.5 + 2 * 2 / 4 = 2.5
    assert (a.count, a.sum, a.mean, a.m2, a.min, a.max) == (4, 10.0, 2.5, 5.0, 1.0, 4.0)
    assert (b.count, c.count) == (2, 2)                            # the other is not consumed
    with pytest.raises(TypeError):
        a.merge(DownsideDeviation())


def test_million_sample_offset_stream_has_no_catastrophic_cancellation():
    """10^6 samples of 1e9 + N(0, 1). One-pass E[x²] − E[x]² loses every digit (κ²·u ≈ 100 with
    κ = offset / std = 1e9); the accumulator must match the variance of the de-offset data to rel
    1e-9. Reference: x − 1e9 is exact (Sterbenz), and two-pass float64 on values near 0 is accurate
    to ~1e-15, so ``np.var(x − 1e9)`` is the variance of the float64 samples for this purpose.
    Checked through push_many, push one at a time, and a merge of two halves."""
    n, offset = 10**6, 1e9
    z = np.random.default_rng(20240601).standard_normal(n)
    x = offset + z
    d = x - offset                                     # exact
    exact_var = float(np.var(d))
    exact_mean = offset + math.fsum(d.tolist()) / n
    many, one, left, right = RunningStats(), RunningStats(), RunningStats(), RunningStats()
    many.push_many(x)
    for v in x.tolist():
        one.push(v)
    left.push_many(x[:400_001])
    right.push_many(x[400_001:])
    for r in (many, one, left.merge(right)):
        assert r.count == n
        assert r.mean == pytest.approx(exact_mean, rel=1e-15)
        assert r.variance == pytest.approx(exact_var, rel=1e-9)
        assert r.sample_variance == pytest.approx(exact_var * n / (n - 1), rel=1e-9)
        assert r.std == pytest.approx(math.sqrt(exact_var), rel=1e-9)
        assert r.sample_std == pytest.approx(math.sqrt(exact_var * n / (n - 1)), rel=1e-9)
        assert (r.min, r.max, r.range) == (x.min(), x.max(), x.max() - x.min())
    naive = float(np.mean(x * x) - np.mean(x) ** 2)
    assert abs(naive / exact_var - 1) > 0.5            # what a one-pass sum of squares gives


def test_large_offset_with_tiny_spread_keeps_its_digits():
    """κ ≈ 4e12: 1e12 + k/8 for k in 0..7 (exactly representable); the population variance of k/8
    is (8² − 1) / 12 / 64 = 21/256."""
    x = 1e12 + np.arange(8) / 8
    exact = 21 / 256
    many, one = RunningStats(), RunningStats()
    many.push_many(x)
    for v in x.tolist():
        one.push(v)
    assert many.variance == pytest.approx(exact, rel=1e-9) and one.variance == pytest.approx(exact, rel=1e-9)


# --------------------------------------------------------------------------------------------------
# DownsideDeviation
# --------------------------------------------------------------------------------------------------
def test_downside_deviation_empty_hand_and_target():
    d = DownsideDeviation()
    assert (d.count, d.target) == (0, 0.0) and math.isnan(d.value)
    d.push_many(np.array([-1.0, 2.0, -3.0]))
    assert d.value == pytest.approx(math.sqrt((1 + 9) / 3), rel=1e-15)      # positives count in n
    t = DownsideDeviation(0.5)
    for x in (-1.0, 2.0, -3.0, 0.5):
        t.push(x)
    assert t.value == pytest.approx(math.sqrt((1.5**2 + 3.5**2) / 4), rel=1e-15)
    one = DownsideDeviation()
    one.push(4.0)
    assert one.value == 0.0


def test_downside_deviation_validation_and_merge():
    d = DownsideDeviation(0.1)
    d.push(-1.0)
    with pytest.raises(ValueError, match="finite"):
        d.push(math.nan)
    with pytest.raises(ValueError, match="sample 1"):
        d.push_many(np.array([-5.0, math.inf]))
    assert d.count == 1 and d.value == pytest.approx(1.1, rel=1e-15)
    with pytest.raises(ValueError, match="finite"):
        DownsideDeviation(math.inf)
    with pytest.raises(ValueError, match="cannot merge targets"):
        d.merge(DownsideDeviation(0.0))
    other = DownsideDeviation(0.1)
    other.push(0.0)
    assert d.merge(other) is d and d.count == 2
    assert d.value == pytest.approx(math.sqrt((1.1**2 + 0.1**2) / 2), rel=1e-14)


# --------------------------------------------------------------------------------------------------
# DrawdownTracker
# --------------------------------------------------------------------------------------------------
HAND_T = [0, 1 * H, 3 * H, 4 * H, 6 * H, 7 * H, 9 * H, 10 * H]
HAND_E = [100.0, 90.0, 95.0, 100.0, 120.0, 120.0, 60.0, 90.0]


def test_drawdown_tracker_hand_worked():
    d = DrawdownTracker()
    empty = d.state()
    assert math.isnan(empty.pop("peak"))
    assert empty == {"points": 0, "current": 0.0, "max": 0.0, "max_duration_ns": 0, "episodes": 0,
                     "mean": 0.0, "mean_duration_ns": 0.0, "underwater_ns": 0, "current_duration_ns": 0}
    for t, e in zip(HAND_T, HAND_E):
        d.update(t, e)
    s = d.state()
    # 0h 100 peak | 1h 90: (90-100)/100 = -0.1, episode from 0h | 3h 95: -0.05 | 4h 100: recovered,
    # episode 1 = depth -0.1, 0h..4h = 4h; under water 1h..3h + 3h..4h = 3h
    # 6h 120 peak | 7h 120 tie: the peak time moves to 7h | 9h 60: (60-120)/120 = -0.5, from 7h
    # 10h 90: -0.25, in progress: episode 2 = depth -0.5, 7h..10h = 3h; under water + 9h..10h = 1h
    assert s["points"] == 8 and s["peak"] == 120.0
    assert (s["current"], s["max"]) == (-0.25, -0.5)
    assert s["episodes"] == 2 and s["mean"] == pytest.approx((-0.1 - 0.5) / 2, rel=1e-15)
    assert s["max_duration_ns"] == 4 * H and s["mean_duration_ns"] == 3.5 * H
    assert s["underwater_ns"] == 4 * H and s["current_duration_ns"] == 3 * H
    assert s == {**drawdowns(HAND_T, HAND_E), "mean": s["mean"]}
    assert s["mean"] == pytest.approx(drawdowns(HAND_T, HAND_E)["mean"], rel=1e-15)


def test_drawdown_tracker_update_many_equals_update_and_reading_does_not_change_it():
    a, b = DrawdownTracker(), DrawdownTracker()
    assert a.update_many(np.array(HAND_T[:5], dtype=np.int64), np.array(HAND_E[:5])) == 5
    for t, e in zip(HAND_T[:5], HAND_E[:5]):
        b.update(t, e)
    assert a.state() == b.state() == a.state()
    a.update_many(np.array(HAND_T[5:], dtype=np.int64), np.array(HAND_E[5:]))
    for t, e in zip(HAND_T[5:], HAND_E[5:]):
        b.update(t, e)
    assert a.state() == b.state()


@pytest.mark.parametrize("t, e, match", [
    (5 * H, 0.0, "> 0"), (5 * H, -1.0, "> 0"), (5 * H, math.nan, "finite"), (5 * H, math.inf, "finite"),
    (H, 100.0, "backwards"),
])
def test_drawdown_tracker_rejects_bad_points_and_keeps_its_state(t, e, match):
    d = DrawdownTracker()
    d.update(0, 100.0)
    d.update(2 * H, 90.0)
    before = d.state()
    with pytest.raises(ValueError, match=match):
        d.update(t, e)
    with pytest.raises(ValueError, match=match):  # a bad row anywhere: nothing is applied
        d.update_many(np.array([3 * H, 4 * H, t], dtype=np.int64), np.array([95.0, 80.0, e]))
    assert d.state() == before
    with pytest.raises(ValueError, match="backwards"):
        d.update_many(np.array([3 * H, 2 * H], dtype=np.int64), np.array([95.0, 96.0]))
    with pytest.raises(ValueError, match="2 times but 1"):
        d.update_many(np.array([3 * H, 4 * H], dtype=np.int64), np.array([95.0]))
    assert d.state() == before
    d.update(2 * H, 91.0)  # an equal time is allowed
    assert d.state()["points"] == 3


# --------------------------------------------------------------------------------------------------
# EquityStats
# --------------------------------------------------------------------------------------------------
def test_equity_stats_hand_worked_days_and_drawdowns():
    e = EquityStats(1000.0)
    pts = [(T0 + 6 * H, 1010.0), (T0 + 18 * H, 990.0), (T0 + DAY + 12 * H, 1100.0),
           (T0 + 4 * DAY + 1 * H, 1045.0)]
    for t, v in pts:
        e.update(t, v)
    s = e.state()
    daily = s["daily"]
    # day closes: D0 990, D1 1100, D4 1045 (the current partial day counts). D2 and D3 have no
    # points: they are not days of the series (no 0 returns); D4's return spans them.
    r = [990 / 1000 - 1, 1100 / 990 - 1, 1045 / 1100 - 1]
    assert (daily["points"], daily["last"], daily["last_ns"]) == (4, 1045.0, T0 + 4 * DAY + H)
    assert daily["returns"]["count"] == 3
    assert daily["returns"]["mean"] == pytest.approx(sum(r) / 3, rel=1e-12)
    assert daily["returns"]["m2"] == pytest.approx(moments(r)["m2"], rel=1e-12)
    assert (daily["returns"]["low"], daily["returns"]["high"]) == (pytest.approx(-0.05), pytest.approx(1 / 9))
    assert daily["downside"] == {"count": 3, "target": 0.0, "sum_sq": pytest.approx(0.01**2 + 0.05**2)}
    dd = s["drawdowns"]
    # start 1000 at 06:00 (the first point's time), 06:00 1010 peak, 18:00 990: (990-1010)/1010,
    # D1 12:00 1100 recovers: 30 h; D4 01:00 1045: (1045-1100)/1100 = -0.05, in progress 61 h.
    # Under water: 18:00 -> D1 12:00 = 18 h (the latest point's interval has not elapsed).
    assert dd["points"] == 5 and dd["peak"] == 1100.0
    assert dd["max"] == pytest.approx(-0.05) and dd["current"] == pytest.approx(-0.05)
    assert dd["episodes"] == 2 and dd["mean"] == pytest.approx((-20 / 1010 - 0.05) / 2, rel=1e-12)
    assert (dd["max_duration_ns"], dd["mean_duration_ns"]) == (61 * H, 45.5 * H)
    assert (dd["underwater_ns"], dd["current_duration_ns"]) == (18 * H, 61 * H)


def test_equity_stats_first_point_below_start_starts_an_episode_at_its_time():
    e = EquityStats(100.0)
    assert e.state()["drawdowns"]["points"] == 1 and e.state()["daily"]["returns"]["count"] == 0
    e.update(T0 + 5 * H, 80.0)
    e.update(T0 + 7 * H, 100.0)
    dd = e.state()["drawdowns"]
    assert (dd["max"], dd["episodes"], dd["max_duration_ns"], dd["underwater_ns"]) == (-0.2, 1, 2 * H, 2 * H)


def test_equity_stats_validation():
    for bad in (0.0, -5.0, math.nan, math.inf):
        with pytest.raises(ValueError):
            EquityStats(bad)
    with pytest.raises(ValueError, match="risk_free_return"):
        EquityStats(100.0, math.nan)
    e = EquityStats(100.0, 0.01)
    e.update(T0, 101.0)
    with pytest.raises(ValueError, match="backwards"):
        e.update(T0 - 1, 101.0)
    with pytest.raises(ValueError, match="> 0"):
        e.update_many(np.array([T0 + 1, T0 + 2], dtype=np.int64), np.array([5.0, 0.0]))
    s = e.state()
    assert s["daily"]["points"] == 1 and s["daily"]["downside"]["target"] == 0.01


# --------------------------------------------------------------------------------------------------
# TradeStats: the seed's drawdown over exit balances (SEED.md §3, cases A–D)
# --------------------------------------------------------------------------------------------------
SEED_EXITS = [  # (exit day, balance total after the exit)
    (1, 1100.0),   # A  waiting, 1100 > 1000: high = 1100
    (2, 1045.0),   # B  waiting, not above: start = day 2, low = 1045, dd = -(1100-1045)/1100 = -0.05
    (4, 990.0),    # C  duration = 4-2 = 2 d, low = 990, dd = -(1100-990)/1100 = -0.1
    (5, 1067.0),   # C  (<= high) duration = 3 d, low stays 990, dd = -0.1
    (6, 1200.0),   # D  above: ends (-0.1, 3 d) -> max, avg; dd = 0, duration 0, high = 1200
    (7, 1200.0),   # B  equal to high: start = day 7, low = 1200, dd = -0/1200 = -0.0 == 0: still waiting
    (8, 1140.0),   # B  start = day 8, low = 1140, dd = -(1200-1140)/1200 = -0.05 (duration stays 0)
    (9, 1300.0),   # D  ends (-0.05, 0 d) -- only case B happened, so the seed's duration is 0
    (10, 1170.0),  # B  start = day 10, dd = -(1300-1170)/1300 = -0.1 (ties the max: |.| not >, kept)
    (12, 1040.0),  # C  duration 2 d, low 1040, dd = -(1300-1040)/1300 = -0.2, still open
]


def _push_exits(stats: TradeStats, exits, prev: float, ref: SeedDrawdownRef | None = None) -> float:
    """Push one exit per (day, total), held one day; returns the last total."""
    for day, total in exits:
        stats.push(T0 + (day - 1) * DAY, T0 + day * DAY, (total - prev) / prev, total - prev, total)
        if ref is not None:
            ref.update(T0 + day * DAY, total)
        prev = total
    return prev


def test_seed_drawdown_cases_a_to_d_and_the_open_fold():
    stats, ref = TradeStats(1000.0), SeedDrawdownRef(1000.0)
    last = _push_exits(stats, SEED_EXITS[:8], 1000.0, ref)
    s = stats.state()
    # after day 9's D: two ended drawdowns (-0.1, 3 d) and (-0.05, 0 d); none open
    assert s["seed_current_drawdown"] == 0.0 and s["seed_drawdown_count"] == 2
    assert (s["seed_max_drawdown"], s["seed_max_drawdown_duration_ns"]) == (-0.1, 3 * DAY)
    assert s["seed_avg_drawdown"] == pytest.approx(-0.075, rel=1e-15)
    assert s["seed_avg_drawdown_duration_ns"] == 1.5 * DAY
    last = _push_exits(stats, SEED_EXITS[8:], last, ref)
    s = stats.state()
    seed_only = ref.summary(fold_open=False)  # the seed itself never counts the open -0.2
    assert (seed_only["seed_max_drawdown"], seed_only["seed_drawdown_count"]) == (-0.1, 2)
    # barter folds the open drawdown (-0.2, 2 d) into a copy: max -0.2 / 2 d, count 3,
    # avg depth (-0.1 - 0.05 - 0.2) / 3, avg duration (3 + 0 + 2) / 3 d
    assert s["seed_current_drawdown"] == pytest.approx(-0.2, rel=1e-15)
    assert (s["seed_max_drawdown"], s["seed_max_drawdown_duration_ns"]) == (pytest.approx(-0.2), 2 * DAY)
    assert s["seed_drawdown_count"] == 3
    assert s["seed_avg_drawdown"] == pytest.approx(-0.35 / 3, rel=1e-14)
    assert s["seed_avg_drawdown_duration_ns"] == pytest.approx(5 / 3 * DAY, rel=1e-15)
    assert {k: s[k] for k in ref.summary()} == pytest.approx(ref.summary(), rel=1e-15)
    # reading folded a copy: the state is unchanged, and the recovery folds the same episode
    assert stats.state() == s
    _push_exits(stats, [(13, 1400.0)], last)  # D: ends (-0.2, 2 d)
    after = stats.state()
    assert after["seed_current_drawdown"] == 0.0
    for k in ("seed_max_drawdown", "seed_max_drawdown_duration_ns", "seed_drawdown_count",
              "seed_avg_drawdown", "seed_avg_drawdown_duration_ns"):
        assert after[k] == s[k], k


def test_trade_stats_counts_negative_zero_as_a_loss_and_sums_gross():
    s = TradeStats(100.0, 0.01)
    s.push(T0, T0 + 2 * H, 0.1, 10.0, 110.0)
    s.push(T0 + H, T0 + 5 * H, -0.0, -0.0, 110.0)
    s.push(T0 + 6 * H, T0 + 7 * H, -0.05, -5.5, 104.5)
    s.push(T0 + 6 * H, T0 + 6 * H, 0.0, 0.0, 104.5)
    st = s.state()
    assert (st["returns"]["count"], st["losses"]["count"]) == (4, 2)
    assert st["losses"]["sum"] == -0.05 and st["losses"]["high"] == 0.0  # -0.0 == 0.0
    assert st["gross_loss"] == -5.5
    assert st["gross_profit"] == 10.0
    assert (st["start_ns"], st["end_ns"]) == (T0, T0 + 7 * H)
    assert st["holding_ns"] == (2 + 4 + 1 + 0) * H
    assert st["downside"] == {"count": 4, "target": 0.01,
                              "sum_sq": pytest.approx(0.01**2 + 0.06**2 + 0.01**2, rel=1e-14)}  # 0.1 is above


def test_trade_stats_validation_leaves_state_unchanged():
    s = TradeStats(100.0)
    s.push(0, 1, 0.1, 10.0, 110.0)
    before = s.state()
    with pytest.raises(ValueError, match="pnl_return"):
        s.push(1, 2, math.nan, 1.0, 100.0)
    with pytest.raises(ValueError, match="> 0"):
        s.push(1, 2, 0.1, 1.0, 0.0)
    i64 = lambda *v: np.array(v, dtype=np.int64)  # noqa: E731
    with pytest.raises(ValueError, match="finite"):
        s.push_many(i64(1, 2), i64(2, 3), np.array([0.1, 0.2]), np.array([1.0, math.inf]), np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="same number of rows"):
        s.push_many(i64(1, 2), i64(2), np.array([0.1, 0.2]), np.array([1.0, 1.0]), np.array([1.0, 2.0]))
    assert s.state() == before
    for bad in (0.0, math.nan):
        with pytest.raises(ValueError):
            TradeStats(bad)
