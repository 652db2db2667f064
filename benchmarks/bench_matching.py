"""Simulated book venue throughput (issue 6, execution on books): book events/s and orders/s
through ``MatchingVenue``.

Workload (``default_rng(7)``, built before timing): the bench_orderbook book (1,000 levels per side
at tick 0.01), then ``--n`` market events, 90% one-level deltas (90% of those at one of the 20 best
ticks, a tenth deleting it) and 10% trades at a random near tick. Cases:
  events-idle       the events with no user order in the venue
  events-resting    the same with 20 GTC orders resting at the best 10 ticks of each side (the queue
                    path runs on every delta and trade touching them)
  orders-market     market orders of 0.5-15 base units (1-3 levels), each submitted and matched
                    (``submit`` + ``advance``), one delta refilling the best ask between orders
  orders-gtc        GTC limit orders a few ticks behind the best, submitted, matched, then cancelled
Each case: a warm-up on a tenth, then ``--repeat`` timed runs with ``perf_counter_ns`` on a fresh
venue; the best counts. One JSON line per case, then a summary line.

Usage: python benchmarks/bench_matching.py [--n 200000] [--orders 50000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from barter.execution import BookOrder, MatchingVenue
from barter.instrument import Side

ROOT = Path(__file__).resolve().parents[1]
SEED, LEVELS, NEAR = 7, 1_000, 20


def workload(n: int, n_orders: int) -> dict[str, Any]:
    rng = np.random.default_rng(SEED)
    bids = np.column_stack([(9_999 - np.arange(LEVELS)) / 100, rng.uniform(0.01, 10.0, LEVELS)])
    asks = np.column_stack([(10_001 + np.arange(LEVELS)) / 100, rng.uniform(0.01, 10.0, LEVELS)])
    side = rng.integers(0, 2, n)
    depth = np.where(rng.random(n) < 0.9, rng.integers(0, NEAR, n), rng.integers(0, LEVELS, n))
    price = np.where(side == 0, 9_999 - depth, 10_001 + depth) / 100
    size = np.where(rng.random(n) < 0.09, 0.0, rng.uniform(0.01, 10.0, n))
    is_trade = rng.random(n) < 0.1
    trade_price = np.where(side == 0, 9_999 - rng.integers(0, 5, n), 10_001 + rng.integers(0, 5, n)) / 100
    events = [("t", float(tp), float(s) + 0.01, Side.SELL if sd == 0 else Side.BUY) if tr else
              ("d", int(sd), float(p), float(s))
              for tr, tp, sd, p, s in zip(is_trade, trade_price, side, price, size)]
    qty = rng.uniform(0.5, 15.0, n_orders).tolist()
    sides = [Side.BUY if b else Side.SELL for b in rng.random(n_orders) < 0.5]
    return {"bids": bids, "asks": asks, "events": events, "qty": qty, "sides": sides}


def fresh(w: dict[str, Any], resting: bool = False) -> MatchingVenue:
    v = MatchingVenue()
    v.on_snapshot(0, w["bids"], w["asks"])
    if resting:
        for k in range(10):
            v.submit(BookOrder.limit(Side.BUY, 1.0, (9_999 - k) / 100), 0)
            v.submit(BookOrder.limit(Side.SELL, 1.0, (10_001 + k) / 100), 0)
        v.advance(0)
    return v


def feed(v: MatchingVenue, events: list[tuple]) -> None:
    empty: tuple = ()  # rows as a feed gives them
    for t, e in enumerate(events, 1):
        if e[0] == "t":
            v.on_trade(t, e[1], e[2], e[3])
        elif e[1] == 0:
            v.on_delta(t, ((e[2], e[3]),), empty)
        else:
            v.on_delta(t, empty, ((e[2], e[3]),))


def market_orders(v: MatchingVenue, w: dict[str, Any], n: int) -> None:
    refill = np.array([[100.01, 5.0], [100.02, 5.0], [100.03, 5.0]])
    refill_bids = np.array([[99.99, 5.0], [99.98, 5.0], [99.97, 5.0]])
    for t, (q, s) in enumerate(zip(w["qty"][:n], w["sides"][:n]), 1):
        v.submit(BookOrder.market(s, q), t)
        v.advance(t)
        v.on_delta(t, refill_bids, refill)  # the exchange's next update replaces what was consumed


def gtc_orders(v: MatchingVenue, w: dict[str, Any], n: int) -> None:
    for t, (q, s) in enumerate(zip(w["qty"][:n], w["sides"][:n]), 1):
        price = 99.95 if s == Side.BUY else 100.05
        oid = v.submit(BookOrder.limit(s, q, price), t)
        v.advance(t)
        v.cancel(oid, t)
        v.advance(t)


def timed(make: Callable[[], MatchingVenue], run: Callable[[MatchingVenue, int], None], n: int,
          repeat: int) -> float:
    run(make(), max(1, n // 10))  # warm-up
    best = float("inf")
    for _ in range(repeat):
        v = make()
        t0 = time.perf_counter_ns()
        run(v, n)
        best = min(best, time.perf_counter_ns() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--orders", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    w = workload(a.n, a.orders)
    cases = {
        "events-idle": (lambda: fresh(w), lambda v, n: feed(v, w["events"][:n]), a.n),
        "events-resting": (lambda: fresh(w, True), lambda v, n: feed(v, w["events"][:n]), a.n),
        "orders-market": (lambda: fresh(w), lambda v, n: market_orders(v, w, n), a.orders),
        "orders-gtc": (lambda: fresh(w), lambda v, n: gtc_orders(v, w, n), a.orders),
    }
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    summary = {}
    for name, (make, run, n) in cases.items():
        ns = timed(make, run, n, a.repeat)
        summary[name] = round(n * 1e9 / ns)
        print(json.dumps({"case": name, "n": n, "events_per_s": summary[name], "ns_per_event": round(ns / n, 1),
                          "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "git_sha": sha,
                          "python": platform.python_version(), "numpy": np.__version__}))
    print(json.dumps({"summary_per_s": summary}))


if __name__ == "__main__":
    main()
