"""Multi-timeframe aggregation against pandas, on real minute candles and real trades."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from barter.data import CandleAggregator, HistoricalCandles, HistoricalTrades, interval_ns, resample
from barter.errors import ConfigError


def pandas_bars(time_ns, o, h, lo, c, v, rule):
    """Bars labelled and closed on the right: (end - interval, end], as barter's."""
    frame = pd.DataFrame({"open": o, "high": h, "low": lo, "close": c, "volume": v},
                         index=pd.to_datetime(time_ns, utc=True))
    bars = frame.resample(rule, label="right", closed="right").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}).dropna()
    return bars


@pytest.mark.parametrize("rule, interval", [("1h", "1h"), ("15min", "15m"), ("1D", "1d")])
def test_candles_resample_like_pandas(data_dir: Path, rule, interval):
    minutes = HistoricalCandles.from_csv(data_dir / "prices/crypto/btc-perp-20211231-20220201_1m.csv")
    ours = resample(minutes, interval)
    ref = pandas_bars(minutes.time_ns, minutes.open, minutes.high, minutes.low, minutes.close, minutes.volume, rule)
    np.testing.assert_array_equal(ours.time_ns, ref.index.as_unit("ns").asi8)
    for column in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(getattr(ours, column), ref[column].to_numpy())
    np.testing.assert_allclose(ours.volume, ref["volume"].to_numpy(), rtol=1e-12)


def test_trades_resample_like_pandas(data_dir: Path):
    trades = HistoricalTrades.from_ccxt_json(data_dir / "prices/crypto/XRP_OLD-trades.json.gz")
    ours = resample(trades, "5m")
    p = trades.price
    ref = pandas_bars(trades.time_ns, p, p, p, p, trades.amount, "5min")
    np.testing.assert_array_equal(ours.time_ns, ref.index.as_unit("ns").asi8)
    np.testing.assert_array_equal(ours.close, ref["close"].to_numpy())
    np.testing.assert_allclose(ours.volume, ref["volume"].to_numpy(), rtol=1e-12)


def test_streaming_equals_batch_and_never_shows_an_incomplete_bar():
    rng = np.random.default_rng(5)
    t = np.cumsum(rng.integers(1, 120, 5_000)).astype(np.int64) * 10**9
    price = 100 + np.cumsum(rng.normal(0, 0.1, 5_000))
    agg, bars = CandleAggregator(interval_ns("5m")), []
    for i in range(len(t)):
        if agg.update(int(t[i]), price[i], price[i], price[i], price[i], 1.0):
            assert agg.time_ns < t[i]  # the bar ended before the input that completed it
            bars.append((agg.time_ns, agg.close, agg.trade_count))
    if agg.flush():
        bars.append((agg.time_ns, agg.close, agg.trade_count))
    batch = resample(HistoricalTrades.from_arrays(t, price, np.ones(len(t))), "5m")
    assert [b[0] for b in bars] == batch.time_ns.tolist()
    assert [b[1] for b in bars] == batch.close.tolist()
    assert sum(b[2] for b in bars) == len(t)


def test_bad_inputs_are_rejected_without_changing_the_bar():
    agg = CandleAggregator(60 * 10**9)
    agg.update(120 * 10**9, 1.0, 2.0, 0.5, 1.5, 3.0)
    with pytest.raises(ValueError, match="backwards"):
        agg.update(30 * 10**9, 1.0, 1.0, 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="finite"):
        agg.update(130 * 10**9, float("nan"), 1.0, 1.0, 1.0, 1.0)
    assert agg.flush() and (agg.open, agg.high, agg.low, agg.close, agg.volume) == (1.0, 2.0, 0.5, 1.5, 3.0)
    with pytest.raises(ValueError):
        CandleAggregator(0)
    with pytest.raises(ConfigError):
        interval_ns("5x")


def test_multi_timeframe_example_runs():
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, str(root / "examples/multi_timeframe.py")], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Total" in out.stdout


def test_bars_stamped_at_their_open_resample_by_exchange_hour_once_shifted(data_dir: Path):
    """The freqtrade JSON stamps minutes by their open: shifted one minute, an hour bar holds the
    minutes opened in that hour (the HH:00 minute of the next hour no longer leaks in)."""
    opened = HistoricalCandles.from_json(data_dir / "prices/crypto/UNITTEST_BTC-1m.json")
    hours = resample(opened.shifted(interval_ns("1m")), "1h")
    frame = opened.to_frame()
    by_open_hour = frame.groupby(frame.index.floor("h")).agg({"volume": "sum", "close": "last", "open": "first"})
    end = pd.DatetimeIndex(pd.to_datetime(hours.time_ns, utc=True))
    expected = by_open_hour.reindex(end - pd.Timedelta(hours=1))
    assert len(hours) == len(by_open_hour) > 200
    assert np.allclose(hours.volume, expected.volume) and np.array_equal(hours.close, expected.close)
    assert np.array_equal(hours.open, expected.open)
    assert np.array_equal(opened.shifted(-5).time_ns, opened.time_ns - 5)
    with pytest.raises(ConfigError, match="int nanoseconds"):
        opened.shifted(1.5)


@pytest.mark.parametrize("t0", [0, 7 * 60 * 10**9, -10 * 60 * 10**9])
def test_a_bar_ending_at_time_zero_is_kept(t0: int):
    """A bar may end at time_ns == 0 (or before): that is a time, not "no bar yet"."""
    t = np.array([0, 30e9, 60e9, 60e9 + 1, 120e9], np.int64) + t0
    trades = HistoricalTrades.from_arrays(t, [1.0, 2, 3, 4, 5], [1.0] * 5, [1] * 5)
    bars = resample(trades, "1m")
    assert bars.volume.tolist() == [1.0, 2.0, 2.0]
    assert bars.time_ns.tolist() == [t0, t0 + 60 * 10**9, t0 + 120 * 10**9]
    assert bars.close.tolist() == [1.0, 3.0, 5.0]


def test_streaming_across_time_zero():
    agg, ends = CandleAggregator(60 * 10**9), []
    for t in (-90 * 10**9, -30 * 10**9, 0, 1, 61 * 10**9):
        if agg.update(t, 1.0, 1.0, 1.0, 1.0, 1.0):
            ends.append((agg.time_ns, agg.trade_count))
    assert agg.flush() and not agg.flush()
    ends.append((agg.time_ns, agg.trade_count))
    assert ends == [(-60 * 10**9, 1), (0, 2), (60 * 10**9, 1), (120 * 10**9, 1)]
