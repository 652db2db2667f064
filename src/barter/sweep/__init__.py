"""Parameter sweeps and walk-forward analysis, on every core or on a Ray or Dask cluster.

``sweep(data, strategy, params)`` backtests one strategy factory per parameter set on one loaded
dataset and returns a DataFrame, one row per run (parameters + summary statistics) sorted by a
metric; ``walk_forward`` optimises on rolling in-sample windows and evaluates out of sample with a
stitched equity curve. ``executor=`` chooses where runs execute (see ``resolve``). Guide:
``docs/sweep.md``.
"""
from barter.sweep.cluster import DaskExecutor, RayExecutor
from barter.sweep.core import DEFAULT_METRIC, iter_sweep, sweep
from barter.sweep.executors import Executor, SerialExecutor, resolve
from barter.sweep.job import STAT_COLUMNS, PerRun
from barter.sweep.params import grid, param_list, random_search
from barter.sweep.pool import ProcessExecutor
from barter.sweep.walkforward import WalkForwardResult, Window, walk_forward, windows

__all__ = [
    "DEFAULT_METRIC", "DaskExecutor", "Executor", "PerRun", "ProcessExecutor", "RayExecutor", "STAT_COLUMNS",
    "SerialExecutor", "WalkForwardResult", "Window", "grid", "iter_sweep", "param_list", "random_search",
    "resolve", "sweep", "walk_forward", "windows",
]
