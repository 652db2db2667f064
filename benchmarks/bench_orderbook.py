"""L2 order book throughput: updates/s of the compiled book (issue 6), and of SortedDict and the
``order-book`` package on the same workload for the ratio.

Workload (``default_rng(7)``, built before timing): 1,000 levels per side at tick 0.01 (bids 99.99
down to 90.00, asks 100.01 up to 110.00), then 1,000,000 updates on a random side: 90% at one of
the 20 best ticks of the starting book (a tenth of those delete the level, the rest set a size),
10% at any of the side's 1,000 ticks. The best bid and ask are read after every update.

Cases, each in a fresh subprocess so its peak RSS (``ru_maxrss``, the whole process) is its own:
  core-batch        ``OrderBook.update_many``: one call, no GIL, best bid/ask written to arrays
  core-python       one ``book.update(side, price, size)`` per update, then ``book.bid_price`` and
                    ``book.ask_price``
  sortedcontainers  two ``SortedDict``s in the same Python loop (``peekitem`` for the best)
  order-book        the ``order-book`` package (a C red-black tree) in the same loop

A comparison package that is not installed is reported as skipped (``pip install sortedcontainers
order-book``). Targets: core-batch >= 25,000,000 updates/s, core-python >= 5,000,000 updates/s. A
calibration line gives the cost of an empty Python loop over the same lists in each process, the
floor under the Python-loop cases: on a shared VM it moves by up to 2x between runs, so read the
targets against it.
Each case: a warm-up on the first 100,000 updates, then ``--repeat`` timed runs over all updates with
``perf_counter_ns``, each on a fresh book from the same snapshot; the best run counts. All cases
must end with the same 20 best levels per side (a parity check).

Usage: python benchmarks/bench_orderbook.py [--n 1000000] [--repeat 5] [--only core-batch,...]
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
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from _spawn import spawn_case

ROOT = Path(__file__).resolve().parents[1]
SEED = 7
LEVELS = 1_000
NEAR = 20
TARGETS = {"core-batch": 25_000_000, "core-python": 5_000_000}
CASES = ("core-batch", "core-python", "sortedcontainers", "order-book")
PACKAGES = {"sortedcontainers": "sortedcontainers", "order-book": "order-book"}


# --------------------------------------------------------------------------------------------------
# The workload: prices are integer ticks / 100, so a tick always maps to the same double
# --------------------------------------------------------------------------------------------------
def workload(n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(SEED)
    bid_ticks = 9_999 - np.arange(LEVELS)
    ask_ticks = 10_001 + np.arange(LEVELS)
    start_sizes = rng.uniform(0.01, 10.0, (2, LEVELS))
    side = rng.integers(0, 2, n).astype(np.int8)
    near = rng.random(n) < 0.9
    depth = np.where(near, rng.integers(0, NEAR, n), rng.integers(0, LEVELS, n))
    delete = near & (rng.random(n) < 0.1)
    ticks = np.where(side == 0, 9_999 - depth, 10_001 + depth)
    return {
        "bids": np.column_stack([bid_ticks / 100, start_sizes[0]]),
        "asks": np.column_stack([ask_ticks / 100, start_sizes[1]]),
        "side": side,
        "price": ticks / 100,
        "size": np.where(delete, 0.0, rng.uniform(0.01, 10.0, n)),
    }


# --------------------------------------------------------------------------------------------------
# One builder per case: make(w, n) -> (run() applying the first n updates to a fresh book, its top)
# --------------------------------------------------------------------------------------------------
Top = tuple[list[tuple[float, float]], list[tuple[float, float]]]


def core_batch(w: dict[str, np.ndarray], n: int) -> tuple[Callable[[], None], Callable[[], Top]]:
    from barter._core.book import OrderBook
    book = OrderBook(w["bids"], w["asks"])
    side, price, size = w["side"][:n], w["price"][:n], w["size"][:n]
    best_bid, best_ask = np.full(n, np.nan), np.full(n, np.nan)  # buffers made (and paged in) once

    def run() -> None:
        book.update_many(side, price, size, best_bid, best_ask)

    return run, lambda: _core_top(book)


def core_python(w: dict[str, np.ndarray], n: int) -> tuple[Callable[[], None], Callable[[], Top]]:
    from barter._core.book import OrderBook
    book = OrderBook(w["bids"], w["asks"])
    side, price, size = _lists(w, n)

    def run() -> None:
        update = book.update
        for s, p, q in zip(side, price, size):
            update(s, p, q)
            bid = book.bid_price  # noqa: F841 - the read is the workload
            ask = book.ask_price  # noqa: F841

    return run, lambda: _core_top(book)


def sorted_dict(w: dict[str, np.ndarray], n: int) -> tuple[Callable[[], None], Callable[[], Top]]:
    from sortedcontainers import SortedDict
    bids, asks = SortedDict(w["bids"].tolist()), SortedDict(w["asks"].tolist())
    sides = (bids, asks)
    side, price, size = _lists(w, n)

    def run() -> None:
        for s, p, q in zip(side, price, size):
            levels = sides[s]
            if q:
                levels[p] = q
            else:
                levels.pop(p, None)
            bid = bids.peekitem(-1)[0]  # noqa: F841
            ask = asks.peekitem(0)[0]  # noqa: F841

    def top() -> Top:
        return list(reversed(bids.items()[-NEAR:])), list(asks.items()[:NEAR])

    return run, top


def order_book_pkg(w: dict[str, np.ndarray], n: int) -> tuple[Callable[[], None], Callable[[], Top]]:
    from order_book import OrderBook as TreeBook
    book = TreeBook()
    book.bids = dict(w["bids"].tolist())
    book.asks = dict(w["asks"].tolist())
    sides = (book.bids, book.asks)
    side, price, size = _lists(w, n)

    def run() -> None:
        bids, asks = sides
        for s, p, q in zip(side, price, size):
            levels = sides[s]
            if q:
                levels[p] = q
            elif p in levels:
                del levels[p]
            bid = bids.index(0)[0]  # noqa: F841
            ask = asks.index(0)[0]  # noqa: F841

    def top() -> Top:
        return ([book.bids.index(i) for i in range(NEAR)], [book.asks.index(i) for i in range(NEAR)])

    return run, top


def _lists(w: dict[str, np.ndarray], n: int) -> tuple[list[int], list[float], list[float]]:
    return w["side"][:n].tolist(), w["price"][:n].tolist(), w["size"][:n].tolist()


def _core_top(book: Any) -> Top:
    tops = []
    for side in (0, 1):
        prices, sizes = book.depth(side, NEAR)
        tops.append(list(zip(prices.tolist(), sizes.tolist())))
    return tops[0], tops[1]


BUILDERS = {"core-batch": core_batch, "core-python": core_python, "sortedcontainers": sorted_dict,
            "order-book": order_book_pkg}


# --------------------------------------------------------------------------------------------------
# A child process: one case
# --------------------------------------------------------------------------------------------------
def run_case(name: str, n: int, repeat: int) -> dict[str, Any]:
    w = workload(n)
    run, _ = BUILDERS[name](w, min(n, 100_000))
    run()  # warm-up
    best, top = None, None
    for _ in range(repeat):
        run, top = BUILDERS[name](w, n)  # a fresh book each time, built before timing
        start = time.perf_counter_ns()
        run()
        ns = time.perf_counter_ns() - start
        best = ns if best is None else min(best, ns)
    assert best is not None and top is not None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # before the calibration's lists
    return {
        "case": name,
        "updates": n,
        "events_per_s": n / best * 1e9,
        "ns_per_event": best / n,
        "peak_rss_kib": rss,
        "py_loop_floor_ns": _loop_floor_ns(w, n, repeat),
        "top": top(),
        "git_sha": _git("rev-parse", "--short", "HEAD"),
        "git_src_dirty": bool(_git("status", "--porcelain", "--untracked-files=no", "--", "src")),
        "python": platform.python_version(),
        "numpy": np.__version__,
        **({name: version(PACKAGES[name])} if name in PACKAGES else {}),
        "machine": f"{platform.machine()} {os.cpu_count()} cpus",
    }


def _loop_floor_ns(w: dict[str, np.ndarray], n: int, repeat: int) -> float:
    """ns per iteration of an empty ``for s, p, q in zip(...)`` over the same lists: the floor of
    any loop with one Python call per update, in this process (it varies by ~2x on a shared VM)."""
    side, price, size = _lists(w, n)
    runs = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        for _s, _p, _q in zip(side, price, size):
            pass
        runs.append(time.perf_counter_ns() - start)
    return min(runs) / n


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# --------------------------------------------------------------------------------------------------
# The driver: one subprocess per case, then the report
# --------------------------------------------------------------------------------------------------
def _missing(name: str) -> Optional[str]:
    """Why a comparison case cannot run (its package is not installed), or None."""
    if name not in PACKAGES:
        return None
    try:
        version(PACKAGES[name])
    except PackageNotFoundError:
        return f"{PACKAGES[name]} is not installed (pip install {PACKAGES[name]})"
    return None


def _spawn(name: str, args: argparse.Namespace) -> Optional[dict[str, Any]]:
    return spawn_case(str(Path(__file__).resolve()), f"case {name}", "--case", name, "--n", str(args.n),
                    "--repeat", str(args.repeat))


def report(results: dict[str, Optional[dict[str, Any]]], skipped: dict[str, str]) -> int:
    header = f"{'case':<18} {'updates/s':>14} {'ns/update':>10} {'peak RSS MiB':>13} {'vs core-python':>15}"
    print(header)
    print("-" * len(header))
    py = results.get("core-python")
    for name, r in results.items():
        if r is None:
            print(f"{name:<18} {'FAILED':>14}")
            continue
        ratio = f"{r['ns_per_event'] / py['ns_per_event']:.1f}x slower" if py and name != "core-python" else ""
        if name == "core-batch" and py:
            ratio = f"{py['ns_per_event'] / r['ns_per_event']:.1f}x faster"
        print(f"{name:<18} {r['events_per_s']:>14,.0f} {r['ns_per_event']:>10.1f} "
              f"{r['peak_rss_kib'] / 1024:>13.1f} {ratio:>15}")
    for name, why in skipped.items():
        print(f"{name:<18} {'skipped':>14}  {why}")
    floors = [r["py_loop_floor_ns"] for r in results.values() if r is not None]
    if floors:
        print(f"calibration: an empty Python loop over the updates cost {min(floors):.1f}..{max(floors):.1f} "
              f"ns/update in these processes")
    print()
    for r in results.values():
        if r is not None:
            print(json.dumps({k: v for k, v in r.items() if k != "top"}))
    print()

    status = 2 if any(r is None for r in results.values()) else 0
    done = {name: r for name, r in results.items() if r is not None}
    if done:
        first, ref = next(iter(done.items()))
        for name, r in done.items():
            same = r["top"] == ref["top"]
            print(f"{'PASS' if same else 'FAIL'}  {name}: final 20 best levels per side "
                  f"{'equal' if same else 'differ from'} {first}'s")
            status = status if same else max(status, 1)
    for name, target in TARGETS.items():
        r = done.get(name)
        if r is not None:
            print(f"{'PASS' if r['events_per_s'] >= target else 'FAIL'}  {name}: "
                  f"{r['events_per_s']:,.0f} updates/s, target >= {target:,}")
    return status


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="updates (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per case, best kept (default 5)")
    parser.add_argument("--only", default=None, help=f"comma-separated subset of: {', '.join(CASES)}")
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)  # internal: the child
    args = parser.parse_args(argv)
    if args.n < 1 or args.repeat < 1:
        parser.error("--n and --repeat must be >= 1")
    if args.case:
        print(json.dumps(run_case(args.case, args.n, args.repeat)))
        return 0

    names = list(CASES) if args.only is None else [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in names if s not in CASES]
    if unknown:
        parser.error(f"unknown cases {unknown}; choose from {list(CASES)}")
    skipped = {name: why for name in names if (why := _missing(name)) is not None}
    print(f"order book benchmark: {LEVELS:,} levels per side, {args.n:,} updates (default_rng({SEED})), "
          f"best of {args.repeat}, one process per case")
    print()
    results = {name: _spawn(name, args) for name in names if name not in skipped}
    return report(results, skipped)


if __name__ == "__main__":
    sys.exit(main())
