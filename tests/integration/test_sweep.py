"""Sweeps on real prices: the same rows on every executor, failures recorded, Ctrl-C keeps rows.

One local Ray (2 CPUs, no dashboard) and one Dask ``LocalCluster`` (2 worker processes) are started
per module. They skip only when the package is missing and ``BARTER_CI`` is unset.
"""
from __future__ import annotations

import importlib
import json
import math
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import pandas as pd
import pytest

import sweep_strategies
from barter.backtest import load
from barter.data.historic import HistoricalCandles
from barter.errors import ConfigError
from barter.strategy import RSIStrategy
from barter.sweep import sweep
from sweep_strategies import FaultyRSI

BTC = "prices/crypto/btc-perp-20211231-20220201_1m.csv"
PERIODS = list(range(2, 22))  # 20 runs


def need(name: str) -> ModuleType:
    """Import ``name``, or skip (fail in CI, where it must be installed)."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        if os.environ.get("BARTER_CI"):
            pytest.fail(f"{name} must be installed in CI (pip install 'barter[sweep]'): {exc}")
        pytest.skip(f"{name} is not installed (pip install 'barter[sweep]')")


@pytest.fixture(scope="module")
def btc(data_dir: Path) -> HistoricalCandles:
    return load(data_dir / BTC)


@pytest.fixture(scope="module")
def serial_rows(btc: HistoricalCandles) -> pd.DataFrame:
    return sweep(btc, RSIStrategy, {"rsi_period": PERIODS}, executor="serial", progress=False)


@pytest.fixture(scope="module")
def ray_local() -> Iterator[Any]:
    ray = need("ray")
    ray.cloudpickle.register_pickle_by_value(sweep_strategies)  # Ray workers lack the tests' sys.path
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def dask_address() -> Iterator[str]:
    need("distributed")
    import cloudpickle
    import dask
    from distributed import LocalCluster

    cloudpickle.register_pickle_by_value(sweep_strategies)
    # one death fails a task at once (the default retries it on 3 more workers)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                          host="127.0.0.1") as cluster:
            yield cluster.scheduler_address


def executor_of(name: str, request: pytest.FixtureRequest) -> Any:
    """``sweep``'s executor argument for ``name``, starting its cluster fixture when needed."""
    if name == "ray":
        request.getfixturevalue("ray_local")
        return "ray"
    if name == "dask":
        return request.getfixturevalue("dask_address")
    return name


def test_serial_rows_are_sorted_and_complete(serial_rows: pd.DataFrame) -> None:
    assert len(serial_rows) == 20 and serial_rows["error"].isna().all()
    assert sorted(serial_rows["rsi_period"]) == PERIODS
    assert serial_rows["equity_sharpe"].is_monotonic_decreasing
    assert (serial_rows["trades"] > 0).all()
    assert serial_rows.attrs["runs"] == 20 and not serial_rows.attrs["interrupted"]


@pytest.mark.parametrize("name", ["process", "ray", "dask"])
def test_every_executor_gives_identical_rows(name: str, btc: HistoricalCandles, serial_rows: pd.DataFrame,
                                             request: pytest.FixtureRequest) -> None:
    rows = sweep(btc, RSIStrategy, {"rsi_period": PERIODS}, executor=executor_of(name, request),
                 workers=2, progress=False)
    assert rows.attrs["executor"] == name
    pd.testing.assert_frame_equal(rows, serial_rows, check_exact=True)


def test_a_direct_backtest_gives_the_row(btc: HistoricalCandles, serial_rows: pd.DataFrame) -> None:
    from barter.backtest import backtest

    row = serial_rows.set_index("rsi_period").loc[9]
    total = backtest(btc, RSIStrategy(9)).summary.total
    assert row["trades"] == total.trades and row["equity_sharpe"] == total.equity.sharpe


def test_parameters_the_strategy_lacks_are_rejected_before_any_run(btc: HistoricalCandles) -> None:
    with pytest.raises(ConfigError, match=r"'order_value'.*order_value is a backtest option"):
        sweep(btc, RSIStrategy, {"rsi_period": [7], "order_value": [50.0]}, executor="serial", progress=False)


def faulty_grid(fault: str) -> list[dict[str, Any]]:
    return [{"rsi_period": p, "fault": fault if p == 9 else "none"} for p in PERIODS]


@pytest.mark.parametrize("name", ["serial", "process", "ray", "dask"])
def test_a_raising_run_is_recorded_and_the_others_finish(name: str, btc: HistoricalCandles,
                                                         serial_rows: pd.DataFrame,
                                                         request: pytest.FixtureRequest) -> None:
    rows = sweep(btc, FaultyRSI, faulty_grid("raise"), executor=executor_of(name, request), workers=2,
                 progress=False)
    failed = rows[rows["error"].notna()]
    assert list(failed["rsi_period"]) == [9]
    assert failed["error"].iloc[0] == "RuntimeError: boom at bar 100"
    assert failed["trades"].isna().all() and rows.attrs["failed"] == 1
    good = rows[rows["error"].isna()].drop(columns=["fault"])
    expected = serial_rows[serial_rows["rsi_period"] != 9]
    pd.testing.assert_frame_equal(good.reset_index(drop=True), expected.reset_index(drop=True),
                                  check_dtype=False)


