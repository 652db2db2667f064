"""Backtest throughput on the standard workload (``/work/shared/bench/workload.py``).

Variants (see benchmarks/README.md):

- ``null-python``       (a)  Python ``Strategy`` returning None, through the full engine.
- ``rsi-python``        (b)  Python ``Strategy`` on the compiled ``WilderRSI(14)``, prebuilt signals.
- ``rsi-precomputed``   (c)  the same decisions as an int8 mask via ``PrecomputedSignals``.
- ``rsi-plain-python``  (d)  a plain pure-Python loop, no framework: own Wilder RSI and accounting.
- ``rsi-python-noeq``   (b') (b) with ``Engine(record_equity=False)``.
- ``rsi-precomputed-noeq`` (c') (c) with ``Engine(record_equity=False)``.

Every variant runs in a fresh subprocess of this script (``--variant NAME``) so that the peak RSS
(``ru_maxrss``) is its own. In that process: the bars and the strategy objects are built before
timing, one warm-up run is made on a small slice, then ``engine.run()`` (for (d): the loop) is timed
with ``perf_counter_ns``, best of ``--repeat`` runs (each with a fresh portfolio, strategy and engine).

Output: a table, one JSON line per variant, then PASS/FAIL checks. Exit status is 0 when only a
performance target fails (this is a report) and 1 when fills or final equity of (b)/(c)/(b')/(c')
disagree with (d), or 2 when a variant crashed.

Run: ``python benchmarks/bench_backtest.py [--bars N] [--repeat R]``
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from collections import deque
from itertools import repeat
from pathlib import Path
from typing import Any, Callable, Optional

from _spawn import spawn_case

ROOT = Path(__file__).resolve().parents[1]
WORKLOAD_DIR = Path(os.environ.get("BARTER_WORKLOAD_DIR", ROOT.parent / "shared" / "bench"))

# Portfolio settings shared by every variant.
STARTING_CASH = 1_000_000.0
ORDER_VALUE = 1_000.0       # quote per entry, no quantity rounding
FEE_RATE = 0.001            # 0.1% exchange commission on each fill's value
RSI_PERIOD = 14
OVERSOLD, OVERBOUGHT = 30.0, 70.0

# name -> (label, kind, record_equity)
VARIANTS: dict[str, tuple[str, str, bool]] = {
    "null-python": ("(a) null-python", "null", True),
    "rsi-python": ("(b) rsi-python", "rsi", True),
    "rsi-precomputed": ("(c) rsi-precomputed", "precomputed", True),
    "rsi-plain-python": ("(d) rsi-plain-python", "plain", False),
    "rsi-python-noeq": ("(b') rsi-python, record_equity=False", "rsi", False),
    "rsi-precomputed-noeq": ("(c') rsi-precomputed, record_equity=False", "precomputed", False),
}
# Throughput targets, bars per second.
TARGETS = {"null-python": 20_000_000, "rsi-python": 5_000_000, "rsi-precomputed": 50_000_000}
RSS_TARGET_MIB = 200.0
# Variants whose fills and final equity must equal the plain loop's (d).
PARITY = ("rsi-python", "rsi-precomputed", "rsi-python-noeq", "rsi-precomputed-noeq")
REL_TOL = 1e-9


# --------------------------------------------------------------------------------------------------
# (d) the plain pure-Python reference loop
# --------------------------------------------------------------------------------------------------
def plain_backtest(closes: list[float], period: int = RSI_PERIOD, starting_cash: float = STARTING_CASH,
                   order_value: float = ORDER_VALUE, fee_rate: float = FEE_RATE) -> tuple[int, float]:
    """Flat and Wilder RSI < 30: buy ``order_value`` quote at the close; long and RSI > 70: sell all.

    A straightforward loop over Python floats. Returns (fills, final equity in quote currency).
    Per bar, as the engine: the RSI and the decision first, then the open position is marked at this
    bar's close, then the order fills at this bar's close. Accounting is the seed's: entry reserves
    value + fee from the available cash; while open the unrealised PnL counts the entry fee twice
    (the second copy estimates the exit fee); on exit the realised PnL is booked into the total.
    """
    total = available = starting_cash
    is_open = False
    qty = entry_value = entry_fee = unrealised = 0.0
    fills = 0
    # Wilder RSI state: NaN for the first `period` bars, then simple means, then alpha = 1 / period.
    count = 0
    prev = avg_gain = avg_loss = 0.0
    for close in closes:
        # 1. the indicator and the decision
        count += 1
        rsi = math.nan
        if count == 1:
            prev = close
        else:
            change = close - prev
            prev = close
            gain = change if change > 0.0 else 0.0
            loss = -change if change < 0.0 else 0.0
            if count <= period + 1:
                avg_gain += gain / period
                avg_loss += loss / period
            else:
                avg_gain += (gain - avg_gain) / period
                avg_loss += (loss - avg_loss) / period
            if count > period:
                if avg_loss == 0.0:
                    rsi = 50.0 if avg_gain == 0.0 else 100.0
                else:
                    rsi = 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
        # 2. mark the open position at this close
        if is_open:
            unrealised = close * qty - entry_value - 2.0 * entry_fee
            # 3. fill: exit the whole position
            if rsi > OVERBOUGHT:
                exit_value = close * qty
                exit_fee = fee_rate * exit_value
                realised = (exit_value - entry_value) - (entry_fee + exit_fee)
                available += entry_value + realised + entry_fee
                total += realised
                is_open = False
                fills += 1
        elif rsi < OVERSOLD and available != 0.0:
            # 3. fill: enter with `order_value` of quote
            qty = order_value / close
            entry_value = close * qty
            entry_fee = fee_rate * entry_value
            available -= entry_value + entry_fee
            unrealised = -2.0 * entry_fee
            is_open = True
            fills += 1
    return fills, total + (unrealised if is_open else 0.0)


# --------------------------------------------------------------------------------------------------
# One variant, in its own process
# --------------------------------------------------------------------------------------------------
def _load_bars(n: int):
    sys.path.insert(0, str(WORKLOAD_DIR))
    try:
        from workload import bars  # the shared standard workload; never copied
    finally:
        sys.path.remove(str(WORKLOAD_DIR))
    return bars(n)


def _rsi_mask(close, Decision, WilderRSI):  # noqa: N803 - classes passed in after the import
    """The int8 decision mask of (b)'s rule from the compiled WilderRSI, computed before timing.

    Converted to Python floats a chunk at a time so that the peak RSS stays the engine's, not a
    1M-element list's.
    """
    import numpy as np
    rsi_of = WilderRSI(RSI_PERIOD).update
    rsi = np.empty(len(close))
    for lo in range(0, len(close), 65_536):
        rsi[lo:lo + 65_536] = [rsi_of(x) for x in close[lo:lo + 65_536].tolist()]
    mask = np.zeros(len(close), dtype=np.int8)
    mask[rsi < OVERSOLD] = Decision.LONG.mask          # NaN (warm-up) compares False: no signal
    mask[rsi > OVERBOUGHT] = Decision.CLOSE_LONG.mask
    return mask


def _noop(_):
    return None


def _call_floor_ns(calls: int = 200_000) -> float:
    """Machine calibration: ns per call of a no-op Python function from C (``map``), the floor of
    any engine that calls Python once per bar. This VM's speed drifts; compare FAILs with it."""
    t0 = time.perf_counter_ns()
    deque(map(_noop, repeat(None, calls)), 0)
    return (time.perf_counter_ns() - t0) / calls


