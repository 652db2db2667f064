"""Market data: event types and historic feeds (CSV, Parquet, JSON, pandas, NumPy)."""
from barter.data.default import default_candles
from barter.data.event import Candle, MarketEvent, Trade
from barter.data.historic import HistoricalCandles, HistoricalTrades
from barter.data.resample import CandleAggregator, interval_ns, resample

__all__ = ["Candle", "CandleAggregator", "HistoricalCandles", "HistoricalTrades", "MarketEvent", "Trade",
           "default_candles", "interval_ns", "resample"]
