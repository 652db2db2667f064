"""Backtests on L2 books (issue 6): events/s of the engine over a ``HistoricalBook``, with and without
book-walking execution.

Workload: ``bench_orderbook.workload`` (``default_rng(7)``: a 1,000-level snapshot per side, then
N one-level updates, 90% near the top), as N + 1 messages 1 ms apart. Built before timing.

Cases, each in a fresh subprocess (peak RSS ``ru_maxrss`` is its own); the timed part is noted:
  build            ``HistoricalBook(...)``: checks and replays the messages once (tops, folding)
  null-sim         ``engine.run()``, a Python strategy returning None, ``SimulatedExecution``: the
                   book applied in the core per event, ``view.book`` current
  null-book        the same with ``BookExecution`` (idle venue: no order ever)
  market-orders    ``BookExecution`` with 1 ms order latency; the strategy goes long/flat every
                   ``--every`` events with a market order (the venue sees every message while busy)
  limit-orders     the same with a GTC limit at the best bid/ask, cancelled after 50 ms

Usage: python benchmarks/bench_book_backtest.py [--n 1000000] [--repeat 3] [--every 1000]
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _spawn import spawn_case  # noqa: E402
from bench_orderbook import workload  # noqa: E402

CASES = ("build", "null-sim", "null-book", "market-orders", "limit-orders")


def book_columns(n: int) -> dict[str, np.ndarray]:
    w = workload(n)
    snap_side = np.concatenate([np.zeros(len(w["bids"]), np.int8), np.ones(len(w["asks"]), np.int8)])
    snap = np.concatenate([w["bids"], w["asks"]])
    k = len(snap)
    return dict(time_ns=np.arange(n + 1, dtype=np.int64) * 1_000_000,
                start=np.concatenate([[0], k + np.arange(n + 1)]).astype(np.int64),
                snapshot=np.concatenate([[1], np.zeros(n, np.int8)]).astype(np.int8),
                side=np.concatenate([snap_side, w["side"]]), price=np.concatenate([snap[:, 0], w["price"]]),
                size=np.concatenate([snap[:, 1], w["size"]]))


def engine_for(case: str, book, every: int):
    from barter import Engine, Market, Trader
    from barter.execution import BookExecution, Latency, LimitOrder, MakerTakerFees, SimulatedExecution
    from barter.portfolio import DefaultAllocator, Portfolio
    from barter.strategy import Signal, Strategy

    limit = case == "limit-orders"

    class Flip(Strategy):
        def __init__(self) -> None:
            self.n = 0

        def generate_signal(self, view):
            self.n += 1
            if case.startswith("null") or self.n % every:
                return None
            if (self.n // every) % 2:
                return Signal.long(order=LimitOrder(view.book.bid_price, expire_ns=50_000_000) if limit else None)
            return Signal.close_long(order=LimitOrder(view.book.ask_price, expire_ns=50_000_000) if limit else None)

    execution = (SimulatedExecution() if case == "null-sim" else
                 BookExecution(MakerTakerFees(0.0001, 0.0005), Latency(order_ns=1_000_000)))
    portfolio = Portfolio(1_000_000.0, allocator=DefaultAllocator(1_000.0, size_decimals=None))
    return Engine([Trader(Market("binance", ("btc", "usdt")), book, Flip(), execution)], portfolio)


def run_case(case: str, n: int, repeat: int, every: int) -> dict:
    from barter.data import HistoricalBook

    cols = book_columns(n)
    best, out = float("inf"), {}
    for _ in range(repeat):
        t0 = time.perf_counter_ns()
        book = HistoricalBook(**cols)
        built = time.perf_counter_ns() - t0
        if case == "build":
            best = min(best, built)
            continue
        engine = engine_for(case, book, every)
        t0 = time.perf_counter_ns()
        engine.run()
        best = min(best, time.perf_counter_ns() - t0)
        out = {"fills": engine.portfolio.core.n_fills, "events": engine.events}
    events = n + 1
    return {"case": case, "events": events, "events_per_s": events / (best / 1e9), "ns_per_event": best / events,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--every", type=int, default=1_000)
    parser.add_argument("--only", default=",".join(CASES))
    parser.add_argument("--case", help=argparse.SUPPRESS)
    a = parser.parse_args()
    if a.case:
        print(json.dumps(run_case(a.case, a.n, a.repeat, a.every)))
        return
    print(f"python {platform.python_version()}, {a.n:,} update messages, best of {a.repeat}")
    print(f"{'case':<15}{'events/s':>14}{'ns/event':>10}{'peak MiB':>10}{'fills':>8}")
    for case in a.only.split(","):
        r = spawn_case(__file__, case, "--case", case, "--n", str(a.n), "--repeat", str(a.repeat),
                       "--every", str(a.every))
        if r is not None:
            print(f"{case:<15}{r['events_per_s']:>14,.0f}{r['ns_per_event']:>10.0f}{r['peak_rss_mib']:>10.0f}"
                  f"{r.get('fills', ''):>8}")
            print(json.dumps(r))


if __name__ == "__main__":
    main()
