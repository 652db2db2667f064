"""Market data: event types and historic feeds (CSV, Parquet, JSON, pandas, NumPy)."""
from barter._core.book import BookSide, OrderBook
from barter.data.book import BookDelta, BookSnapshot, BookStatus, SequencedBook
from barter.data.default import default_candles
from barter.data.event import Candle, MarketEvent, Trade
from barter.data.historic import HistoricalCandles, HistoricalQuotes, HistoricalTrades
from barter.data.historic_book import HistoricalBook
from barter.data.resample import CandleAggregator, interval_ns, resample

__all__ = ["BookDelta", "BookSide", "BookSnapshot", "BookStatus", "Candle", "CandleAggregator", "OrderBook",
           "SequencedBook", "HistoricalBook", "HistoricalCandles", "HistoricalQuotes", "HistoricalTrades", "MarketEvent", "Trade",
           "default_candles", "interval_ns", "resample"]