@pytest.mark.parametrize("name", ["process", "ray", "dask"])
def test_a_killed_worker_fails_only_its_run(name: str, btc: HistoricalCandles, serial_rows: pd.DataFrame,
                                            request: pytest.FixtureRequest) -> None:
    rows = sweep(btc, FaultyRSI, faulty_grid("kill"), executor=executor_of(name, request), workers=2,
                 progress=False)
    assert len(rows) == 20
    failed = rows[rows["error"].notna()]
    assert list(failed["rsi_period"]) == [9], failed["error"].tolist()
    good = rows[rows["error"].isna()].set_index("rsi_period").sort_index()
    expected = serial_rows[serial_rows["rsi_period"] != 9].set_index("rsi_period").sort_index()
    assert good["equity_sharpe"].tolist() == expected["equity_sharpe"].tolist()


def test_dask_keeps_the_data_when_the_first_worker_dies(btc: HistoricalCandles, serial_rows: pd.DataFrame,
                                                        request: pytest.FixtureRequest) -> None:
    from distributed import Client

    from barter.sweep import DaskExecutor

    with Client(executor_of("dask", request)) as client:
        client.wait_for_workers(2, timeout=60)  # a worker killed by an earlier test restarts
        with DaskExecutor(client).open(btc) as session:  # every worker holds a copy
            assert len(client.who_has([session.data])[session.data.key]) == 2
        # run 0 kills its worker at the first bar, before the other worker could fetch a copy
        sets = [{"rsi_period": p, "fault": "kill" if p == PERIODS[0] else "none", "after": 1} for p in PERIODS]
        rows = sweep(btc, FaultyRSI, sets, executor=client, progress=False)
    failed = rows[rows["error"].notna()]
    assert list(failed["rsi_period"]) == [PERIODS[0]], failed["error"].tolist()
    good = rows[rows["error"].isna()].set_index("rsi_period").sort_index()
    expected = serial_rows[serial_rows["rsi_period"] != PERIODS[0]].set_index("rsi_period").sort_index()
    assert good["equity_sharpe"].tolist() == expected["equity_sharpe"].tolist()


# A strategy defined in __main__ by ``python -c``: spawned pool workers cannot import it by name.
INLINE_SWEEP = """
import json, sys
from barter.strategy import RSIStrategy
from barter.sweep import sweep


class Inline(RSIStrategy):
    def __init__(self, rsi_period: int = 14) -> None:
        super().__init__(rsi_period)


def rows(executor, periods=(5, 9)):
    table = sweep(sys.argv[1], Inline, {"rsi_period": list(periods)}, executor=executor, workers=len(periods),
                  progress=False)
    return table.sort_values("run")[["error", "equity_sharpe"]].values.tolist()


sys.modules["cloudpickle"] = None  # as if it were not installed: pickle by reference
by_reference = rows("process", [5])
del sys.modules["cloudpickle"]
print(json.dumps({"by_reference": by_reference, "pool": rows("process"), "serial": rows("serial")}))
"""


def test_the_pool_runs_a_strategy_defined_in_main(data_dir: Path) -> None:
    out = subprocess.run([sys.executable, "-c", INLINE_SWEEP, str(data_dir / BTC)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["pool"] == got["serial"] and all(error is None for error, _ in got["pool"])
    # without cloudpickle every run reports why it could not be loaded (it used to be WorkerDied)
    [[error, sharpe]] = got["by_reference"]
    assert error.startswith("AttributeError: ") and "'Inline'" in error and math.isnan(sharpe), error
    assert "define the strategy in a module they can import, or install cloudpickle" in error


def shm_blocks() -> set[str]:
    """Python's shared memory blocks (``psm_*``; Ray and Dask keep files of their own there)."""
    return {n for n in os.listdir("/dev/shm") if n.startswith("psm_")} if os.path.isdir("/dev/shm") else set()


def test_ctrl_c_keeps_finished_rows_and_stops_the_pool(btc: HistoricalCandles,
                                                       serial_rows: pd.DataFrame) -> None:
    before, seen = shm_blocks(), []

    def interrupt_after_three(row: dict[str, Any]) -> None:
        seen.append(row)
        if len(seen) == 3:
            raise KeyboardInterrupt

    rows = sweep(btc, RSIStrategy, {"rsi_period": PERIODS}, executor="process", workers=2, progress=False,
                 on_result=interrupt_after_three)
    assert rows.attrs["interrupted"] and len(rows) == 3
    expected = serial_rows.set_index("run").loc[sorted(rows["run"])]
    assert rows.set_index("run").sort_index()["equity_sharpe"].tolist() == expected["equity_sharpe"].tolist()
    workers = [p for p in multiprocessing.active_children() if p.name == "barter-sweep-worker"]
    assert workers == []  # every pool worker was stopped (the Dask cluster's processes stay)
    assert shm_blocks() <= before  # the shared block was unlinked
