"""RSIStrategy's period: an integer, or a clear error (not a silently truncated RSI)."""
from __future__ import annotations

import numpy as np
import pytest

from barter.strategy import RSIStrategy


@pytest.mark.parametrize("period", [14.5, 14.0, True, "14", None])
def test_a_non_integer_period_is_refused(period) -> None:
    with pytest.raises(TypeError, match="rsi_period must be an integer"):
        RSIStrategy(period)


@pytest.mark.parametrize("period", [14, np.int64(7)])
def test_integer_periods(period) -> None:
    s = RSIStrategy(period)
    assert s.rsi_period == int(period) and type(s.rsi_period) is int


def test_period_one_on_repeated_closes_does_not_crash() -> None:
    # RSI(1) divided 0 by 0 on an unchanged close (ZeroDivisionError inside generate_signal).
    import barter
    from barter.data import HistoricalCandles

    closes = np.array([100.0, 101.0, 101.0, 101.0, 99.0, 99.0, 102.0, 102.0])
    candles = HistoricalCandles.from_arrays(
        time_ns=1_700_000_000_000_000_000 + np.arange(len(closes), dtype=np.int64) * 60_000_000_000,
        open=closes, high=closes, low=closes, close=closes, volume=np.ones(len(closes)))
    result = barter.backtest(candles, RSIStrategy(rsi_period=1))
    assert len(result.equity) > 0


def _candles():
    from barter.data import HistoricalCandles

    closes = np.array([100.0, 101.0, 99.0, 102.0])
    return HistoricalCandles.from_arrays(
        time_ns=1_700_000_000_000_000_000 + np.arange(4, dtype=np.int64) * 60_000_000_000,
        open=closes, high=closes, low=closes, close=closes)


def test_backtest_with_the_strategy_class_says_to_pass_an_instance() -> None:
    # It failed deep inside with "generate_signal() missing 1 required positional argument".
    import barter
    from barter.errors import ConfigError

    with pytest.raises(ConfigError, match=r"strategy must be an instance, e.g. RSIStrategy\(\), was the class"):
        barter.backtest(_candles(), RSIStrategy)  # type: ignore[arg-type]


@pytest.mark.parametrize("cash", [0, 0.0, -5.0, float("nan"), float("inf")])
def test_backtest_bad_starting_cash_names_starting_cash(cash) -> None:
    # It said "starting_equity must be finite and > 0": a parameter backtest() does not have.
    import barter
    from barter.errors import ConfigError

    with pytest.raises(ConfigError, match=r"^starting_cash must be finite and > 0, was"):
        barter.backtest(_candles(), RSIStrategy(), starting_cash=cash)
