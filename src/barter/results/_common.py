"""What the result views share: the result protocol and the few facts read from either kind of result."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Protocol

from barter.statistic.summary import StatisticConfig, SummaryTable

if TYPE_CHECKING:
    import pandas as pd


class ResultLike(Protocol):
    """A ``BacktestResult`` or a ``SavedResult``: the summary and the tables."""

    @property
    def summary(self) -> SummaryTable: ...

    @property
    def fills(self) -> pd.DataFrame: ...

    @property
    def positions(self) -> pd.DataFrame: ...

    @property
    def equity(self) -> pd.Series: ...


def statistic_config(result: Any) -> StatisticConfig:
    """The statistics settings the result was summarised with (the defaults if it does not say)."""
    saved = getattr(result, "statistic_config", None)
    if isinstance(saved, StatisticConfig):
        return saved
    portfolio = getattr(result, "portfolio", None)
    config = getattr(portfolio, "statistic_config", None)
    if isinstance(config, StatisticConfig):
        return config
    return StatisticConfig(starting_equity=result.summary.total.equity.start)


def market_ids(result: Any) -> list[str]:
    """Market ids in the engine's order (from the portfolio, the saved metadata or the fills)."""
    portfolio = getattr(result, "portfolio", None)
    if portfolio is not None:
        return [m.market_id for m in portfolio.markets]
    markets = getattr(result, "markets", None)
    if markets is not None:
        return [m.market_id for m in markets]
    return [str(m) for m in result.fills["market"].unique()]


def has_equity(result: Any) -> bool:
    """Whether the equity curve was recorded (``record_equity=True``)."""
    saved = getattr(result, "has_equity", None)
    if isinstance(saved, bool):
        return saved
    engine = getattr(result, "engine", None)
    return engine is not None and engine.equity is not None and len(engine.equity) > 0


def price_frame(result: Any) -> Optional[pd.DataFrame]:
    """Traded prices as a long table ``time, market, price``; None when the result has none.

    ``price`` is quote currency per 1 base unit: candle closes, or trade prices for a trades feed.
    A saved result has them when they were saved; a live result reads its traders' historic data.
    """
    saved = getattr(result, "prices", None)
    if saved is not None:
        return saved  # type: ignore[no-any-return]
    engine = getattr(result, "engine", None)
    if engine is None:
        return None
    import numpy as np
    import pandas as pd

    parts = []
    for trader in engine.traders:
        data = trader.data
        values = getattr(data, "close", getattr(data, "price", None))
        time_ns = getattr(data, "time_ns", None)
        if values is None or time_ns is None:
            continue  # a live feed: no stored prices
        parts.append(pd.DataFrame({
            "time": pd.to_datetime(np.asarray(time_ns, dtype=np.int64), utc=True),
            "market": trader.market.market_id,
            "price": np.asarray(values, dtype=np.float64),
        }))
    if not parts:
        return None
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
