"""Walk-forward analysis: optimise in sample, evaluate the choice on the rows that follow.

Window k trains on rows ``[train_start, train_stop)`` and tests on ``[train_stop, test_stop)``;
the choice uses the in-sample rows only, so nothing after ``train_stop`` can change it. Every
in-sample run of every window goes to the executor at once, then one out-of-sample run per window.
Each out-of-sample run starts flat with the starting cash and fresh indicators; the stitched curve
chains them: window k's equity is scaled by the level window k-1 ended at.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional, Sequence

import numpy as np

from barter._core.stats import EquityStats, RunningStats  # type: ignore[attr-defined]  # no stub yet
from barter.errors import ConfigError
from barter.statistic.summary import EquitySummary, StatisticConfig
from barter.sweep.core import DEFAULT_METRIC, Strategy, check_metric, consume, frame, prepare, row
from barter.sweep.executors import ExecutorLike
from barter.sweep.job import Outcome, Task
from barter.sweep.params import ParamSpace

if TYPE_CHECKING:
    import pandas as pd

    from barter.backtest import DataLike


@dataclass(frozen=True, slots=True)
class Window:
    """Row ranges of one walk-forward step (start inclusive, stop exclusive)."""

    index: int
    train_start: int
    train_stop: int
    test_stop: int

    @property
    def test_start(self) -> int:
        return self.train_stop


def _positive(name: str, value: Any) -> int:
    if not (isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0):
        raise ConfigError(f"{name} must be an int > 0 (rows), was {value!r}")
    return int(value)


def _sizes(train: Any, test: Any, step: Any) -> tuple[int, int, int]:
    """``train``, ``test`` and ``step`` checked; ``step`` defaults to ``test``.

    ``step < test`` is rejected: test windows would overlap, so the stitched curve would count
    rows twice and go back in time.
    """
    train, test = _positive("train", train), _positive("test", test)
    step = test if step is None else _positive("step", step)
    if step < test:
        raise ConfigError(f"step ({step} rows) must be >= test ({test} rows): out-of-sample windows would "
                          f"overlap; to re-optimise every {step} rows, pass test={step}")
    return train, test, step


def windows(rows: int, train: int, test: int, step: Optional[int] = None, anchored: bool = False) -> list[Window]:
    """The walk-forward windows over ``rows`` rows; only whole test windows.

    Parameters
    ----------
    train, test : int
        Rows in sample and out of sample.
    step : int, optional
        Rows between window starts, >= ``test`` (default ``test``: out-of-sample windows tile the
        data; more leaves rows between them untested).
    anchored : bool
        In-sample windows all start at row 0 and grow.

    Raises
    ------
    ConfigError
        A size is not an int > 0, ``step < test`` (overlapping test windows) or ``train + test``
        exceeds ``rows``.
    """
    train, test, step = _sizes(train, test, step)
    if train + test > rows:
        raise ConfigError(f"train + test = {train + test} rows, but the data has {rows}")
    starts = range(0, rows - train - test + 1, step)
    return [Window(k, 0 if anchored else s, s + train, s + train + test) for k, s in enumerate(starts)]


@dataclass(frozen=True)
class WalkForwardResult:
    """What a walk-forward produced.

    Attributes
    ----------
    windows : pandas.DataFrame
        One row per window: row ranges and UTC times, the chosen parameters, the in-sample and
        out-of-sample metric, out-of-sample trades, return and error.
    in_sample : pandas.DataFrame
        Every in-sample run (``window``, ``run`` = position in the parameter list, parameters,
        ``error``, statistics), best first within each window.
    equity : pandas.Series
        The stitched out-of-sample equity (quote currency), indexed by UTC time.
    summary : EquitySummary or None
        Statistics of the stitched curve (None when no window ran out of sample).
    oos_returns : RunningStats
        Out-of-sample trade PnL returns, each window's accumulator merged in window order.
    interrupted : bool
        Ctrl-C stopped it; what finished is kept.
    """

    windows: pd.DataFrame
    in_sample: pd.DataFrame
    equity: pd.Series
    summary: Optional[EquitySummary]
    oos_returns: RunningStats
    interrupted: bool


def _best(outcomes: list[Outcome], metric: str, ascending: bool) -> Optional[Outcome]:
    """The best run by ``metric``, ties to the earliest parameter set; failed and NaN never win."""
    ok = [o for o in outcomes if o.error is None and not np.isnan(o.stats[metric])]  # type: ignore[index]
    sign = 1.0 if ascending else -1.0
    return min(ok, key=lambda o: (sign * o.stats[metric], o.run)) if ok else None  # type: ignore[index]


def _stitch(oos: list[Outcome], start: float) -> tuple[np.ndarray, np.ndarray]:
    """Chain the windows' equity curves: each scaled by the level the previous ended at."""
    times, values, level = [], [], start
    for outcome in oos:
        if outcome.equity is None or not len(outcome.equity[1]):
            continue  # a failed window adds nothing; the level carries over
        t, eq = outcome.equity
        piece = eq * (level / start)
        times.append(t)
        values.append(piece)
        level = float(piece[-1])
    if not times:
        return np.empty(0, np.int64), np.empty(0)
    return np.concatenate(times), np.concatenate(values)


