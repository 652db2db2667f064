"""``barter.sweep.sweep``: many parameter sets over one dataset, one row per run."""
from __future__ import annotations

import difflib
import inspect
import time
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional, Sequence, Union

from barter.data.historic import HistoricalCandles
from barter.errors import ConfigError
from barter.sweep.executors import Executor, ExecutorLike, SerialExecutor, Session, resolve
from barter.sweep.job import STAT_COLUMNS, Outcome, RunSpec, Task, check_options
from barter.sweep.params import ParamSet, ParamSpace, param_sets
from barter.sweep.progress import Progress

if TYPE_CHECKING:
    import pandas as pd

    from barter.backtest import DataLike

Strategy = Union[Callable[..., Any], str]
# Row columns that are not parameters.
RESERVED = frozenset(("run", "error", "window", *STAT_COLUMNS))
DEFAULT_METRIC = "equity_sharpe"


def check_metric(metric: str) -> None:
    """``metric`` must be one of ``STAT_COLUMNS``; the error suggests the closest."""
    if metric not in STAT_COLUMNS:
        close = difflib.get_close_matches(str(metric), STAT_COLUMNS, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else f"one of {', '.join(STAT_COLUMNS)}"
        raise ConfigError(f"unknown metric {metric!r}; {hint}")


def load_candles(data: DataLike) -> HistoricalCandles:
    """The sweep's one dataset, loaded and validated once."""
    from barter.backtest import load

    candles = load(data)
    if not isinstance(candles, HistoricalCandles):
        raise ConfigError(f"a sweep runs on candles, was {type(candles).__name__}")
    if not len(candles):
        raise ConfigError("a sweep needs at least one candle")
    return candles


def make_spec(strategy: Strategy, options: dict[str, Any], executor: Executor,
              sys_path: Sequence[str] = ()) -> RunSpec:
    """Check the strategy and options before any run; a pool needs them picklable."""
    if not (callable(strategy) or isinstance(strategy, str)):
        raise ConfigError(f"strategy must be a factory (class or function) or 'module:Name', was {strategy!r}")
    check_options(options)
    spec = RunSpec(strategy, dict(options), tuple(sys_path))
    if not isinstance(executor, SerialExecutor) and executor.name == "process":
        from barter.sweep.pool import dumps

        try:
            dumps(spec)
        except Exception as exc:
            raise ConfigError(f"the process pool sends the strategy and options to its workers by "
                              f"(cloud)pickle, which failed ({exc}); they must be picklable") from None
    return spec


def check_params(sets: list[ParamSet]) -> None:
    for params in sets:
        clash = RESERVED.intersection(params)
        if clash:
            raise ConfigError(f"parameter names {sorted(clash)} are taken by result columns")


def check_fit(factory: Callable[..., Any], sets: list[ParamSet], label: str = "") -> None:
    """Every parameter set must be keyword arguments ``factory`` takes, checked before any run.

    A factory without a readable signature (some compiled callables) is not checked: its runs
    report the error.
    """
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return
    label = label or getattr(factory, "__qualname__", repr(factory))
    extra = {"data": None} if "data" in signature.parameters else {}  # ``execute`` passes the candles
    for params in sets:
        try:
            signature.bind(**{**params, **extra})
        except TypeError as exc:
            raise ConfigError(f"parameters {params} do not fit the strategy {label}{signature}: {exc}"
                              f"{_option_hint(signature, params)}") from None


def _option_hint(signature: inspect.Signature, params: ParamSet) -> str:
    """A hint when a parameter the strategy lacks is a ``barter.backtest`` option."""
    from barter.backtest import backtest

    options = set(inspect.signature(backtest).parameters) - {"data", "strategy"}
    misplaced = sorted(set(params).intersection(options).difference(signature.parameters))
    if not misplaced:
        return ""
    return (f"; {', '.join(misplaced)} is a backtest option, not a strategy parameter: pass it to sweep() "
            f"as a keyword argument (the same for every run) or set it in the config")


def prepare(data: DataLike, strategy: Strategy, params: ParamSpace, executor: ExecutorLike,
            workers: Optional[int], sys_path: Sequence[str],
            options: dict[str, Any]) -> tuple[Executor, RunSpec, HistoricalCandles, list[Task]]:
    """Check everything a sweep is given, cheapest first, before the data is loaded or a run starts."""
    sets = param_sets(params)
    check_params(sets)
    if callable(strategy):
        check_fit(strategy, sets)
    runner = resolve(executor, workers)
    spec = make_spec(strategy, options, runner, sys_path)
    return runner, spec, load_candles(data), [Task(i, p) for i, p in enumerate(sets)]


def row(outcome: Outcome) -> dict[str, Any]:
    """A result row: run number, parameters, error (None when it ran) and the statistics."""
    out: dict[str, Any] = {"run": outcome.run, **outcome.params, "error": outcome.error}
    stats = outcome.stats or {}
    out.update({name: stats.get(name, float("nan")) for name in STAT_COLUMNS})
    return out


def frame(rows: list[dict[str, Any]], metric: str, ascending: bool) -> pd.DataFrame:
    """Rows sorted by ``metric`` (failed runs and NaN last), ties by run number."""
    import pandas as pd

    if not rows:
        return pd.DataFrame(columns=["run", "error", *STAT_COLUMNS])
    table = pd.DataFrame(rows).sort_values("run", kind="stable")
    # object dtype with None for runs that succeeded, whether or not any failed
    table["error"] = table["error"].astype(object).where(table["error"].notna(), None)
    table = table.sort_values(metric, ascending=ascending, na_position="last", kind="stable")
    return table.reset_index(drop=True)


def consume(session: Session, spec: RunSpec, tasks: list[Task], progress: Optional[bool], label: str,
            on_result: Optional[Callable[[Outcome], None]] = None) -> tuple[list[Outcome], bool]:
    """Every outcome as it arrives, and whether Ctrl-C stopped it (finished outcomes are kept)."""
    outcomes: list[Outcome] = []
    bar = Progress(len(tasks), progress, label)
    stream = session.stream(spec, tasks)
    try:
        for outcome in stream:
            outcomes.append(outcome)
            bar.advance(outcome.error is None)
            if on_result is not None:
                on_result(outcome)
    except KeyboardInterrupt:
        return outcomes, True
    finally:
        stream.close()
        bar.close()
    return outcomes, False


def sweep(data: DataLike, strategy: Strategy, params: ParamSpace, *, metric: str = DEFAULT_METRIC,
          ascending: bool = False, executor: ExecutorLike = None, workers: Optional[int] = None,
          progress: Optional[bool] = None, on_result: Optional[Callable[[dict[str, Any]], None]] = None,
          sys_path: Sequence[str] = (), **options: Any) -> pd.DataFrame:
    """Backtest ``strategy`` once per parameter set on one dataset; one row per run.

    Parameters
    ----------
    data : HistoricalCandles, DataFrame or path
        Loaded and validated once, then shared with every worker.
    strategy : callable or str
        ``strategy(**params)`` returns a strategy (a class works); ``"module:Name"`` is imported in
        each worker. A factory with a ``data`` parameter also receives the run's candles.
    params : mapping or iterable of mappings
        A grid (``{"rsi_period": [7, 14, 21]}``), a list of sets or ``random_search(...)``.
    metric : str
        A statistic column to sort by (see ``STAT_COLUMNS``), best first.
    ascending : bool
        Sort smallest first (for a metric where lower is better).
    executor, workers
        Where runs execute (``barter.sweep.resolve``): default a process pool on every CPU.
    progress : bool, optional
        Show a progress bar with runs/s; None: when stderr is a terminal.
    on_result : callable, optional
        Called with each row as its run finishes.
    sys_path : sequence of str
        Directories a ``"module:Name"`` strategy is imported from.
    **options
        ``barter.backtest`` keyword arguments shared by every run (cash, fees, ...).

    Returns
    -------
    pandas.DataFrame
        Columns ``run`` (position in the parameter list), the parameters, ``error`` (None, or
        ``"Type: message"`` of a failed run, whose statistics are NaN) and ``STAT_COLUMNS``.
        ``attrs`` holds ``metric``, ``runs`` (planned), ``failed``, ``interrupted`` (Ctrl-C: the
        finished rows are kept), ``executor``, ``elapsed_s`` (wall time, data transfer included)
        and ``busy_s`` (the runs' own time, summed over workers).
    """
    check_metric(metric)
    runner, spec, candles, tasks = prepare(data, strategy, params, executor, workers, sys_path, options)
    callback = None if on_result is None else (lambda o: on_result(row(o)))
    t0 = time.perf_counter()
    with runner.open(candles) as session:
        outcomes, interrupted = consume(session, spec, tasks, progress, "sweep", callback)
    table = frame([row(o) for o in outcomes], metric, ascending)
    table.attrs.update(metric=metric, runs=len(tasks), failed=sum(o.error is not None for o in outcomes),
                       interrupted=interrupted, executor=runner.name, elapsed_s=time.perf_counter() - t0,
                       busy_s=sum(o.seconds for o in outcomes))
    return table


def iter_sweep(data: DataLike, strategy: Strategy, params: ParamSpace, *, executor: ExecutorLike = None,
               workers: Optional[int] = None, sys_path: Sequence[str] = (),
               **options: Any) -> Iterator[dict[str, Any]]:
    """``sweep``'s rows one at a time as runs finish (in finishing order); closing it stops the rest."""
    runner, spec, candles, tasks = prepare(data, strategy, params, executor, workers, sys_path, options)
    with runner.open(candles) as session:
        yield from (row(outcome) for outcome in session.stream(spec, tasks))


__all__ = ["DEFAULT_METRIC", "RESERVED", "check_fit", "check_metric", "iter_sweep", "sweep"]
