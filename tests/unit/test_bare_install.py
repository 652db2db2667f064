"""A bare ``pip install barter`` (no extras) runs backtests, book execution included: the live
extra's packages are never imported for them."""
from __future__ import annotations

import subprocess
import sys

LIVE_ONLY = ("msgspec", "orjson", "websockets", "httpx", "redis")

SCRIPT = f"""
import sys
for name in {LIVE_ONLY!r}:
    sys.modules[name] = None  # importing it now raises ImportError, as on a bare install

import numpy as np
from barter import Engine, Market, Trader
from barter.backtest import backtest
from barter.data import HistoricalBook, default_candles
from barter.execution import BookExecution
from barter.portfolio import Portfolio
from barter.strategy import RSIStrategy, Signal, Strategy

assert backtest(default_candles(2_000), RSIStrategy(14)).summary.total.to_dict()["trades"] > 0

class Once(Strategy):
    def generate_signal(self, view):
        return Signal.long() if view.time_ns == 0 else None

book = HistoricalBook(np.array([0, 10]), np.array([0, 2, 3]), np.array([1, 0]), np.array([0, 1, 1]),
                      np.array([99.0, 101.0, 102.0]), np.array([5.0, 5.0, 1.0]))
engine = Engine([Trader(Market("binance", ("btc", "usdt")), book, Once(), BookExecution())], Portfolio(10_000.0))
engine.run()
assert engine.portfolio.position(Market("binance", ("btc", "usdt"))) is not None
print("ok")
"""


def test_backtests_need_no_live_extra() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
