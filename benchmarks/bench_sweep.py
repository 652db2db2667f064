"""Parameter-sweep throughput on the standard workload (``/work/shared/bench/workload.py``).

Cases, each in a fresh process of this script (``--case NAME``) so its memory is its own:

- ``serial``  the sweep in one process.
- ``pool``    the local process pool (``--workers``, default 2), bars in shared memory; a thread
              samples each worker's ``/proc`` status: RssShmem (pages of the shared block it
              maps) and RssAnon (its private memory).
- ``ray``, ``dask``  per-run overhead on a local cluster of ``--workers`` CPUs: ``--overhead-runs``
              runs on ``--overhead-bars`` bars, (wall × workers − serial CPU time) / runs; start-up
              (``ray.init``, ``LocalCluster``) and a warm-up sweep are timed apart.

The sweep: the workload's "rsi" strategy (Wilder RSI, buy 1,000 quote when flat and RSI < oversold,
sell all when long and RSI > overbought, 0.1% commission, 1,000,000 cash) over ``--bars`` bars
(default 1M) for 200 parameter sets: periods 7..28 × oversold 20..40 × overbought 60..95. Rows of
serial and pool must be identical (a digest of the frame is compared).

Run: ``python benchmarks/bench_sweep.py [--bars N] [--workers W] [--only serial,pool,ray,dask]``
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import threading
import time
from pathlib import Path
from typing import Any, Optional

from _spawn import spawn_case
from barter.strategy import Signal, Strategy, WilderRSI

ROOT = Path(__file__).resolve().parents[1]
WORKLOAD_DIR = Path(os.environ.get("BARTER_WORKLOAD_DIR", ROOT.parent / "shared" / "bench"))
GRID = {"period": [7, 10, 14, 21, 28], "oversold": [20.0, 25.0, 30.0, 35.0, 40.0],
        "overbought": [60.0, 65.0, 70.0, 75.0, 80.0, 85.0, 90.0, 95.0]}  # 200 sets
SPEEDUP_TARGET = 1.8
CASES = ("serial", "pool", "ray", "dask")


class RSIThresholds(Strategy):
    """The workload's rsi strategy with its period and thresholds as parameters (module level:
    pool workers import it by name)."""

    LONG = Signal.long()
    CLOSE_LONG = Signal.close_long()

    def __init__(self, period: int, oversold: float, overbought: float) -> None:
        self.rsi, self.oversold, self.overbought = WilderRSI(period), oversold, overbought

    def generate_signal(self, market: Any) -> Any:
        value = self.rsi.update(market.close)
        if value < self.oversold:
            return self.LONG
        if value > self.overbought:
            return self.CLOSE_LONG
        return None


def _bars(n: int) -> Any:
    from barter.data.historic import HistoricalCandles

    sys.path.insert(0, str(WORKLOAD_DIR))
    try:
        from workload import bars  # the shared standard workload; never copied
    finally:
        sys.path.remove(str(WORKLOAD_DIR))
    return HistoricalCandles.from_arrays(*bars(n))


def _options() -> dict[str, Any]:
    from barter.execution import Fees
    from barter.statistic import StatisticConfig

    return {"starting_cash": 1_000_000.0, "order_value": 1_000.0, "size_decimals": None,
            "fees": Fees(exchange=0.001), "statistic_config": StatisticConfig(starting_equity=1_000_000.0)}


def _digest(rows: Any) -> str:
    return hashlib.sha256(rows.to_csv(index=False).encode()).hexdigest()[:16]


class _Sampler(threading.Thread):
    """Peak RssAnon / RssShmem (KiB) of each pool worker, sampled every 200 ms."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peaks: dict[int, dict[str, int]] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self.stop.wait(0.2):
            for child in me.children():
                try:
                    if "spawn_main" not in " ".join(child.cmdline()):  # not a worker (resource tracker)
                        continue
                    status = Path(f"/proc/{child.pid}/status").read_text()
                except (OSError, psutil.Error):
                    continue
                fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
                peak = self.peaks.setdefault(child.pid, {"anon": 0, "shmem": 0})
                for key, name in (("anon", "RssAnon"), ("shmem", "RssShmem")):
                    if name in fields:
                        peak[key] = max(peak[key], int(fields[name].split()[0]))


