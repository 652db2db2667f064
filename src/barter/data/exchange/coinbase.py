"""Coinbase Advanced Trade market data WebSocket: symbols, subscriptions and parsers.

Channels: ``market_trades`` (public trades), ``ticker`` (L1 from ``best_bid``/``best_ask``),
``level2`` (frames on ``l2_data``: a snapshot, then updates) and ``candles`` (5-minute bars, emitted
once closed: when the next bar's first update arrives, or every update with ``partial_candles``).
Every frame of a connection carries ``sequence_num``, counting all channels; a missed number means a
book update may be lost, so the next level2 update of every product is marked (``prev_last_id`` =
-1) and ``barter.data.exchange.books`` resyncs that book. ``heartbeats`` is subscribed too: it keeps
a quiet connection open. Coinbase publishes no liquidations; the legacy ``ws-feed.pro.coinbase.com``
protocol of the 2021 recording is retired and not parsed.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Union

from barter.data.event import Candle, MarketEvent, Trade
from barter.data.exchange._connection import JsonConnection, check_kinds, rejected
from barter.data.exchange._fields import (Bad, FrameParser, ParsedEvent, S, amount, array, iso_ns, obj, price, size,
                                          symbol_map)
from barter.data.exchange.events import OrderBookL1, OrderBookL2Snapshot, OrderBookL2Update, market_event
from barter.data.exchange.subscription import SubKind, Subscription
from barter.errors import ConfigError
from barter.instrument import Instrument, InstrumentKind, Market, Side

__all__ = ["COINBASE", "COINBASE_URL", "CoinbaseConnection", "CoinbaseParser", "coinbase_market", "coinbase_symbol"]

COINBASE = "coinbase"
COINBASE_URL = "wss://advanced-trade-ws.coinbase.com"
KINDS = frozenset({SubKind.PUBLIC_TRADES, SubKind.L1, SubKind.L2, SubKind.CANDLES})
CANDLE_S = 300
_CHANNELS = {SubKind.PUBLIC_TRADES: "market_trades", SubKind.L1: "ticker", SubKind.L2: "level2",
             SubKind.CANDLES: "candles"}
_SIDES = {"BUY": Side.BUY, "SELL": Side.SELL}


def coinbase_symbol(market: Union[Market, Instrument]) -> str:
    """``btc/usd`` spot -> ``"BTC-USD"``."""
    i = market.instrument if isinstance(market, Market) else market
    if i.kind != InstrumentKind.SPOT:
        raise ConfigError(f"coinbase: {i} is not spot")
    return f"{i.base}-{i.quote}".upper()


def coinbase_market(product_id: str) -> Market:
    """``"BTC-USD"`` -> ``Market("coinbase", ("btc", "usd"))``."""
    base, sep, quote = product_id.partition("-")
    if not sep or not base or not quote or "-" in quote:
        raise ConfigError(f"coinbase: cannot read product id {product_id!r} (expected BASE-QUOTE)")
    return Market(COINBASE, (base, quote, InstrumentKind.SPOT))


class CoinbaseConnection(JsonConnection):
    """One subscribe request per channel (plus ``heartbeats``); Coinbase confirms each with a
    ``subscriptions`` frame listing everything subscribed so far."""

    def __init__(self, subscriptions: Iterable[Subscription], *, url: str = COINBASE_URL) -> None:
        subs = list(dict.fromkeys(subscriptions))
        by_channel: dict[str, list[str]] = {}
        for sub in subs:
            check_kinds(COINBASE, sub, KINDS)
            by_channel.setdefault(_CHANNELS[sub.kind], []).append(coinbase_symbol(sub.market))
        requests: list[Any] = [{"type": "subscribe", "product_ids": ids, "channel": ch} for ch, ids in by_channel.items()]
        requests.append({"type": "subscribe", "channel": "heartbeats"})
        super().__init__(COINBASE, url, subs, requests, ["subscriptions"] * len(requests), _classify)


def _classify(msg: Any, raw: str) -> Optional[str]:
    if type(msg) is not dict:
        return None
    if msg.get("type") == "error":
        raise rejected(COINBASE, "subscribe", msg.get("message", raw))
    return "subscriptions" if msg.get("channel") == "subscriptions" else None


class CoinbaseParser(FrameParser):
    """Raw Coinbase Advanced Trade frames to normalised events (``parse`` never raises).

    Attributes
    ----------
    sequence_gaps : int
        Missed ``sequence_num`` runs on the current and past connections.
    """

    def __init__(self, markets: Union[Iterable[Market], Mapping[str, Market]], *, partial_candles: bool = False) -> None:
        super().__init__(COINBASE, symbol_map(markets, COINBASE, (InstrumentKind.SPOT,), coinbase_symbol))
        self.partial_candles = partial_candles
        self.sequence_gaps = 0
        self._sequence: Optional[int] = None
        self._epoch = 0  # bumped on every gap
        self._book_epoch: dict[Market, int] = {}
        self._candles: dict[Market, tuple[int, Candle]] = {}

    def reset(self) -> None:
        self._sequence = None  # a new connection counts from 0 again
        self._candles.clear()

    def _parse(self, msg: Any, received_ns: int) -> list[ParsedEvent]:
        msg = obj(msg, "frame")
        if msg.get("type") == "error":
            raise Bad(f"error: {msg.get('message')!r}"[:300])
        seq = msg["sequence_num"]
        if type(seq) is not int or seq < 0:
            raise Bad(f"sequence_num must be a non-negative integer, was {seq!r}"[:200])
        prev, self._sequence = self._sequence, seq
        if prev is not None and seq != prev + 1:
            self.sequence_gaps += 1
            self._epoch += 1
        channel = msg["channel"]
        events = array(msg["events"], "events")
        if channel in ("heartbeats", "subscriptions"):
            return self.skip()
        if channel == "market_trades":
            return [self._trade(obj(t, "trades[]")) for e in events for t in array(obj(e, "events[]")["trades"], "trades")]
        if channel == "ticker":
            time_ns = iso_ns(msg["timestamp"], "timestamp")
            return [self._ticker(obj(t, "tickers[]"), time_ns) for e in events
                    for t in array(obj(e, "events[]")["tickers"], "tickers")]
        if channel == "l2_data":
            time_ns = iso_ns(msg["timestamp"], "timestamp")
            return [self._book(obj(e, "events[]"), seq, prev, time_ns) for e in events]
        if channel == "candles":
            return [c for e in events for c in self._candles_of(array(obj(e, "events[]")["candles"], "candles"))]
        raise Bad(f"unknown channel {channel!r}"[:200])

    def _trade(self, t: dict[str, Any]) -> MarketEvent:
        side = _SIDES.get(t["side"])
        if side is None:
            raise Bad(f"side must be BUY or SELL, was {t['side']!r}"[:200])
        trade = Trade(price(t["price"], "price"), amount(t["size"], "size"), side)
        return MarketEvent(iso_ns(t["time"], "time"), self.market(t["product_id"]), trade)

    def _ticker(self, t: dict[str, Any], time_ns: int) -> MarketEvent:
        l1 = OrderBookL1(price(t["best_bid"], "best_bid"), size(t["best_bid_quantity"], "best_bid_quantity"),
                         price(t["best_ask"], "best_ask"), size(t["best_ask_quantity"], "best_ask_quantity"))
        return market_event(time_ns, self.market(t["product_id"]), l1)

    def _book(self, e: dict[str, Any], seq: int, prev: Optional[int], time_ns: int) -> MarketEvent:
        market = self.market(e["product_id"])
        bids: list[tuple[float, float]] = []
        asks: list[tuple[float, float]] = []
        for u in array(e["updates"], "updates"):
            side = obj(u, "updates[]")["side"]
            level = (price(u["price_level"], "price_level"), size(u["new_quantity"], "new_quantity"))
            if side == "bid":
                bids.append(level)
            elif side == "offer":
                asks.append(level)
            else:
                raise Bad(f"side must be bid or offer, was {side!r}"[:200])
        kind = e["type"]
        if kind == "snapshot":
            self._book_epoch[market] = self._epoch
            return market_event(time_ns, market, OrderBookL2Snapshot(seq, tuple(bids), tuple(asks)))
        if kind != "update":
            raise Bad(f"l2 event type must be snapshot or update, was {kind!r}"[:200])
        clean = self._book_epoch.get(market) == self._epoch and prev is not None
        self._book_epoch[market] = self._epoch
        return market_event(time_ns, market, OrderBookL2Update(seq, seq, prev if clean else -1, tuple(bids), tuple(asks)))

    def _candles_of(self, rows: list[Any]) -> list[ParsedEvent]:
        out: list[ParsedEvent] = []
        for c in rows:
            c = obj(c, "candles[]")
            start = c["start"]
            if type(start) is not str or not start.isdigit():
                raise Bad(f"start must be epoch seconds, was {start!r}"[:200])
            candle = Candle(price(c["open"], "open"), price(c["high"], "high"), price(c["low"], "low"),
                            price(c["close"], "close"), size(c["volume"], "volume"))
            if not candle.low <= min(candle.open, candle.close) <= max(candle.open, candle.close) <= candle.high:
                raise Bad(f"candle {c!r} is not low <= open, close <= high"[:300])
            out += self._closed(self.market(c["product_id"]), (int(start) + CANDLE_S) * S - 1_000_000, candle)
        return out

    def _closed(self, market: Market, close_ns: int, candle: Candle) -> list[ParsedEvent]:
        if self.partial_candles:
            return [MarketEvent(close_ns, market, candle)]
        previous = self._candles.get(market)
        self._candles[market] = (close_ns, candle)
        if previous is None or previous[0] >= close_ns:
            self.ignored += 1
            return []
        return [MarketEvent(previous[0], market, previous[1])]
