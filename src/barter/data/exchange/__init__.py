"""Exchange feeds: per exchange, subscription messages and parsers from raw frames to normalised
events; ``ExchangeFeed`` runs one over a reconnecting WebSocket client; ``books`` keeps their L2
books with integrity events; ``recorder`` writes and replays sessions.

The events, books and subscriptions need nothing beyond barter's own dependencies, and backtests
use them. The exchange parsers and feeds need the ``live`` extra (msgspec, orjson, websockets):
they are imported when first used, so a backtest runs on a bare install.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from barter.data.exchange.books import BookManager, BookState, BookStatusEvent, ChecksumMismatch
from barter.data.exchange.events import (FeedError, Liquidation, OrderBookL1, OrderBookL2Snapshot,
                                         OrderBookL2Update)
from barter.data.exchange.subscription import SubKind, Subscription

if TYPE_CHECKING:
    from barter.data.exchange.binance import (BINANCE_FUTURES_USD, BINANCE_SPOT, BinanceConnection, BinanceParser,
                                              BinanceVenue, binance_symbol, market_from_symbol, parse_depth_snapshot)
    from barter.data.exchange.bybit import BYBIT_PERPETUALS_USD, BYBIT_SPOT, BybitConnection, BybitParser
    from barter.data.exchange.coinbase import CoinbaseConnection, CoinbaseParser
    from barter.data.exchange.feed import ExchangeFeed, FeedCounters, binance_feed
    from barter.data.exchange.kraken import KrakenConnection, KrakenParser
    from barter.data.exchange.okx import OkxConnection, OkxParser

_FEEDS = {  # module -> the names it exports here (the same as the imports above, for type checkers)
    "binance": ("BINANCE_FUTURES_USD", "BINANCE_SPOT", "BinanceConnection", "BinanceParser", "BinanceVenue",
                "binance_symbol", "market_from_symbol", "parse_depth_snapshot"),
    "bybit": ("BYBIT_PERPETUALS_USD", "BYBIT_SPOT", "BybitConnection", "BybitParser"),
    "coinbase": ("CoinbaseConnection", "CoinbaseParser"),
    "feed": ("ExchangeFeed", "FeedCounters", "binance_feed"),
    "kraken": ("KrakenConnection", "KrakenParser"),
    "okx": ("OkxConnection", "OkxParser"),
}
_MODULE_OF = {name: module for module, names in _FEEDS.items() for name in names}


def __getattr__(name: str) -> Any:
    """A feed's name, from its module on first use (PEP 562)."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = sorted(["BookManager", "BookState", "BookStatusEvent", "ChecksumMismatch", "FeedError", "Liquidation",
                  "OrderBookL1", "OrderBookL2Snapshot", "OrderBookL2Update", "SubKind", "Subscription", *_MODULE_OF])