def run_variant(name: str, n: int, repeat: int, warmup: int) -> dict[str, Any]:
    import numpy as np

    import barter
    from barter import Engine, InstrumentKind, Market, Trader
    from barter.data import HistoricalCandles
    from barter.execution import Fees, SimulatedExecution
    from barter.portfolio import DefaultAllocator, DefaultRisk, Portfolio
    from barter.statistic import StatisticConfig
    from barter.strategy import Decision, PrecomputedSignals, Signal, Strategy, WilderRSI

    class NullStrategy(Strategy):
        """(a): sees every bar, never signals."""

        def generate_signal(self, market):
            return None

    class RSIPython(Strategy):
        """(b): Wilder RSI(14) < 30 -> Long, > 70 -> CloseLong (the portfolio only lets Long act
        when flat and CloseLong when long). Prebuilt signals: nothing allocated per bar."""

        LONG = Signal.long()
        CLOSE_LONG = Signal.close_long()

        def __init__(self) -> None:
            self.rsi = WilderRSI(RSI_PERIOD)

        def generate_signal(self, market):
            value = self.rsi.update(market.close)
            if value < OVERSOLD:
                return self.LONG
            if value > OVERBOUGHT:
                return self.CLOSE_LONG
            return None

    label, kind, record_equity = VARIANTS[name]
    ts, open_, high, low, close, volume = _load_bars(n)
    market = Market("binance", ("btc", "usdt", InstrumentKind.SPOT))

    def make_run(lo: int, hi: int) -> tuple[Callable[[], Any], Callable[[], tuple[int, float, Optional[float]]]]:
        """Build everything for bars[lo:hi]; return (the timed call, a reader of
        (fills, final equity, seconds in the compiled loop or None))."""
        if kind == "plain":
            closes = close[lo:hi].tolist()
            box: list[tuple[int, float]] = []
            return (lambda: box.append(plain_backtest(closes))), (lambda: (*box[-1], None))
        data = HistoricalCandles.from_arrays(ts[lo:hi], open_[lo:hi], high[lo:hi], low[lo:hi],
                                             close[lo:hi], volume[lo:hi])
        if kind == "null":
            strategy: Strategy = NullStrategy()
        elif kind == "rsi":
            strategy = RSIPython()
        else:
            strategy = PrecomputedSignals(masks[(lo, hi)])
        portfolio = Portfolio(starting_cash=STARTING_CASH,
                              allocator=DefaultAllocator(default_order_value=ORDER_VALUE, size_decimals=None),
                              risk=DefaultRisk(), statistic_config=StatisticConfig(starting_equity=STARTING_CASH))
        trader = Trader(market, data=data, strategy=strategy, execution=SimulatedExecution(Fees(exchange=FEE_RATE)))
        engine = Engine([trader], portfolio, record_equity=record_equity)
        return engine.run, (lambda: (int(portfolio.core.n_fills), float(portfolio.equity), engine.elapsed_s))

    warm = min(warmup, n)
    masks = {}
    if kind == "precomputed":  # before any timing
        masks = {(0, warm): _rsi_mask(close[:warm], Decision, WilderRSI),
                 (0, n): _rsi_mask(close, Decision, WilderRSI)}

    run, _ = make_run(0, warm)  # warm-up, same process
    run()

    times_ns: list[int] = []
    loop_s: list[float] = []   # engine.elapsed_s: the compiled loop alone, without engine setup
    floor_ns: list[float] = []
    fills, equity = 0, math.nan
    for _ in range(repeat):
        run, read = make_run(0, n)
        t0 = time.perf_counter_ns()
        run()
        t1 = time.perf_counter_ns()
        times_ns.append(t1 - t0)
        fills, equity, elapsed = read()
        if elapsed is not None:
            loop_s.append(elapsed)
        floor_ns.append(_call_floor_ns())
        del run, read  # free this repeat's engine (equity buffer, fills) before building the next
    best = min(times_ns)
    return {
        "bench": "backtest",
        "variant": name,
        "label": label,
        "events": n,
        "repeat": repeat,
        "record_equity": record_equity,
        "best_s": best / 1e9,
        "times_s": [t / 1e9 for t in times_ns],
        "events_per_s": n / (best / 1e9),
        "ns_per_event": best / n,
        "loop_ns_per_event": min(loop_s) * 1e9 / n if loop_s else None,
        "py_call_floor_ns": min(floor_ns),
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "fills": fills,
        "final_equity": equity,
        "git_sha": _git("rev-parse", "--short", "HEAD"),
        "git_src_dirty": bool(_git("status", "--porcelain", "--untracked-files=no", "--", "src")),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "barter": barter.__version__,
        "machine": f"{platform.machine()} {os.cpu_count()} cpus",
    }


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# --------------------------------------------------------------------------------------------------
# The driver: one fresh subprocess per variant, then the report
# --------------------------------------------------------------------------------------------------
def _spawn(name: str, args: argparse.Namespace) -> Optional[dict[str, Any]]:
    return spawn_case(str(Path(__file__).resolve()), f"variant {name}", "--variant", name, "--bars", str(args.bars),
                    "--repeat", str(args.repeat), "--warmup", str(args.warmup))


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=0.0)


