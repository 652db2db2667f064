"""``barter.backtest``: one call from data and a strategy to a result with tables."""
from __future__ import annotations

import gc
import logging
import math
import os
import sys
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional, Union

import numpy as np

from barter.data.historic import HistoricalCandles, HistoricalQuotes, HistoricalTrades
from barter.data.historic_book import HistoricalBook
from barter.engine.engine import Engine, Trader, check_strategy_instance
from barter.errors import ConfigError
from barter.execution.events import Fees
from barter.execution.simulated import SimulatedExecution
from barter.instrument import InstrumentKind, Market
from barter.portfolio.allocator import DefaultAllocator
from barter.portfolio.portfolio import Portfolio
from barter.statistic.summary import StatisticConfig, SummaryTable
from barter.strategy.base import Strategy
from barter.decision import Decision

DEFAULT_MARKET = Market("binance", ("btc", "usdt", InstrumentKind.SPOT))
DEFAULT_FEES = Fees(exchange=0.001, slippage=0.0005, network=0.0)  # 0.1% and 0.05%
log = logging.getLogger(__name__)

if TYPE_CHECKING:
    import pandas as pd

# pandas is imported only where a table is asked for: ``import barter`` stays light.
DataLike = Union[HistoricalCandles, HistoricalTrades, HistoricalQuotes, HistoricalBook, "pd.DataFrame", str, Path]
Feed = Union[HistoricalCandles, HistoricalTrades, HistoricalQuotes, HistoricalBook]


def load(data: DataLike) -> Feed:
    """Historic candles from a DataFrame or a CSV/Parquet/JSON path; feeds pass through."""
    if isinstance(data, (HistoricalCandles, HistoricalTrades, HistoricalQuotes, HistoricalBook)):
        return data
    pandas = sys.modules.get("pandas")  # a DataFrame implies pandas is already imported
    if pandas is not None and isinstance(data, pandas.DataFrame):
        return HistoricalCandles.from_frame(data)
    if isinstance(data, (str, Path)):
        return HistoricalCandles.from_file(data)
    raise ConfigError(f"data must be a DataFrame, a file path or a historic feed, was {type(data).__name__}")


_DECISION_NAMES = [Decision(code).name for code in range(max(Decision) + 1)]
_EXIT_INTS = ("market_id", "side", "enter_time_ns", "exit_time_ns")
_EXIT_FLOATS = ("quantity", "enter_avg_price_gross", "exit_avg_price_gross", "enter_fees_total",
                "exit_fees_total", "realised_pnl", "enter_value_gross")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (if it runs) for a burst of acyclic allocations."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _utc(time_ns: np.ndarray) -> pd.DatetimeIndex:
    """UNIX ns as a UTC ``DatetimeIndex`` (a view; ``pd.to_datetime`` without a unit is ~100x slower)."""
    import pandas as pd

    return pd.DatetimeIndex(np.asarray(time_ns, dtype=np.int64).view("M8[ns]")).tz_localize("UTC")


def _lookup(names: list[str], codes: np.ndarray) -> pd.Series:
    """``names[code]`` for every code as a string column, also when empty (one NumPy take)."""
    import pandas as pd

    return pd.Series(np.array(names, dtype=object)[np.asarray(codes, dtype=np.int64)], dtype="str")


def _rows(records: list[dict[str, Any]], keys: tuple[str, ...], dtype: type) -> np.ndarray:
    """``records``' values of ``keys`` as a (len(records), len(keys)) array."""
    values = list(map(itemgetter(*keys), records))
    return np.array(values, dtype=dtype).reshape(len(records), len(keys))


