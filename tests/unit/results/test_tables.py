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