def report(results: dict[str, Optional[dict[str, Any]]]) -> int:
    header = f"{'variant':<42} {'bars/s':>14} {'ns/bar':>9} {'peak RSS MiB':>13} {'fills':>8} {'final equity':>20}"
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        if r is None:
            print(f"{VARIANTS[name][0]:<42} {'FAILED':>14}")
            continue
        print(f"{r['label']:<42} {r['events_per_s']:>14,.0f} {r['ns_per_event']:>9.1f} "
              f"{r['peak_rss_kib'] / 1024:>13.1f} {r['fills']:>8,} {r['final_equity']:>20,.6f}")
    floors = [r["py_call_floor_ns"] for r in results.values() if r is not None]
    if floors:
        print(f"calibration: a no-op Python call from C cost {min(floors):.1f}..{max(floors):.1f} ns in these "
              f"processes (best per process); one such call per bar caps (a) at "
              f"{1e9 / min(floors):,.0f} bars/s")
    print()
    for r in results.values():
        if r is not None:
            print(json.dumps(r, sort_keys=False))
    print()

    status = 0
    if any(r is None for r in results.values()):
        status = 2
    ref = results.get("rsi-plain-python")
    for name in PARITY:
        r = results.get(name)
        if r is None or ref is None:
            continue
        ok = r["fills"] == ref["fills"] and _close(r["final_equity"], ref["final_equity"])
        print(f"{'PASS' if ok else 'FAIL'}  {r['label']}: fills {r['fills']} vs {ref['fills']}, "
              f"final equity {r['final_equity']!r} vs {ref['final_equity']!r} (d) (rel {REL_TOL:g})")
        if not ok:
            status = max(status, 1)
    for name, target in TARGETS.items():
        r = results.get(name)
        if r is not None:
            ok = r["events_per_s"] >= target
            print(f"{'PASS' if ok else 'FAIL'}  {r['label']}: {r['events_per_s']:,.0f} bars/s, "
                  f"target >= {target:,}")
    for r in results.values():
        if r is not None:
            mib = r["peak_rss_kib"] / 1024
            print(f"{'PASS' if mib <= RSS_TARGET_MIB else 'FAIL'}  {r['label']}: peak RSS {mib:.1f} MiB, "
                  f"target <= {RSS_TARGET_MIB:g} MiB")
    if ref is not None:
        plain = ref["ns_per_event"]
        print()
        for name in ("rsi-python", "rsi-python-noeq", "rsi-precomputed", "rsi-precomputed-noeq"):
            r = results.get(name)
            if r is not None:
                print(f"ratio  {r['label']}: {plain / r['ns_per_event']:.1f}x faster than (d) plain Python")
    return status


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bars", type=int, default=1_000_000, help="bars in the workload (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per variant, best kept (default 3)")
    parser.add_argument("--warmup", type=int, default=10_000, help="bars of the warm-up run (default 10,000)")
    parser.add_argument("--only", default=None,
                        help=f"comma-separated subset of: {', '.join(VARIANTS)}")
    parser.add_argument("--variant", choices=list(VARIANTS), help=argparse.SUPPRESS)  # internal: child
    args = parser.parse_args(argv)
    if args.bars < 1 or args.repeat < 1 or args.warmup < 1:
        parser.error("--bars, --repeat and --warmup must be >= 1")

    if args.variant:
        print(json.dumps(run_variant(args.variant, args.bars, args.repeat, args.warmup)))
        return 0

    names = list(VARIANTS) if args.only is None else [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in names if s not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {list(VARIANTS)}")
    print(f"backtest benchmark: {args.bars:,} one-minute bars ({WORKLOAD_DIR / 'workload.py'}), "
          f"best of {args.repeat}, warm-up {min(args.warmup, args.bars):,} bars, one process per variant")
    print()
    results = {name: _spawn(name, args) for name in names}
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
