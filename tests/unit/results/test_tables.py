"""The result's tables hold exactly the core's records, in order, with the documented types."""
from __future__ import annotations

import gc

import numpy as np
import pandas as pd

import barter
from barter.decision import Decision


def test_positions_match_the_core_records(synthetic: barter.BacktestResult) -> None:
    records = synthetic.portfolio.core.exits_list()
    positions = synthetic.positions
    assert len(positions) == len(records) > 100
    for i in (0, len(records) // 2, len(records) - 1):
        r, row = records[i], positions.iloc[i]
        assert row["market"] == "binance_btc_usdt_spot"
        assert row["side"] == ("buy" if r["side"] > 0 else "sell")
        assert row["enter_time"] == pd.Timestamp(r["enter_time_ns"], unit="ns", tz="UTC")
        assert row["exit_time"].value == r["exit_time_ns"]  # exact ns, no float round trip
        assert row["quantity"] == r["quantity"] and row["realised_pnl"] == r["realised_pnl"]
        assert row["exit_fees"] == r["exit_fees_total"]
        assert row["pnl_return"] == r["realised_pnl"] / r["enter_value_gross"]
    assert positions["market"].dtype == pd.Series(["x"], dtype="str").dtype
    assert gc.isenabled()  # the collector paused while building is running again


def test_fills_and_equity_types(synthetic: barter.BacktestResult) -> None:
    fills, cols = synthetic.fills, synthetic.portfolio.core.fills_columns()
    assert list(fills["decision"]) == [Decision(d).name for d in cols["decision"]]
    assert np.array_equal(pd.DatetimeIndex(fills["time"]).asi8, cols["time_ns"])
    equity = synthetic.equity
    assert str(equity.index.dtype) == "datetime64[ns, UTC]"
    assert np.array_equal(equity.index.asi8, synthetic.engine.time_ns)


def test_a_run_stopped_by_an_error_keeps_the_equity_of_the_events_before_it() -> None:
    import pytest

    from barter import Engine, Market, Trader
    from barter.backtest import BacktestResult
    from barter.data import default_candles
    from barter.errors import ConfigError
    from barter.portfolio import Portfolio
    from barter.strategy import Strategy

    class Boom(Strategy):
        def __init__(self) -> None:
            self.n = 0

        def generate_signal(self, market):
            self.n += 1
            if self.n == 51:
                raise RuntimeError("strategy bug")

    btc, eth = Market("binance", ("btc", "usdt")), Market("binance", ("eth", "usdt"))
    for traders in ([Trader(btc, default_candles(100), Boom())],
                    [Trader(btc, default_candles(100), Boom()), Trader(eth, default_candles(100), Boom())]):
        engine = Engine(traders, Portfolio(1_000.0))
        with pytest.raises(RuntimeError):
            engine.run()
        equity = BacktestResult(engine).equity
        assert engine.events == 50 * len(traders)  # btc's 51st call raised, before eth's
        assert len(engine.equity) == len(equity) == 50  # one point per time: both markets' bars share them
        assert equity.index.is_unique and equity.index.is_monotonic_increasing and (equity == 1_000.0).all()

    class Idle(Strategy):
        def generate_signal(self, market):
            return None

    quiet = Engine([Trader(btc, default_candles(100), Idle())], Portfolio(1_000.0), record_equity=False)
    quiet.run()
    with pytest.raises(ConfigError, match="record_equity=False"):
        BacktestResult(quiet).equity