def _merged_returns(oos: list[Outcome]) -> RunningStats:
    """Each window's trade returns in its own accumulator, merged in window order (Chan et al.)."""
    total = RunningStats()
    for outcome in oos:
        part = RunningStats()
        if outcome.trade_returns is not None and len(outcome.trade_returns):
            part.push_many(np.ascontiguousarray(outcome.trade_returns))
        total.merge(part)
    return total


def _equity_summary(times: np.ndarray, values: np.ndarray, start: float,
                    config: StatisticConfig) -> Optional[EquitySummary]:
    """The stitched portfolio equity's summary, from the cash it starts with (``_stitch``'s level),
    whatever ``config.starting_equity`` says."""
    if not len(times):
        return None
    stats = EquityStats(start, config.risk_free_return)
    stats.update_many(times, values)
    return EquitySummary.from_state(stats.state(), int(times[-1] - times[0]), config)


def _window_rows(wins: list[Window], chosen: dict[int, Outcome], oos: dict[int, Outcome], time_ns: np.ndarray,
                 metric: str) -> list[dict[str, Any]]:
    import pandas as pd

    out = []
    for w in wins:
        best, test = chosen.get(w.index), oos.get(w.index)
        stamp = lambda i: pd.Timestamp(int(time_ns[i]), tz="UTC")  # noqa: E731
        out.append({
            "window": w.index, "train_start": stamp(w.train_start), "train_end": stamp(w.train_stop - 1),
            "test_start": stamp(w.test_start), "test_end": stamp(w.test_stop - 1),
            **(dict(best.params) if best else {}),
            f"in_sample_{metric}": best.stats[metric] if best and best.stats else np.nan,
            f"out_of_sample_{metric}": test.stats[metric] if test and test.stats else np.nan,
            "oos_trades": test.stats["trades"] if test and test.stats else 0,
            "oos_return": test.stats["equity_total_return"] if test and test.stats else np.nan,
            "oos_error": test.error if test else ("no in-sample run succeeded" if best is None else None),
        })
    return out


def _in_sample_frame(outcomes: list[Outcome], n_sets: int, metric: str, ascending: bool) -> pd.DataFrame:
    rows = []
    for outcome in outcomes:
        r = row(outcome)
        window, r["run"] = divmod(outcome.run, n_sets)
        rows.append({"window": window, **r})
    table = frame(rows, metric, ascending)
    if len(table):
        table = table.sort_values("window", kind="stable").reset_index(drop=True)
    return table


def walk_forward(data: DataLike, strategy: Strategy, params: ParamSpace, *, train: int, test: int,
                 step: Optional[int] = None, anchored: bool = False, metric: str = DEFAULT_METRIC,
                 ascending: bool = False, executor: ExecutorLike = None, workers: Optional[int] = None,
                 progress: Optional[bool] = None, sys_path: Sequence[str] = (), **options: Any) -> WalkForwardResult:
    """Rolling optimisation: per window, the best parameter set in sample, run out of sample.

    ``train``, ``test``, ``step`` and ``anchored`` are as in ``windows`` (rows of ``data``); the
    other arguments are ``sweep``'s. The data goes to the executor once for both phases.
    """
    import pandas as pd

    check_metric(metric)
    _sizes(train, test, step)  # before the data is loaded
    runner, spec, candles, base = prepare(data, strategy, params, executor, workers, sys_path, options)
    wins = windows(len(candles), train, test, step, anchored)
    n_sets = len(base)
    in_tasks = [Task(w.index * n_sets + t.run, t.params, w.train_start, w.train_stop) for w in wins for t in base]
    oos: list[Outcome] = []
    with runner.open(candles) as session:
        found, interrupted = consume(session, spec, in_tasks, progress, "in-sample")
        by_window: dict[int, list[Outcome]] = {}
        for outcome in found:
            by_window.setdefault(outcome.run // n_sets, []).append(outcome)
        chosen = {k: b for k, v in by_window.items() if (b := _best(v, metric, ascending)) is not None}
        if not interrupted:
            out_tasks = [Task(w.index, chosen[w.index].params, w.test_start, w.test_stop, keep_equity=True)
                         for w in wins if w.index in chosen]
            oos, interrupted = consume(session, spec, out_tasks, progress, "out-of-sample")
    oos.sort(key=lambda o: o.run)
    start = float(options.get("starting_cash", _default("starting_cash")))
    config = options.get("statistic_config") or StatisticConfig(starting_equity=start)
    times, values = _stitch(oos, start)
    return WalkForwardResult(
        windows=pd.DataFrame(_window_rows(wins, chosen, {o.run: o for o in oos}, candles.time_ns, metric)),
        in_sample=_in_sample_frame(found, n_sets, metric, ascending),
        equity=pd.Series(values, index=pd.to_datetime(times, utc=True), name="equity"),
        summary=_equity_summary(times, values, start, config),
        oos_returns=_merged_returns(oos),
        interrupted=interrupted,
    )


def _default(name: str) -> Any:
    from barter.backtest import backtest

    return inspect.signature(backtest).parameters[name].default


__all__ = ["WalkForwardResult", "Window", "walk_forward", "windows"]