def _sweep_case(case: str, n: int, workers: int) -> dict[str, Any]:
    from barter.sweep import ProcessExecutor, sweep

    data, strategy = _bars(n), RSIThresholds
    executor = "serial" if case == "serial" else ProcessExecutor(workers)
    sampler = _Sampler()
    sampler.start()
    t0 = time.perf_counter()
    rows = sweep(data, strategy, GRID, executor=executor, progress=False, **_options())
    wall = time.perf_counter() - t0
    sampler.stop.set()
    sampler.join()
    peaks = list(sampler.peaks.values())
    return {"runs": len(rows), "failed": int(rows["error"].notna().sum()), "wall_s": wall,
            "run_s_mean": rows.attrs["busy_s"] / len(rows), "loadavg_1m_end": os.getloadavg()[0],
            "runs_per_s": len(rows) / wall, "rows_digest": _digest(rows),
            "data_mib": sum(getattr(data, c).nbytes for c in ("time_ns", "open", "high", "low", "close", "volume"))
            / 2**20,
            "worker_anon_mib": [p["anon"] / 1024 for p in peaks],
            "worker_shmem_mib": [p["shmem"] / 1024 for p in peaks]}


def _start_cluster(case: str, workers: int) -> tuple[Any, Any]:
    """(executor argument, a closer) for a local Ray or Dask of ``workers`` CPUs."""
    if case == "ray":
        import ray

        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        return "ray", ray.shutdown
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    return cluster.scheduler_address, cluster.close


def _cluster_case(case: str, runs: int, n: int, workers: int) -> dict[str, Any]:
    from barter.sweep import sweep

    data, strategy, options = _bars(n), RSIThresholds, _options()
    grid = {"period": list(range(5, 5 + runs)), "oversold": [30.0], "overbought": [70.0]}
    sweep(data, strategy, grid, executor="serial", progress=False, **options)  # warm-up: first-run imports
    t0 = time.perf_counter()
    serial = sweep(data, strategy, grid, executor="serial", progress=False, **options)
    serial_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    executor, close = _start_cluster(case, workers)
    startup = time.perf_counter() - t0
    try:
        t0 = time.perf_counter()
        sweep(data, strategy, grid, executor=executor, progress=False, **options)  # warm-up: imports
        warmup = time.perf_counter() - t0
        t0 = time.perf_counter()
        rows = sweep(data, strategy, grid, executor=executor, progress=False, **options)
        wall = time.perf_counter() - t0
    finally:
        close()
    return {"runs": runs, "bars": n, "startup_s": startup, "warmup_sweep_s": warmup, "wall_s": wall,
            "serial_ms_per_run": serial_s / runs * 1e3,
            "overhead_ms_per_run": (wall * workers - serial_s) / runs * 1e3,
            "identical_to_serial": _digest(rows) == _digest(serial)}


def run_case(case: str, args: argparse.Namespace) -> dict[str, Any]:
    import barter

    if case in ("serial", "pool"):
        result = _sweep_case(case, args.bars, args.workers)
    else:
        result = _cluster_case(case, args.overhead_runs, args.overhead_bars, args.workers)
    import resource

    return {"bench": "sweep", "case": case, "workers": args.workers, "bars": args.bars, **result,
            "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "python": platform.python_version(), "barter": barter.__version__,
            "machine": f"{platform.machine()} {os.cpu_count()} cpus"}


