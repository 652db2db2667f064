"""One run of a sweep, as every executor runs it: parameters in, a row of statistics out.

``execute`` never raises for a failing run: the error is recorded in the ``Outcome`` so that the
sweep carries on. Only a worker that dies is reported by the executor itself (``failed``).
"""
from __future__ import annotations

import copy
import inspect
import sys
import time
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Mapping, Optional, Union

import numpy as np

from barter.errors import ConfigError
from barter.statistic.summary import EquitySummary, TradingSummary
from barter.sweep.shared import DataSource, candles_of

# The summary statistics of a row, in ``TradingSummary.to_dict`` order.
STAT_COLUMNS: tuple[str, ...] = (
    *(f.name for f in fields(TradingSummary) if f.name not in ("id", "equity")),
    *(f"equity_{f.name}" for f in fields(EquitySummary)),
)


@dataclass(frozen=True, slots=True)
class RunSpec:
    """What every run of a sweep shares.

    Attributes
    ----------
    strategy : callable or str
        ``strategy(**params)`` makes a strategy; a ``"module:Name"`` string is imported in the
        worker (from ``sys_path`` first). A factory with a ``data`` parameter also receives the
        run's candles (for ``PrecomputedSignals``).
    options : mapping
        Keyword arguments of ``barter.backtest`` (cash, fees, market, ...).
    sys_path : tuple of str
        Directories a ``"module:Name"`` strategy may be imported from.
    """

    strategy: Union[Callable[..., Any], str]
    options: Mapping[str, Any] = field(default_factory=dict)
    sys_path: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PerRun:
    """A backtest option made anew in every run, in the worker: ``factory(**params)``, the factory
    a callable or a ``"module:Name"`` imported there (from ``RunSpec.sys_path``). For objects that
    keep state across a run (a risk manager's peak equity and kill switch) and for classes of the
    config's directory, which a worker can import but not unpickle before its path is set."""

    factory: Union[Callable[..., Any], str]
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Task:
    """One run: its number, its parameters, its rows ``[start, stop)`` and what to send back."""

    run: int
    params: Mapping[str, Any]
    start: int = 0
    stop: Optional[int] = None
    keep_equity: bool = False


@dataclass(frozen=True, slots=True)
class Outcome:
    """A finished run: statistics or the error, and on request the equity curve and trade returns.

    Attributes
    ----------
    stats : dict or None
        ``STAT_COLUMNS`` of the run's total summary; None when it failed.
    error : str or None
        ``"ExceptionType: message"`` of a failed run.
    equity : tuple of (int64 array, float64 array) or None
        (time_ns, equity in quote currency) at every event time, with ``Task.keep_equity``.
    trade_returns : float64 array or None
        PnL return of each exited position in exit order, with ``Task.keep_equity``.
    """

    run: int
    params: Mapping[str, Any]
    stats: Optional[dict[str, Any]] = None
    error: Optional[str] = None
    seconds: float = 0.0
    equity: Optional[tuple[np.ndarray, np.ndarray]] = None
    trade_returns: Optional[np.ndarray] = None


def failed(task: Task, error: str) -> Outcome:
    """The outcome of a run whose worker could not report one (it died, or was lost)."""
    return Outcome(task.run, task.params, error=error)


def _factory(spec: RunSpec, target: Union[Callable[..., Any], str, None] = None) -> Callable[..., Any]:
    """The strategy factory (or ``target``), imported in the worker when given by path."""
    target = spec.strategy if target is None else target
    if not isinstance(target, str):
        return target
    from barter.config import import_object

    for path in spec.sys_path:
        if path not in sys.path:
            sys.path.append(path)
    return import_object(target)  # type: ignore[no-any-return]


def run_options(spec: RunSpec) -> dict[str, Any]:
    """A run's own ``barter.backtest`` options: each a deep copy, so no state (a risk manager's
    kill switch, an allocator's counters) carries from one run to the next; ``PerRun`` ones made."""
    options = copy.deepcopy(dict(spec.options))
    for name, value in options.items():
        if isinstance(value, PerRun):
            options[name] = _factory(spec, value.factory)(**value.params)
    return options


def wants_data(factory: Callable[..., Any]) -> bool:
    """Whether ``factory`` declares a ``data`` parameter (it then gets the run's candles)."""
    try:
        return "data" in inspect.signature(factory).parameters
    except (TypeError, ValueError):  # some builtins and compiled classes have no signature
        return False


def execute(source: DataSource, spec: RunSpec, task: Task) -> Outcome:
    """Backtest ``task``'s parameters on its rows of ``source``; errors become the outcome."""
    from barter.backtest import backtest

    t0 = time.perf_counter()
    try:
        candles = candles_of(source, task.start, task.stop)
        factory = _factory(spec)
        extra = {"data": candles} if wants_data(factory) else {}
        result = backtest(candles, factory(**task.params, **extra), **run_options(spec))
        stats = result.summary.total.to_dict()
        del stats["id"]
        equity = returns = None
        if task.keep_equity:
            equity = (np.asarray(result.engine.time_ns), np.asarray(result.engine.equity))
            returns = np.asarray(result.positions["pnl_return"], dtype=np.float64)
    except Exception as exc:  # a failing parameter set is a row, not the end of the sweep
        return Outcome(task.run, task.params, error=f"{type(exc).__name__}: {exc}",
                       seconds=time.perf_counter() - t0)
    return Outcome(task.run, task.params, stats, None, time.perf_counter() - t0, equity, returns)


def check_options(options: Mapping[str, Any]) -> None:
    """Reject keyword arguments that ``barter.backtest`` does not take, before any run."""
    from barter.backtest import backtest

    known = [p for p in inspect.signature(backtest).parameters if p not in ("data", "strategy")]
    for key in options:
        if key not in known:
            raise ConfigError(f"unknown backtest option {key!r}; expected one of {', '.join(known)}")


__all__ = ["Outcome", "PerRun", "RunSpec", "STAT_COLUMNS", "Task", "check_options", "execute", "failed",
           "run_options", "wants_data"]
