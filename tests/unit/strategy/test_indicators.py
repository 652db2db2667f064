"""RSI (the seed's), WilderRSI, EMA and SMA against the whole-series references in
``tests/reference/indicators.py``, on real closes from ../shared/data/prices, to rel 1e-9."""
from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from barter.data import HistoricalCandles
from barter.strategy import EMA, RSI, SMA, WilderRSI
from reference import indicators as ref

BTC_1M = "prices/crypto/btc-perp-20211231-20220201_1m.csv"  # 45,031 one-minute closes, 958 unchanged
GOOG_1D = "prices/equity_daily/GOOG.csv"                     # 2,148 daily closes
NVDA_1D = "prices/equity_daily/nvda-1999-2014.txt"           # 4,012 daily closes from $1.64
FILES = [BTC_1M, GOOG_1D, NVDA_1D]

INDICATORS = [  # core class, reference function
    (RSI, ref.seed_rsi),
    (WilderRSI, ref.wilder_rsi),
    (EMA, ref.ema),
    (SMA, ref.sma),
]
IDS = ["RSI", "WilderRSI", "EMA", "SMA"]


@lru_cache(maxsize=None)
def closes(path: Path) -> tuple[float, ...]:
    return tuple(HistoricalCandles.from_csv(path).close.tolist())


def run(cls, xs, period: int) -> np.ndarray:
    indicator = cls(period)
    update = indicator.update
    return np.array([update(x) for x in xs])


def assert_matches(actual: np.ndarray, expected: list[float]) -> None:
    expected_arr = np.array(expected)
    assert actual.shape == expected_arr.shape
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected_arr), err_msg="NaN (warm-up) positions differ")
    np.testing.assert_allclose(actual, expected_arr, rtol=1e-9, atol=0.0)


# --------------------------------------------------------------------------------------------------
# Real closes
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", FILES)
@pytest.mark.parametrize("period", [2, 14, 50])
@pytest.mark.parametrize(("cls", "reference"), INDICATORS, ids=IDS)
def test_indicator_equals_reference_on_real_closes(data_dir, path, period, cls, reference):
    xs = closes(data_dir / path)
    assert_matches(run(cls, xs, period), reference(xs, period))


def test_seed_rsi_golden_values():
    # SEED.md: the seed example's candles (closes 1050, 1060, 1200, 1300), RSI(14).
    # k = 2/15. Candle 1 seeds gain = loss = 0.1 -> 50. Candle 2: gain 10, loss 0:
    # gain_ema = 10k + 0.1(1 - k) = 1.42, loss_ema = 0.1(1 - k) = 0.08667 -> 100 * 1.42 / 1.50667 = 94.2478.
    rsi = RSI(14)
    values = [rsi.update(x) for x in (1050.0, 1060.0, 1200.0, 1300.0)]
    assert values == pytest.approx([50.0, 94.2478, 99.6239, 99.7876], abs=5e-5)
    assert values[0] == 50.0
    assert values == pytest.approx(ref.seed_rsi([1050.0, 1060.0, 1200.0, 1300.0], 14), rel=1e-12)


def test_references_agree_with_pandas_ewm(data_dir):
    # The EMA reference against an independent implementation (pandas, adjust=False = seeded by x0).
    xs = closes(data_dir / GOOG_1D)
    for period in (2, 14, 50):
        theirs = pd.Series(xs).ewm(alpha=2.0 / (period + 1), adjust=False).mean().to_numpy()
        np.testing.assert_allclose(ref.ema(xs, period), theirs, rtol=1e-12)
        np.testing.assert_allclose(ref.sma(xs, period), pd.Series(xs).rolling(period).mean().to_numpy(),
                                   rtol=1e-9, equal_nan=True)


# --------------------------------------------------------------------------------------------------
# Warm-up and edge values
# --------------------------------------------------------------------------------------------------
def test_warm_up_lengths():
    xs = [10.0, 11.0, 10.5, 12.0, 11.0, 11.5]
    assert not math.isnan(run(RSI, xs, 3)[0])  # the seed's RSI has no warm-up: 50 at once
    assert run(RSI, xs, 3)[0] == 50.0
    assert run(EMA, xs, 3)[0] == 10.0          # seeded by the first input
    w = run(WilderRSI, xs, 3)
    assert np.isnan(w[:3]).all() and not np.isnan(w[3:]).any()  # NaN for the first `period` inputs
    s = run(SMA, xs, 3)
    assert np.isnan(s[:2]).all() and s[2] == pytest.approx((10.0 + 11.0 + 10.5) / 3, rel=1e-15)


