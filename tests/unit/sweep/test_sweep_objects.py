"""Stateful backtest options in a sweep: every run gets its own copy (a risk manager's state never
carries from one run to the next), and ``PerRun`` options are made in the worker."""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from barter.backtest import backtest
from barter.data.default import default_candles
from barter.portfolio import DefaultRisk
from barter.strategy import RSIStrategy
from barter.sweep import sweep
from barter.sweep.job import PerRun


class FirstEntries(DefaultRisk):
    """Approves the first ``n`` entries it ever sees, then vetoes every entry: state a shared
    instance would carry into the next run."""

    def __init__(self, n: int = 3) -> None:
        self.n, self.seen = n, 0

    def evaluate_order(self, order):
        if order.decision.is_entry:
            self.seen += 1
            if self.seen > self.n:
                self.last_veto = "budget spent"
                return None
        return super().evaluate_order(order)


def test_each_run_has_its_own_copy_of_a_stateful_option() -> None:
    candles = default_candles(3_000)
    rows = sweep(candles, RSIStrategy, {"rsi_period": [7, 7, 7]}, executor="serial", risk=FirstEntries(3))
    alone = backtest(candles, RSIStrategy(7), risk=FirstEntries(3)).summary.total.to_dict()
    assert rows["error"].isna().all() and (rows["trades"] == alone["trades"]).all()
    assert 0 < alone["trades"] <= 3


@pytest.mark.parametrize("executor", ["serial", 2])
def test_a_per_run_option_is_made_in_the_worker_from_its_path(tmp_path: Path, monkeypatch, executor) -> None:
    (tmp_path / "runrisk.py").write_text("from barter.portfolio import DefaultRisk\n\n"
                                         "class VetoAll(DefaultRisk):\n"
                                         "    def evaluate_order(self, order):\n"
                                         "        return None if order.decision.is_entry else order\n")
    monkeypatch.delitem(sys.modules, "runrisk", raising=False)
    candles = default_candles(2_000)
    rows = sweep(candles, RSIStrategy, {"rsi_period": [5, 9]}, executor=executor, sys_path=[str(tmp_path)],
                 risk=PerRun("runrisk:VetoAll"))
    assert rows["error"].isna().all() and (rows["trades"] == 0).all()
    free = sweep(candles, RSIStrategy, {"rsi_period": [5, 9]}, executor="serial")
    assert (free["trades"] > 0).all()
    assert isinstance(rows, pd.DataFrame)
