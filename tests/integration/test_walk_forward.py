"""Walk-forward: the choice of each window never sees the rows after its in-sample window."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from barter._core.stats import RunningStats
from barter.backtest import backtest, load
from barter.data.historic import HistoricalCandles
from barter.errors import ConfigError
from barter.strategy import RSIStrategy
from barter.sweep import sweep, walk_forward, windows
from sweep_strategies import Hold

DAY_NS = 86_400 * 10**9
SIDES = {"side": ["long", "short"]}
METRIC = "equity_total_return"


def candles(path: np.ndarray) -> HistoricalCandles:
    """Daily candles along ``path`` (closes); each bar opens at the previous close."""
    open_ = np.concatenate([[path[0]], path[:-1]])
    return HistoricalCandles.from_arrays(np.arange(len(path), dtype=np.int64) * DAY_NS, open_,
                                         np.maximum(open_, path) * 1.001, np.minimum(open_, path) * 0.999, path)


def rise_then_fall(n_rise: int, n_fall: int) -> np.ndarray:
    return np.concatenate([np.linspace(100, 150, n_rise), np.linspace(150, 30, n_fall + 1)[1:]])


def test_the_future_never_changes_a_windows_choice() -> None:
    data = candles(rise_then_fall(1000, 2000))
    # With the test rows seen, short would win on window 0's rows: the future would change the choice.
    peek = sweep(_rows(data, 0, 2000), Hold, SIDES, metric=METRIC,
                 executor="serial", progress=False)
    assert peek["side"].iloc[0] == "short"

    result = walk_forward(data, Hold, SIDES, train=1000, test=1000, metric=METRIC, executor="serial",
                          progress=False)
    assert list(result.windows["side"]) == ["long", "short"]  # in sample: rising, then falling

    # A different future (rising instead of falling) leaves window 0's choice and runs unchanged.
    other = candles(np.concatenate([rise_then_fall(1000, 0), np.linspace(150, 300, 2001)[1:]]))
    changed = walk_forward(other, Hold, SIDES, train=1000, test=1000, metric=METRIC, executor="serial",
                           progress=False)
    w0 = lambda r: r.in_sample[r.in_sample["window"] == 0].reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(w0(changed), w0(result))
    assert changed.windows["side"].iloc[0] == "long"


def test_overlapping_test_windows_are_rejected_before_the_data_is_read(tmp_path: Path) -> None:
    # step < test would run rows twice and the stitched curve would go back in time
    with pytest.raises(ConfigError, match=r"step \(250 rows\) must be >= test \(500 rows\)"):
        walk_forward(tmp_path / "missing.csv", Hold, SIDES, train=1000, test=500, step=250, progress=False)
    with pytest.raises(ConfigError, match="pass test=250"):
        windows(3000, 1000, 500, step=250)


def test_a_step_longer_than_test_leaves_gaps_and_the_curve_moves_forward() -> None:
    data = candles(rise_then_fall(1000, 2000))
    result = walk_forward(data, Hold, SIDES, train=1000, test=500, step=750, metric=METRIC,
                          executor="serial", progress=False)
    starts = [w.test_start for w in windows(len(data), 1000, 500, step=750)]
    assert starts == [1000, 1750, 2500]
    assert result.equity.index.is_monotonic_increasing and len(result.equity) == 3 * 500
    assert list(result.windows["test_start"]) == [pd.Timestamp(s * DAY_NS, tz="UTC") for s in starts]


def _rows(data: HistoricalCandles, start: int, stop: int) -> HistoricalCandles:
    return HistoricalCandles.from_arrays(data.time_ns[start:stop], data.open[start:stop], data.high[start:stop],
                                         data.low[start:stop], data.close[start:stop], data.volume[start:stop])


@pytest.fixture(scope="module")
def btc_walk(data_dir: Path) -> tuple[HistoricalCandles, object]:
    data = load(data_dir / "prices/crypto/btc-perp-20211231-20220201_1m.csv")
    result = walk_forward(data, RSIStrategy, {"rsi_period": [6, 14, 30]}, train=8_000, test=4_000,
                          metric=METRIC, executor=2, progress=False)
    return data, result


def test_out_of_sample_runs_are_the_chosen_backtests_on_the_test_rows(btc_walk) -> None:  # type: ignore[no-untyped-def]
    data, result = btc_walk
    windows = result.windows
    assert len(windows) == (len(data) - 8_000) // 4_000 and windows["oos_error"].isna().all()
    returns = []
    for w in windows.itertuples():
        start = 8_000 + 4_000 * w.window
        direct = backtest(_rows(data, start, start + 4_000), RSIStrategy(w.rsi_period))
        assert w.oos_trades == direct.summary.total.trades
        assert getattr(w, f"out_of_sample_{METRIC}") == direct.summary.total.equity.total_return
        returns.append(direct.positions["pnl_return"].to_numpy())
        assert w.test_start == pd.Timestamp(int(data.time_ns[start]), tz="UTC")
    # the windows' accumulators merged equal one accumulator over every out-of-sample trade
    whole = RunningStats()
    whole.push_many(np.concatenate(returns))
    assert result.oos_returns.count == whole.count
    assert math.isclose(result.oos_returns.mean, whole.mean, rel_tol=1e-12)
    assert math.isclose(result.oos_returns.std, whole.std, rel_tol=1e-12)


def test_stitched_equity_covers_only_test_rows_and_chains_returns(btc_walk) -> None:  # type: ignore[no-untyped-def]
    data, result = btc_walk
    equity = result.equity
    assert equity.index[0] == pd.Timestamp(int(data.time_ns[8_000]), tz="UTC")
    assert equity.index.is_monotonic_increasing and len(equity) == 4_000 * len(result.windows)
    growth = float(np.prod(1.0 + result.windows["oos_return"]))
    assert math.isclose(equity.iloc[-1], 10_000.0 * growth, rel_tol=1e-9)
    assert math.isclose(result.summary.total_return, growth - 1.0, rel_tol=1e-9)
    assert not result.interrupted
