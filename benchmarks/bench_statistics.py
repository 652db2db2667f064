"""Streaming statistics throughput: Welford updates/s, and the cost of the summary update per exited
position and per equity point, through the compiled API on arrays.

Targets (issue 4): >= 100,000,000 Welford updates/s; <= 200 ns per exited position for the whole
summary update (the portfolio updates two summaries per exit: the market's and the total's).

Usage: python benchmarks/bench_statistics.py [--n 10000000] [--repeat 5]
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import time

import numpy as np

import barter
from barter._core.stats import DownsideDeviation, EquityStats, RunningStats, TradeStats

SEED = 42


def best_ns(fn, repeat: int) -> int:
    fn()  # warm up
    runs = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        fn()
        runs.append(time.perf_counter_ns() - start)
    return min(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n = args.n
    rng = np.random.default_rng(SEED)
    xs = 1e9 + rng.normal(0.0, 1.0, n)
    exits = n // 10
    enter = np.arange(exits, dtype=np.int64) * 60_000_000_000
    exit_ = enter + 30_000_000_000
    returns = rng.normal(0.0, 0.01, exits)
    pnl = returns * 100.0
    balance = 10_000.0 + np.cumsum(pnl)
    times = np.arange(n, dtype=np.int64) * 60_000_000_000
    equity = 10_000.0 * np.exp(np.cumsum(rng.normal(0.0, 1e-4, n)))

    cases = {
        "welford_push_many": (n, lambda: RunningStats().push_many(xs)),
        "downside_push_many": (n, lambda: DownsideDeviation().push_many(xs)),
        "trade_summary_per_exit": (exits, lambda: TradeStats(10_000.0).push_many(enter, exit_, returns, pnl, balance)),
        "equity_curve_per_point": (n, lambda: EquityStats(10_000.0).update_many(times, equity)),
    }
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"{'case':<26}{'items/s':>16}{'ns/item':>10}")
    rows = {}
    for name, (items, fn) in cases.items():
        ns = best_ns(fn, args.repeat)
        rows[name] = ns / items
        print(f"{name:<26}{items / ns * 1e9:>16,.0f}{ns / items:>10.2f}")
    for name, per in rows.items():
        print(json.dumps({"case": name, "events_per_s": 1e9 / per, "ns_per_event": per,
                          "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "git_sha": sha,
                          "python": platform.python_version(), "numpy": np.__version__,
                          "barter": barter.__version__}))
    welford = 1e9 / rows["welford_push_many"]
    per_exit = 2 * rows["trade_summary_per_exit"]
    print(f"{'PASS' if welford >= 1e8 else 'FAIL'}: Welford {welford:,.0f} updates/s (target >= 100,000,000)")
    print(f"{'PASS' if per_exit <= 200 else 'FAIL'}: summary update per exited position {per_exit:.1f} ns "
          f"(market + total; target <= 200)")


if __name__ == "__main__":
    main()
