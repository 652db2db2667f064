"""What the progress bar and result collection cost a 1M-bar backtest (target: at most 5 %).

Cases, on the standard workload with the foundation benchmark's settings (``bench_backtest.py``),
for a Python strategy (the compiled ``WilderRSI(14)`` behind ``generate_signal``, ``rsi-python``)
and for the same decisions precomputed (``rsi-precomputed``, no Python per bar):

- ``bare``      ``Engine(record_equity=False).run()``: neither.
- ``progress``  ``run(progress=ProgressBar(...))`` on a (fake) terminal with the CLI's settings: the
                hook every 65,536 events; the bar appears after 0.5 s, then redraws 4 times a second.
- ``draw``      the same with ``delay=0``: the bar drawn from the first report (worst case).
- ``collect``   ``record_equity=True`` (equity and time per event) and ``BacktestResult(engine)``
                (the summary): the default.
- ``both``      progress and collect: what ``barter backtest`` does on a terminal.
- ``both-draw`` draw and collect.

Timed: building the engine, the run and the result object (the tables are built on demand and are
timed apart, ``tables_s``: ``fills``, ``positions`` and ``equity`` of a collecting run). Each case
runs in its own process (``_spawn.spawn_case``), warms up on 10,000 bars, then keeps the best of
``--repeat`` runs; the cases run ``--rounds`` times in turn (a fresh process each time) and the best
round counts, because on a small shared VM one process can be 30 % slower than the next. Output: a table, one JSON line per case, and PASS/FAIL of ``both`` against
``bare`` (exit 0 either way: this is a report; 2 if a case crashed).

Run: ``python benchmarks/bench_overhead.py [--bars N] [--repeat R] [--rounds K]``
"""
from __future__ import annotations

import argparse
import io
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

from _spawn import spawn_case
from bench_backtest import (FEE_RATE, ORDER_VALUE, OVERBOUGHT, OVERSOLD, RSI_PERIOD, STARTING_CASH, _git,
                            _load_bars, _rsi_mask)

# case -> (progress bar delay in s, or None for no bar; record equity and build the result)
CASES: dict[str, tuple[Optional[float], bool]] = {
    "bare": (None, False), "progress": (0.5, False), "draw": (0.0, False), "collect": (None, True),
    "both": (0.5, True), "both-draw": (0.0, True)}
KINDS = ("rsi-python", "rsi-precomputed")
TARGET = 0.05  # most extra time of "both" over "bare"


class _Terminal(io.StringIO):
    """Where the bar draws in the benchmark: a terminal that keeps only the last 64 KiB."""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.tell() > 65_536:
            self.seek(0)
            self.truncate()
        return super().write(text)


def run_case(kind: str, case: str, n: int, repeat: int, warmup: int) -> dict[str, Any]:
    import numpy as np

    import barter
    from barter import Engine, InstrumentKind, Market, Trader
    from barter.data import HistoricalCandles
    from barter.execution import Fees, SimulatedExecution
    from barter.portfolio import DefaultAllocator, DefaultRisk, Portfolio
    from barter.progress import ProgressBar
    from barter.statistic import StatisticConfig
    from barter.strategy import Decision, PrecomputedSignals, Signal, Strategy, WilderRSI

    class RSIPython(Strategy):
        LONG, CLOSE_LONG = Signal.long(), Signal.close_long()

        def __init__(self) -> None:
            self.rsi = WilderRSI(RSI_PERIOD)

        def generate_signal(self, market):
            value = self.rsi.update(market.close)
            return self.LONG if value < OVERSOLD else self.CLOSE_LONG if value > OVERBOUGHT else None

    delay, collect = CASES[case]
    ts, open_, high, low, close, volume = _load_bars(n)
    masks = {m: _rsi_mask(close[:m], Decision, WilderRSI) for m in (min(warmup, n), n)} \
        if kind == "rsi-precomputed" else {}
    market = Market("binance", ("btc", "usdt", InstrumentKind.SPOT))

    def once(m: int) -> tuple[float, Any]:
        data = HistoricalCandles.from_arrays(ts[:m], open_[:m], high[:m], low[:m], close[:m], volume[:m])
        strategy = PrecomputedSignals(masks[m]) if masks else RSIPython()
        t0 = time.perf_counter_ns()
        portfolio = Portfolio(starting_cash=STARTING_CASH,
                              allocator=DefaultAllocator(default_order_value=ORDER_VALUE, size_decimals=None),
                              risk=DefaultRisk(), statistic_config=StatisticConfig(starting_equity=STARTING_CASH))
        engine = Engine([Trader(market, data, strategy, SimulatedExecution(Fees(exchange=FEE_RATE)))], portfolio,
                        record_equity=collect)
        with ProgressBar("bench", stream=_Terminal(), quiet=delay is None, delay=delay or 0.0) as bar:
            engine.run(progress=None if delay is None else bar)
        result = barter.BacktestResult(engine) if collect else engine.summary()
        return (time.perf_counter_ns() - t0) / 1e9, (result, bar.calls, portfolio)

    once(min(warmup, n))
    times, tables = [], None
    for _ in range(repeat):
        seconds, (result, calls, portfolio) = once(n)
        times.append(seconds)
        if collect and tables is None:
            t0 = time.perf_counter()
            _ = result.fills, result.positions, result.equity
            tables = time.perf_counter() - t0
    best = min(times)
    return {
        "bench": "overhead", "kind": kind, "case": case, "events": n, "repeat": repeat,
        "best_s": best, "times_s": times, "events_per_s": n / best, "ns_per_event": best * 1e9 / n,
        "progress_calls": calls, "tables_s": tables, "fills": int(portfolio.core.n_fills),
        "final_equity": float(portfolio.equity),
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "git_sha": _git("rev-parse", "--short", "HEAD"), "numpy": np.__version__, "barter": barter.__version__,
        "python": sys.version.split()[0],
    }