def test_wilder_first_value_is_simple_mean_then_alpha_one_over_period():
    # period 2: changes +2, -1, +3 -> first value at input 3: gain = (2+0)/2 = 1, loss = (0+1)/2 = 0.5
    # -> RSI = 100 * 1 / 1.5 = 66.667. Input 4: gain = (1*1 + 3)/2 = 2, loss = (0.5*1 + 0)/2 = 0.25
    # -> 100 * 2 / 2.25 = 88.889.
    w = run(WilderRSI, [10.0, 12.0, 11.0, 14.0], 2)
    assert np.isnan(w[:2]).all()
    assert w[2] == pytest.approx(200.0 / 3.0, rel=1e-12)
    assert w[3] == pytest.approx(800.0 / 9.0, rel=1e-12)


def test_wilder_rsi_saturation():
    assert run(WilderRSI, [5.0] * 6, 3)[3:].tolist() == [50.0, 50.0, 50.0]          # no gains, no losses
    assert run(WilderRSI, [1.0, 2.0, 3.0, 4.0, 5.0], 3)[3:].tolist() == [100.0, 100.0]  # no losses
    assert run(WilderRSI, [5.0, 4.0, 3.0, 2.0, 1.0], 3)[3:].tolist() == [0.0, 0.0]      # no gains


def test_seed_rsi_equal_closes_count_as_neither_gain_nor_loss():
    # After the 0.1/0.1 seed an unchanged close adds 0 to both EMAs: the RSI stays 50.
    assert run(RSI, [7.0, 7.0, 7.0, 7.0], 14).tolist() == pytest.approx([50.0] * 4, rel=1e-12)
    assert_matches(run(RSI, [7.0, 7.0, 8.0, 8.0, 6.0], 3), ref.seed_rsi([7.0, 7.0, 8.0, 8.0, 6.0], 3))


@pytest.mark.parametrize(("cls", "reference"), INDICATORS, ids=IDS)
def test_period_one(cls, reference):
    xs = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]
    assert_matches(run(cls, xs, 1), reference(xs, 1))
    if cls in (EMA, SMA):
        assert run(cls, xs, 1).tolist() == xs


@pytest.mark.parametrize("cls", [RSI, WilderRSI, EMA, SMA], ids=IDS)
def test_period_attribute(cls):
    assert cls(7).period == 7


# --------------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [RSI, WilderRSI, EMA, SMA], ids=IDS)
@pytest.mark.parametrize("period", [0, -1, -14])
def test_period_below_one_raises(cls, period):
    with pytest.raises(ValueError, match="period"):
        cls(period)


@pytest.mark.parametrize("cls", [RSI, WilderRSI, EMA, SMA], ids=IDS)
@pytest.mark.parametrize("period", [14.5, 14.0, True, "14", None])
def test_a_period_that_is_not_an_int_raises(cls, period):
    with pytest.raises(TypeError, match="period must be an int"):  # it was truncated: RSI(14.5) was RSI(14)
        cls(period)


@pytest.mark.parametrize("cls", [RSI, WilderRSI, EMA, SMA], ids=IDS)
def test_a_numpy_integer_period_is_an_int(cls):
    assert cls(np.int64(5)).period == cls(5).period == 5


@pytest.mark.parametrize(("cls", "reference"), INDICATORS, ids=IDS)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("at", [0, 3])
def test_non_finite_input_raises_and_leaves_state_unchanged(cls, reference, bad, at):
    xs = [10.0, 10.5, 9.75, 11.0, 10.25, 12.0]
    indicator = cls(3)
    out = [indicator.update(x) for x in xs[:at]]
    with pytest.raises(ValueError, match="finite"):
        indicator.update(bad)
    out += [indicator.update(x) for x in xs[at:]]
    assert_matches(np.array(out), reference(xs, 3))  # as if the bad input never came


@pytest.mark.parametrize("period", [1, 2, 14])
def test_seed_rsi_with_no_movement_is_50_not_a_division_by_zero(period):
    # Period 1 and an unchanged close made gain = loss = 0: 100 * 0 / 0 raised ZeroDivisionError.
    xs = [100.0, 101.0, 101.0, 101.0, 99.0, 99.0]
    out = run(RSI, xs, period)
    assert_matches(out, ref.seed_rsi(xs, period))
    if period == 1:
        assert out.tolist() == [50.0, 100.0, 50.0, 50.0, 0.0, 50.0]


def test_seed_rsi_long_flat_run_underflows_to_50():
    # For period > 1 the 0.1 seed decays to 0.0 after enough unchanged closes: same 0 / 0.
    out = run(RSI, [7.0] * 2000, 2)
    assert out[-1] == 50.0 and np.isfinite(out).all()
