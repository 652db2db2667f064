"""Exchange feeds: per exchange, subscription messages and parsers from raw frames to normalised
events; ``ExchangeFeed`` runs one over a reconnecting WebSocket client; ``books`` keeps their L2
books with integrity events; ``recorder`` writes and replays sessions."""
from barter.data.exchange.binance import (BINANCE_FUTURES_USD, BINANCE_SPOT, BinanceConnection, BinanceParser,
                                          BinanceVenue, binance_symbol, market_from_symbol, parse_depth_snapshot)
from barter.data.exchange.books import BookManager, BookState, BookStatusEvent, ChecksumMismatch
from barter.data.exchange.bybit import BYBIT_PERPETUALS_USD, BYBIT_SPOT, BybitConnection, BybitParser
from barter.data.exchange.coinbase import CoinbaseConnection, CoinbaseParser
from barter.data.exchange.events import (FeedError, Liquidation, OrderBookL1, OrderBookL2Snapshot,
                                         OrderBookL2Update)
from barter.data.exchange.feed import ExchangeFeed, FeedCounters, binance_feed
from barter.data.exchange.kraken import KrakenConnection, KrakenParser
from barter.data.exchange.okx import OkxConnection, OkxParser
from barter.data.exchange.subscription import SubKind, Subscription

__all__ = ["BINANCE_FUTURES_USD", "BINANCE_SPOT", "BYBIT_PERPETUALS_USD", "BYBIT_SPOT", "BinanceConnection",
           "BinanceParser", "BinanceVenue", "BookManager", "BookState", "BookStatusEvent", "BybitConnection",
           "BybitParser", "ChecksumMismatch", "CoinbaseConnection", "CoinbaseParser", "ExchangeFeed", "FeedCounters",
           "FeedError", "KrakenConnection", "KrakenParser", "Liquidation", "OkxConnection", "OkxParser",
           "OrderBookL1", "OrderBookL2Snapshot", "OrderBookL2Update", "SubKind", "Subscription", "binance_feed",
           "binance_symbol", "market_from_symbol", "parse_depth_snapshot"]
