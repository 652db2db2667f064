"""Exchange feeds: per exchange, subscription messages and parsers from raw frames to normalised
events; ``ExchangeFeed`` runs one over a reconnecting WebSocket client."""
from barter.data.exchange.binance import (BINANCE_FUTURES_USD, BINANCE_SPOT, BinanceConnection, BinanceParser,
                                          BinanceVenue, binance_symbol, market_from_symbol, parse_depth_snapshot)
from barter.data.exchange.events import (FeedError, Liquidation, OrderBookL1, OrderBookL2Snapshot,
                                         OrderBookL2Update)
from barter.data.exchange.feed import ExchangeFeed, FeedCounters, binance_feed
from barter.data.exchange.subscription import SubKind, Subscription

__all__ = ["BINANCE_FUTURES_USD", "BINANCE_SPOT", "BinanceConnection", "BinanceParser", "BinanceVenue",
           "ExchangeFeed", "FeedCounters", "FeedError", "Liquidation", "OrderBookL1", "OrderBookL2Snapshot",
           "OrderBookL2Update", "SubKind", "Subscription", "binance_feed", "binance_symbol",
           "market_from_symbol", "parse_depth_snapshot"]
