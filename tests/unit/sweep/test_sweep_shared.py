"""Shared candles, one run's outcome, and what a sweep rejects before running anything."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from barter.data.default import default_candles
from barter.data.historic import HistoricalCandles
from barter.errors import ConfigError
from barter.strategy import RSIStrategy
from barter.sweep import sweep
from barter.sweep.job import STAT_COLUMNS, RunSpec, Task, execute
from barter.sweep.progress import Progress
from barter.sweep.shared import COLUMNS, SharedCandles, attach, candle_columns, candles_of


@pytest.fixture(scope="module")
def candles() -> HistoricalCandles:
    return default_candles(2_000)


def test_shared_columns_equal_the_candles_and_are_read_only(candles: HistoricalCandles) -> None:
    with SharedCandles(candles) as shared:
        views = attach(shared.handle)
        for name in COLUMNS:
            assert np.array_equal(views[name], getattr(candles, name))
            assert not views[name].flags.writeable
        window = candles_of(shared.handle, 100, 300)
        assert len(window) == 200 and np.shares_memory(window.close, views["close"])
        assert window.time_ns[0] == candles.time_ns[100]


def test_a_closed_block_is_gone(candles: HistoricalCandles) -> None:
    from multiprocessing import shared_memory

    shared = SharedCandles(candles)
    name = shared.handle.name
    shared.close()
    shared.close()  # idempotent
    with pytest.raises(FileNotFoundError):
        shared_memory.SharedMemory(name=name)


def test_every_source_gives_the_same_rows(candles: HistoricalCandles) -> None:
    a, b = candles_of(candles, 5, 50), candles_of(candle_columns(candles), 5, 50)
    assert a == b and np.shares_memory(a.close, candles.close)


def test_a_failing_run_is_an_outcome_not_an_exception(candles: HistoricalCandles) -> None:
    spec = RunSpec(RSIStrategy)
    bad = execute(candles, spec, Task(3, {"rsi_period": "x"}))
    assert bad.run == 3 and bad.stats is None and bad.error.startswith("TypeError")  # type: ignore[union-attr]
    good = execute(candles, spec, Task(4, {"rsi_period": 9}, keep_equity=True))
    assert good.error is None and set(good.stats) == set(STAT_COLUMNS)  # type: ignore[arg-type]
    assert good.equity is not None and len(good.equity[1]) == len(candles)


def test_a_strategy_by_import_path_and_a_data_aware_factory(candles: HistoricalCandles) -> None:
    by_path = execute(candles, RunSpec("barter.strategy:RSIStrategy"), Task(0, {"rsi_period": 9}))
    direct = execute(candles, RunSpec(RSIStrategy), Task(0, {"rsi_period": 9}))
    assert by_path.stats == direct.stats
    seen = []

    def factory(rsi_period: int, data: HistoricalCandles) -> RSIStrategy:
        seen.append(len(data))
        return RSIStrategy(rsi_period)

    execute(candles, RunSpec(factory), Task(0, {"rsi_period": 9}, start=10, stop=110))
    assert seen == [100]


@pytest.mark.parametrize("kwargs, message", [
    ({"metric": "sharpe"}, "unknown metric"), ({"cash": 5.0}, "unknown backtest option 'cash'"),
    ({"params": {"trades": [1]}}, "taken by result columns"), ({"strategy": 5}, "strategy must be"),
    # cloudpickle sends a lambda, but not one holding a lock
    ({"strategy": lambda rsi_period, _lock=threading.Lock(): RSIStrategy(rsi_period), "executor": 2}, "pickle"),
    ({"params": {"rsi_period": [5], "cash": [1.0]}}, r"do not fit the strategy RSIStrategy\(rsi_period")])
def test_bad_sweeps_fail_before_any_run(candles: HistoricalCandles, kwargs: dict, message: str) -> None:
    args = {"strategy": RSIStrategy, "params": {"rsi_period": [5]}, "executor": "serial", **kwargs}
    with pytest.raises(ConfigError, match=message):
        sweep(candles, args.pop("strategy"), args.pop("params"), **args)


def test_a_lambda_strategy_runs_serially(candles: HistoricalCandles) -> None:
    rows = sweep(candles, lambda rsi_period: RSIStrategy(rsi_period), {"rsi_period": [5, 9]},
                 executor="serial", progress=False, starting_cash=5_000.0)
    assert rows["error"].isna().all() and (rows["equity_start"] == 5_000.0).all()


def test_progress_counts_without_a_terminal() -> None:
    bar = Progress(3, enabled=False)
    bar.advance(True)
    bar.advance(False)
    bar.close()
    assert (bar.done, bar.failed) == (2, 1) and bar.rate > 0


def test_iter_sweep_streams_rows_and_stops_when_closed(candles: HistoricalCandles) -> None:
    from barter.sweep import iter_sweep

    stream = iter_sweep(candles, RSIStrategy, {"rsi_period": [5, 9, 14]}, executor="serial")
    first = next(stream)
    stream.close()
    assert first["run"] == 0 and first["rsi_period"] == 5 and first["error"] is None


def test_a_terminal_bar_shows_runs_per_second() -> None:
    pytest.importorskip("rich")
    bar = Progress(2, enabled=True, label="test")
    bar.advance(True)
    task = bar._bar[1]
    fields = bar._bar[0].tasks[task].fields
    bar.close()
    assert float(fields["rate"].replace(",", "")) > 0 and fields["failed"] == 0 and bar._bar is None