def report(results: dict[tuple[str, str], Optional[dict[str, Any]]]) -> int:
    print(f"{'kind':<17} {'case':<10} {'best s':>8} {'ns/bar':>8} {'bars/s':>13} {'vs bare':>8} {'calls':>6}")
    status = 0
    for (kind, case), r in results.items():
        bare = results.get((kind, "bare"))
        if r is None:
            print(f"{kind:<17} {case:<10} {'FAILED':>8}")
            status = 2
            continue
        extra = r["best_s"] / bare["best_s"] - 1.0 if bare else float("nan")
        print(f"{kind:<17} {case:<10} {r['best_s']:>8.3f} {r['ns_per_event']:>8.1f} {r['events_per_s']:>13,.0f} "
              f"{extra:>+8.1%} {r['progress_calls']:>6}")
    print()
    for r in results.values():
        if r is not None:
            print(json.dumps(r))
    print()
    for kind in KINDS:
        bare = results.get((kind, "bare"))
        for case in ("both", "both-draw"):
            both = results.get((kind, case))
            if not (both and bare):
                continue
            extra = both["best_s"] / bare["best_s"] - 1.0
            print(f"{'PASS' if extra <= TARGET else 'FAIL'}  {kind} {case}: progress bar + result collection "
                  f"{extra:+.1%} over bare (target <= {TARGET:.0%}); tables built after the run: "
                  f"{both['tables_s']:.3f} s")
            if (both["fills"], both["final_equity"]) != (bare["fills"], bare["final_equity"]):
                print(f"FAIL  {kind} {case}: fills or final equity differ from bare")
                status = max(status, 1)
    return status


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bars", type=int, default=1_000_000, help="bars in the workload (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per case, best kept (default 7)")
    parser.add_argument("--warmup", type=int, default=10_000, help="bars of the warm-up run (default 10,000)")
    parser.add_argument("--rounds", type=int, default=3, help="processes per case, best kept (default 3)")
    parser.add_argument("--case", nargs=2, metavar=("KIND", "CASE"), help=argparse.SUPPRESS)  # internal: child
    args = parser.parse_args(argv)
    if min(args.bars, args.repeat, args.warmup, args.rounds) < 1:
        parser.error("--bars, --repeat, --warmup and --rounds must be >= 1")
    if args.case:
        print(json.dumps(run_case(*args.case, args.bars, args.repeat, args.warmup)))
        return 0
    script = str(Path(__file__).resolve())
    print(f"overhead benchmark: {args.bars:,} bars, best of {args.repeat} runs x {args.rounds} processes per case")
    results: dict[tuple[str, str], Optional[dict[str, Any]]] = {(k, c): None for k in KINDS for c in CASES}
    for _ in range(args.rounds):
        for kind, case in results:
            r = spawn_case(script, f"{kind} {case}", "--case", kind, case, "--bars", str(args.bars),
                           "--repeat", str(args.repeat), "--warmup", str(args.warmup))
            best = results[(kind, case)]
            if r is not None and (best is None or r["best_s"] < best["best_s"]):
                results[(kind, case)] = r
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
