"""Multi-market engine throughput: 5 markets x N one-minute bars (the standard workload, one seed
per market) merged by time, with the Python null strategy and with precomputed RSI decisions, with
and without an event-stream listener.

Target (issue 7): without a listener, within 25% of the single-market figures of
``bench_backtest.py`` (run here on one market for the ratio). With a listener every event becomes
Python objects, so that case runs on fewer bars (``--listener-bars``) and is reported, not targeted.

Each case runs in a fresh subprocess (peak RSS is its own); best of ``--repeat``; the timed part is
``engine.run()`` including the merge. Run: ``python benchmarks/bench_engine.py [--bars N]``
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(os.environ.get("BARTER_WORKLOAD_DIR", ROOT.parent / "shared" / "bench"))))
from workload import bars  # noqa: E402
from _spawn import spawn_case  # noqa: E402

CASES = {  # name -> (markets, strategy kind, listener)
    "1x-null": (1, "null", False), "5x-null": (5, "null", False),
    "1x-precomputed": (1, "precomputed", False), "5x-precomputed": (5, "precomputed", False),
    "5x-null-listener": (5, "null", True), "5x-precomputed-listener": (5, "precomputed", True),
}


def build(n_markets: int, n: int, kind: str, listener: bool):
    from barter import Engine, InstrumentKind, Market, Trader
    from barter.data import HistoricalCandles
    from barter.execution import Fees, SimulatedExecution
    from barter.portfolio import DefaultAllocator, Portfolio
    from barter.statistic import StatisticConfig
    from barter.strategy import Decision, PrecomputedSignals, Strategy, WilderRSI

    class Null(Strategy):
        def generate_signal(self, market):
            return None

    traders = []
    for m in range(n_markets):
        ts, o, h, lo, c, v = bars(n, seed=42 + m)
        if kind == "null":
            strategy = Null()
        else:
            rsi = WilderRSI(14)
            r = np.fromiter((rsi.update(x) for x in c.tolist()), float, len(c))
            strategy = PrecomputedSignals(np.where(r < 30, Decision.LONG.mask,
                                                   np.where(r > 70, Decision.CLOSE_LONG.mask, 0)).astype(np.int8))
        market = Market("binance", (f"m{m}", "usdt", InstrumentKind.SPOT))
        traders.append(Trader(market, HistoricalCandles.from_arrays(ts, o, h, lo, c, v), strategy,
                              SimulatedExecution(Fees(exchange=0.001))))
    portfolio = Portfolio(starting_cash=1e6, allocator=DefaultAllocator(1000.0, size_decimals=None),
                          statistic_config=StatisticConfig(starting_equity=1e6))
    return Engine(traders, portfolio, listeners=[lambda event: None] if listener else [])


def run_case(name: str, n: int, repeat: int) -> dict:
    n_markets, kind, listener = CASES[name]
    build(n_markets, 1_000, kind, listener).run()  # warm up
    best = None
    for _ in range(repeat):
        engine = build(n_markets, n, kind, listener)
        start = time.perf_counter_ns()
        engine.run()
        ns = time.perf_counter_ns() - start
        best = ns if best is None else min(best, ns)
    events = n_markets * n
    return {"case": name, "events": events, "events_per_s": events / best * 1e9, "ns_per_event": best / events,
            "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "git_sha": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                      cwd=ROOT).stdout.strip(),
            "python": platform.python_version(), "numpy": np.__version__}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000, help="bars per market")
    parser.add_argument("--listener-bars", type=int, default=100_000, help="bars per market with a listener")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        n = args.listener_bars if CASES[args.case][2] else args.bars
        print(json.dumps(run_case(args.case, n, args.repeat)))
        return 0
    results = {}
    for name in CASES:
        result = spawn_case(__file__, f"case {name}", "--case", name, "--bars", str(args.bars),
                          "--listener-bars", str(args.listener_bars), "--repeat", str(args.repeat))
        if result is None:
            return 2
        results[name] = result
    print(f"{'case':<26}{'events':>12}{'events/s':>16}{'ns/event':>10}{'peak RSS MiB':>14}")
    for r in results.values():
        print(f"{r['case']:<26}{r['events']:>12,}{r['events_per_s']:>16,.0f}{r['ns_per_event']:>10.1f}"
              f"{r['peak_rss_kib'] / 1024:>14.1f}")
    for r in results.values():
        print(json.dumps(r))
    for kind in ("null", "precomputed"):
        one, five = results[f"1x-{kind}"]["events_per_s"], results[f"5x-{kind}"]["events_per_s"]
        verdict = "PASS" if five >= 0.75 * one else "FAIL"
        print(f"{verdict}: 5 markets {kind} {five:,.0f} events/s = {five / one:.0%} of one market (target >= 75%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