def report(results: dict[str, Optional[dict[str, Any]]]) -> int:
    for r in results.values():
        if r is not None:
            print(json.dumps(r))
    print()
    status = 2 if any(r is None for r in results.values()) else 0
    serial, pool = results.get("serial"), results.get("pool")
    for r in (serial, pool):
        if r is not None:
            print(f"{r['case']:<7} {r['runs']} runs in {r['wall_s']:.1f} s = {r['runs_per_s']:.2f} runs/s "
                  f"({r['failed']} failed); a run took {r['run_s_mean'] * 1e3:.0f} ms on average; "
                  f"load average {r['loadavg_1m_end']:.2f} at the end")
    if pool is not None:
        for i, (anon, shm) in enumerate(zip(pool["worker_anon_mib"], pool["worker_shmem_mib"])):
            print(f"pool worker {i}: peak private (RssAnon) {anon:.0f} MiB, shared (RssShmem) {shm:.0f} MiB; "
                  f"the bars are {pool['data_mib']:.0f} MiB")
        mapped = all(s >= 0.95 * pool["data_mib"] for s in pool["worker_shmem_mib"])
        print(f"{'PASS' if mapped else 'FAIL'}  every worker maps the bars from shared memory "
              f"(RssShmem >= 95% of {pool['data_mib']:.0f} MiB), none copies them")
    if serial is not None and pool is not None:
        speedup = pool["runs_per_s"] / serial["runs_per_s"]
        same = pool["rows_digest"] == serial["rows_digest"]
        print(f"{'PASS' if speedup >= SPEEDUP_TARGET else 'FAIL'}  pool/serial = {speedup:.2f}x "
              f"with {pool['workers']} workers, target >= {SPEEDUP_TARGET}x")
        print(f"{'PASS' if same else 'FAIL'}  pool rows identical to serial rows")
        status = max(status, 0 if same else 1)
    for case in ("ray", "dask"):
        r = results.get(case)
        if r is not None:
            print(f"{case:<5} start-up {r['startup_s']:.1f} s, warm-up sweep {r['warmup_sweep_s']:.1f} s; "
                  f"{r['runs']} runs of {r['bars']:,} bars: {r['serial_ms_per_run']:.1f} ms/run serial, "
                  f"overhead {r['overhead_ms_per_run']:.1f} ms/run; rows identical: {r['identical_to_serial']}")
            status = max(status, 0 if r["identical_to_serial"] else 1)
    return status


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bars", type=int, default=1_000_000, help="bars of the sweep (default 1,000,000)")
    parser.add_argument("--workers", type=int, default=2, help="pool processes / cluster CPUs (default 2)")
    parser.add_argument("--overhead-runs", type=int, default=100, help="runs of the cluster cases (default 100)")
    parser.add_argument("--overhead-bars", type=int, default=2_000, help="bars of the cluster cases (default 2,000)")
    parser.add_argument("--only", default=",".join(CASES), help=f"comma-separated subset of {', '.join(CASES)}")
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)  # internal: one case, in a child
    args = parser.parse_args(argv)
    if min(args.bars, args.workers, args.overhead_runs, args.overhead_bars) < 1:
        parser.error("--bars, --workers, --overhead-runs and --overhead-bars must be >= 1")
    if args.case:
        print(json.dumps(run_case(args.case, args)))
        return 0
    names = [s.strip() for s in args.only.split(",") if s.strip()]
    if any(s not in CASES for s in names):
        parser.error(f"--only takes {', '.join(CASES)}")
    print(f"sweep benchmark: 200 runs of the rsi workload on {args.bars:,} bars, {args.workers} workers; "
          f"one process per case")
    script = str(Path(__file__).resolve())
    common = ["--bars", str(args.bars), "--workers", str(args.workers), "--overhead-runs",
              str(args.overhead_runs), "--overhead-bars", str(args.overhead_bars)]
    return report({name: spawn_case(script, name, "--case", name, *common) for name in names})


if __name__ == "__main__":
    sys.exit(main())