class BacktestResult:
    """What a backtest produced: the summary, and fills, positions and equity as pandas tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.portfolio = engine.portfolio
        self.summary: SummaryTable = engine.summary()

    @property
    def fills(self) -> pd.DataFrame:
        """Every fill in order; money in quote currency, quantity signed (+ buy)."""
        import pandas as pd

        cols = self.portfolio.core.fills_columns()
        return pd.DataFrame({
            "time": _utc(cols["time_ns"]),
            "market": _lookup(self._market_ids(), cols["market_id"]),
            "decision": _lookup(_DECISION_NAMES, cols["decision"]),
            "price": cols["price"], "quantity": cols["quantity"],
            "fill_value_gross": cols["fill_value_gross"], "fee_exchange": cols["fee_exchange"],
            "fee_slippage": cols["fee_slippage"], "fee_network": cols["fee_network"],
        })

    @property
    def positions(self) -> pd.DataFrame:
        """Exited positions in exit order, with realised PnL and PnL return."""
        import pandas as pd

        # The core hands out one dict per exit; two passes turn them into typed columns. Tens of
        # thousands of new dicts would trigger full collections that scan every live object.
        with _gc_paused():
            records = self.portfolio.core.exits_list()
            ints = _rows(records, _EXIT_INTS, np.int64)
            floats = dict(zip(_EXIT_FLOATS, _rows(records, _EXIT_FLOATS, np.float64).T))
            del records
        realised = floats["realised_pnl"]
        return pd.DataFrame({
            "market": _lookup(self._market_ids(), ints[:, 0]),
            "side": _lookup(["sell", "buy"], (ints[:, 1] > 0).astype(np.int64)),
            "quantity": floats["quantity"],
            "enter_time": _utc(ints[:, 2]), "exit_time": _utc(ints[:, 3]),
            "enter_price": floats["enter_avg_price_gross"], "exit_price": floats["exit_avg_price_gross"],
            "enter_fees": floats["enter_fees_total"], "exit_fees": floats["exit_fees_total"],
            "realised_pnl": realised, "pnl_return": realised / floats["enter_value_gross"],
        })

    @property
    def equity(self) -> pd.Series:
        """Portfolio equity (quote currency) indexed by UTC time: one point per time, the equity
        after the last event at that time, as the equity statistics see it (at a time several
        markets share, the states between their events are only partly marked)."""
        import pandas as pd

        equity, time_ns = self.engine.equity, self.engine.time_ns
        if not self.engine.record_equity:
            raise ConfigError("equity was not recorded (record_equity=False)")
        if equity is None or time_ns is None:
            raise ConfigError("the engine has no equity curve: it has not run")
        return pd.Series(equity, index=_utc(time_ns), name="equity")

    def _market_ids(self) -> list[str]:
        return [m.market_id for m in self.portfolio.markets]

    def save(self, directory: Union[str, "os.PathLike[str]"], *, config: Any = None, prices: bool = True) -> Path:
        """Write this result to ``directory``: Parquet tables, ``summary.json`` and ``meta.json``."""
        from barter.results.store import save_result

        return save_result(self, directory, config=config, prices=prices)

    @staticmethod
    def load(directory: Union[str, "os.PathLike[str]"]) -> Any:  # -> barter.results.SavedResult
        """Read a directory written by ``save``: the same summary and tables (no engine)."""
        from barter.results.store import load_result

        return load_result(directory)

    def tear_sheet(self, path: Union[str, "os.PathLike[str]"], price: Any = None, **options: Any) -> Path:
        """Write one self-contained HTML tear sheet (see ``barter.results.tear_sheet``)."""
        from barter.results.tearsheet import tear_sheet

        return tear_sheet(self, path, price, **options)

    def equity_png(self, path: Union[str, "os.PathLike[str]"], **options: Any) -> Path:
        """Write the equity/drawdown chart as a PNG (see ``barter.results.equity_png``)."""
        from barter.results.png import equity_png

        return equity_png(self, path, **options)

    def _repr_html_(self) -> str:
        from barter.results.html import result_html

        return result_html(self)

    def __repr__(self) -> str:
        return (f"BacktestResult(events={self.engine.events}, fills={self.portfolio.core.n_fills}, "
                f"equity={self.portfolio.equity:.2f})")


def _positive(x: Any) -> bool:
    """Whether ``x`` is a finite number > 0 (a NumPy one too; not a bool)."""
    try:
        return not isinstance(x, bool) and 0.0 < float(x) < math.inf
    except (TypeError, ValueError):
        return False


def backtest(data: DataLike, strategy: Strategy, *, market: Market = DEFAULT_MARKET,
             starting_cash: float = 10_000.0, order_value: float = 100.0, size_decimals: Optional[int] = 4,
             fees: Fees = DEFAULT_FEES, statistic_config: Optional[StatisticConfig] = None,
             allocator: Optional[Any] = None, risk: Optional[Any] = None,
             record_equity: bool = True, progress: Optional[Callable[[int, int], Any]] = None) -> BacktestResult:
    """Backtest ``strategy`` on one market's historic data with the seed's portfolio.

    Defaults: 10,000 quote starting cash; entries of 100 quote (floored to 4 decimals of base);
    fees 0.1% exchange and 0.05% slippage. ``progress(events_done, events_total)`` is called every
    65,536 events and at the end (``barter.progress.ProgressBar`` draws it; see ``Engine.run``).
    ``starting_cash`` must be finite and > 0 when it is also the statistics' starting equity (no
    ``statistic_config``); ``strategy`` is an instance (``RSIStrategy()``), not a class.
    """
    check_strategy_instance(strategy)  # before loading the data
    if statistic_config is None and not _positive(starting_cash):
        raise ConfigError(f"starting_cash must be finite and > 0, was {starting_cash!r}")
    portfolio = Portfolio(
        starting_cash=starting_cash,
        allocator=allocator or DefaultAllocator(order_value, size_decimals),
        risk=risk,
        statistic_config=statistic_config or StatisticConfig(starting_equity=starting_cash),
    )
    trader = Trader(market, load(data), strategy, SimulatedExecution(fees))
    engine = Engine([trader], portfolio, record_equity=record_equity)
    engine.run(progress)
    log.info("backtest of %s: %d events in %.3f s, %d fills", market, engine.events, engine.elapsed_s,
             engine.portfolio.core.n_fills)
    return BacktestResult(engine)


__all__ = ["BacktestResult", "DEFAULT_FEES", "DEFAULT_MARKET", "backtest", "load"]
