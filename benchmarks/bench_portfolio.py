"""Portfolio accounting throughput: fills/s through the compiled ledger (a batch in one nogil call,
and one Python call per fill), and Redis repository writes/s per position update.

Fills: 3 markets (btc/usdt, eth/usdt, eth/btc), numpy default_rng(7): sizes 1..4 lots either way,
so positions open, grow, shrink, close and flip; margin allowed (shorts); fee 0.1% of notional.
Redis: one order + one fill (two position updates) per step through ``Account`` with a
``RedisRepository``, in batches of ``--batch`` steps (one MULTI/EXEC each), against a
redis-server this script starts on 127.0.0.1 (skipped when the binary is missing); the
repository's own rate is the run's time less the same run without a repository.

Targets (issue 5): >= 20,000,000 fills/s in the core, >= 2,000,000/s one call per fill from
Python, >= 100,000 Redis writes/s per position update (pipelined).

Usage: python benchmarks/bench_portfolio.py [--n 5000000] [--repeat 5] [--redis-n 200000]
"""
from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from barter._core.ledger import Ledger

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def fills(n: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(7)
    mid = rng.integers(0, 3, n).astype(np.int32)
    qty = rng.integers(1, 5, n) * np.where(rng.random(n) < 0.5, -1.0, 1.0) * np.array([0.01, 0.1, 1.0])[mid]
    price = np.array([30_000.0, 2_000.0, 0.066])[mid] * np.exp(rng.normal(0, 0.001, n))
    fee = np.abs(qty) * price * 1e-3
    return mid, np.arange(n, dtype=np.int64), qty, price, fee


def new_ledger() -> Ledger:
    # assets: usdt 0, btc 1, eth 2; markets btc/usdt, eth/usdt, eth/btc
    return Ledger([1, 2, 2], [0, 0, 1], [1e9, 0.0, 0.0], 0, True)


def best(fn, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return min(runs)


def bench_batch(n: int, repeat: int) -> float:
    data = fills(n)
    return best(lambda: new_ledger().apply_many(*data), repeat)


def bench_per_call(n: int, repeat: int) -> float:
    mid, t, qty, price, fee = (a.tolist() for a in fills(n))

    def run() -> None:
        apply = new_ledger().apply
        for i in range(n):
            apply(mid[i], t[i], qty[i], price[i], fee[i])
    return best(run, repeat)


def run_account(repository, markets, data, batch: int) -> float:
    """Seconds to send and fill every order through an ``Account``, in batches."""
    from barter.portfolio.account import Account

    mid, t, qty, price, fee = data
    account = Account(markets, {"usdt": 1e9}, "usdt", allow_margin=True, engine_id="bench",
                      repository=repository)
    start = time.perf_counter()
    for first in range(0, len(mid), batch):
        with account.batch():
            for i in range(first, min(len(mid), first + batch)):
                order = account.submit(markets[mid[i] % 2], qty[i], price[i], t[i])
                account.fill(order, qty[i], price[i], fee[i], t[i])
    return time.perf_counter() - start


def bench_redis(n: int, batch: int) -> tuple[float, float] | None:
    """(end-to-end, repository alone) position updates/s; two updates (order, fill) per step."""
    if shutil.which("redis-server") is None:
        print("redis: skipped (redis-server is not installed)")
        return None
    from barter.instrument import Market
    from barter.portfolio.repository import RedisRepository
    from tests.redis_server import RedisServer

    markets = [Market("binance", ("btc", "usdt")), Market("binance", ("eth", "usdt"))]
    data = [a.tolist() for a in fills(n)]
    alone = run_account(None, markets, data, batch)
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp)).start()
        try:
            stored = run_account(RedisRepository(server.url), markets, data, batch)
        finally:
            server.stop()
    return 2 * n / stored, 2 * n / (stored - alone)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--per-call-n", type=int, default=2_000_000)
    parser.add_argument("--redis-n", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args()

    s = bench_batch(args.n, args.repeat)
    print(f"batch in core:   {args.n / s / 1e6:8.2f} M fills/s  {s / args.n * 1e9:6.1f} ns/fill  (target >= 20 M/s)")
    s = bench_per_call(args.per_call_n, max(1, args.repeat // 2))
    print(f"call per fill:   {args.per_call_n / s / 1e6:8.2f} M fills/s  {s / args.per_call_n * 1e9:6.1f} ns/fill  (target >= 2 M/s)")
    rates = bench_redis(args.redis_n, args.batch)
    if rates is not None:
        print(f"redis, batches of {args.batch} steps (MULTI/EXEC, appendfsync always):\n"
              f"  repository writes: {rates[1] / 1e3:8.1f} k position updates/s  (target >= 100 k/s)\n"
              f"  with the Account:  {rates[0] / 1e3:8.1f} k position updates/s (orders and fills in Python)")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
