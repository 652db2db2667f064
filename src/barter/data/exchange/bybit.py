"""Bybit (API v5 public WebSocket), spot and USDT perpetuals: symbols, subscriptions and parsers.

Topics: ``publicTrade.<S>`` (side is the taker's), ``orderbook.<depth>.<S>`` (L2: a snapshot, then
deltas whose ``u`` rises by exactly 1; a snapshot, also ``u`` = 1 after a Bybit restart, replaces the
book; depth 1 also gives L1 events), ``kline.<interval>.<S>`` (closed candles, timed at their last
millisecond) and, on perpetuals, ``allLiquidation.<S>``. Bybit names the side of the liquidated
*position*; the ``Liquidation`` carries the side of the liquidation order (a long, ``Buy``, is
closed by a SELL). The legacy ``realtime``/``realtime_public`` protocol of the 2021 recordings is
retired and not parsed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional, Union

from barter.data.event import Candle, MarketEvent, Trade
from barter.data.exchange._connection import JsonConnection, check_kinds, rejected
from barter.data.exchange._fields import (Bad, FrameParser, ParsedEvent, amount, array, integer, levels, ms, obj,
                                          price, size, symbol_map)
from barter.data.exchange.binance import market_from_symbol
from barter.data.exchange.events import (Level, Liquidation, OrderBookL1, OrderBookL2Snapshot, OrderBookL2Update,
                                         market_event)
from barter.data.exchange.subscription import SubKind, Subscription
from barter.errors import ConfigError
from barter.instrument import Instrument, InstrumentKind, Market, Side

__all__ = ["BYBIT_PERPETUALS_USD", "BYBIT_SPOT", "BybitConnection", "BybitParser", "BybitVenue", "bybit_market",
           "bybit_symbol"]


@dataclass(frozen=True, slots=True)
class BybitVenue:
    """One Bybit v5 public endpoint: barter's exchange name, URL, instrument kind, published kinds."""

    exchange: str
    ws_url: str
    instrument_kind: InstrumentKind
    kinds: frozenset[SubKind]


BYBIT_SPOT = BybitVenue("bybit_spot", "wss://stream.bybit.com/v5/public/spot", InstrumentKind.SPOT,
                        frozenset({SubKind.PUBLIC_TRADES, SubKind.L1, SubKind.L2, SubKind.CANDLES}))
BYBIT_PERPETUALS_USD = BybitVenue("bybit_perpetuals_usd", "wss://stream.bybit.com/v5/public/linear",
                                  InstrumentKind.PERPETUAL, frozenset(SubKind))
_SIDES = {"Buy": Side.BUY, "Sell": Side.SELL}
_ORDER_SIDE_OF_POSITION = {"Buy": Side.SELL, "Sell": Side.BUY}
_INTERVAL_MS = {"D": 86_400_000, "W": 604_800_000}


def bybit_symbol(market: Union[Market, Instrument]) -> str:
    """``btc/usdt`` (spot or perpetual) -> ``"BTCUSDT"``."""
    i = market.instrument if isinstance(market, Market) else market
    if i.kind not in (InstrumentKind.SPOT, InstrumentKind.PERPETUAL):
        raise ConfigError(f"bybit: no symbol for {i} (spot and perpetuals only)")
    return f"{i.base}{i.quote}".upper()


def bybit_market(symbol: str, venue: BybitVenue = BYBIT_SPOT) -> Market:
    """``"BTCUSDT"`` -> ``Market(venue.exchange, ("btc", "usdt", venue.instrument_kind))``."""
    try:
        m = market_from_symbol(symbol)
    except ConfigError:
        raise ConfigError(f"bybit: cannot split symbol {symbol!r} into base and quote") from None
    return Market(venue.exchange, (m.instrument.base, m.instrument.quote, venue.instrument_kind))


def interval_ms(interval: str) -> int:
    if interval.isdigit() and int(interval) > 0:
        return int(interval) * 60_000
    if interval in _INTERVAL_MS:
        return _INTERVAL_MS[interval]
    raise ConfigError(f"bybit: unsupported kline interval {interval!r} (minutes, D or W)")


class BybitConnection(JsonConnection):
    """Subscribe in requests of at most 10 topics (Bybit spot's limit); ``{"op": "ping"}`` every 20 s
    keeps the connection open (its pong is skipped by the parser)."""

    def __init__(self, subscriptions: Iterable[Subscription], venue: BybitVenue = BYBIT_SPOT, *,
                 url: Optional[str] = None, book_depth: int = 50, candle_interval: str = "1") -> None:
        interval_ms(candle_interval)
        subs = list(dict.fromkeys(subscriptions))
        topics: list[str] = []
        for sub in subs:
            check_kinds(venue.exchange, sub, venue.kinds)
            symbol = bybit_symbol(sub.market)
            topic = {SubKind.PUBLIC_TRADES: f"publicTrade.{symbol}", SubKind.L1: f"orderbook.1.{symbol}",
                     SubKind.L2: f"orderbook.{book_depth}.{symbol}", SubKind.CANDLES: f"kline.{candle_interval}.{symbol}",
                     SubKind.LIQUIDATIONS: f"allLiquidation.{symbol}"}[sub.kind]
            if topic not in topics:
                topics.append(topic)
        batches = [topics[k:k + 10] for k in range(0, len(topics), 10)]
        requests = [{"op": "subscribe", "args": b, "req_id": str(n)} for n, b in enumerate(batches, 1)]
        super().__init__(venue.exchange, url or venue.ws_url, subs, requests, [str(n) for n in range(1, len(batches) + 1)],
                         lambda msg, raw: _classify(venue.exchange, msg, raw), heartbeat='{"op":"ping"}',
                         heartbeat_s=20.0)


def _classify(exchange: str, msg: Any, raw: str) -> Optional[str]:
    if type(msg) is not dict or msg.get("op") != "subscribe":
        return None
    if msg.get("success") is not True:
        raise rejected(exchange, f"req_id {msg.get('req_id')!r}", msg.get("ret_msg") or raw)
    return str(msg.get("req_id"))


class BybitParser(FrameParser):
    """Raw Bybit v5 public frames to normalised events (``parse`` never raises).

    Parameters
    ----------
    markets : iterable of Market, or mapping of symbol to Market
    venue : BybitVenue
    partial_candles : bool
        Also emit candles still open (``confirm`` false).
    """

    def __init__(self, markets: Union[Iterable[Market], Mapping[str, Market]], venue: BybitVenue = BYBIT_SPOT, *,
                 partial_candles: bool = False) -> None:
        super().__init__(venue.exchange, symbol_map(markets, venue.exchange, (venue.instrument_kind,), bybit_symbol))
        self.venue = venue
        self.partial_candles = partial_candles
        self._l1: dict[Market, tuple[Optional[Level], Optional[Level]]] = {}

    def reset(self) -> None:
        self._l1.clear()

    def _parse(self, msg: Any, received_ns: int) -> list[ParsedEvent]:
        msg = obj(msg, "frame")
        topic = msg.get("topic")
        if topic is None:
            if msg.get("op") in ("subscribe", "ping", "pong", "unsubscribe") and msg.get("success", True) is True:
                return self.skip()
            raise Bad(f"answer {msg.get('op')!r} failed: {msg.get('ret_msg')!r}"[:300])
        if type(topic) is not str:
            raise Bad(f"topic must be a string, was {topic!r}"[:200])
        channel, _, rest = topic.partition(".")
        if channel in ("publicTrade", "trade"):  # "trade.<category>.<S>" in some client fixtures
            return [self._trade(obj(d, "data[]")) for d in array(msg["data"], "data")]
        if channel == "orderbook":
            return self._book(msg, rest.partition(".")[0])
        if channel == "kline":
            return self._klines(array(msg["data"], "data"), rest)
        if channel in ("allLiquidation", "liquidation"):
            data = msg["data"]
            return [self._liquidation(obj(d, "data[]")) for d in (data if type(data) is list else [data])]
        raise Bad(f"unknown topic {topic!r}"[:200])

    def _trade(self, d: dict[str, Any]) -> MarketEvent:
        side = _SIDES.get(d["S"])
        if side is None:
            raise Bad(f"S must be Buy or Sell, was {d['S']!r}"[:200])
        return MarketEvent(ms(d["T"], "T"), self.market(d["s"]), Trade(price(d["p"], "p"), amount(d["v"], "v"), side))

    def _book(self, msg: dict[str, Any], depth: str) -> list[ParsedEvent]:
        d = obj(msg["data"], "data")
        market, kind = self.market(d["s"]), msg["type"]
        bids, asks = levels(d["b"], "b"), levels(d["a"], "a")
        u, time_ns = integer(d, "u"), ms(msg.get("cts", msg["ts"]), "ts")
        if kind == "snapshot":
            book = market_event(time_ns, market, OrderBookL2Snapshot(u, bids, asks))
        elif kind == "delta":
            book = market_event(time_ns, market, OrderBookL2Update(u, u, None, bids, asks))
        else:
            raise Bad(f"type must be snapshot or delta, was {kind!r}"[:200])
        if depth != "1":
            return [book]
        return [book, *self._top(market, kind == "snapshot", bids, asks, time_ns)]

    def _top(self, market: Market, snapshot: bool, bids: tuple[Level, ...], asks: tuple[Level, ...],
             time_ns: int) -> list[ParsedEvent]:
        if snapshot:  # best first, as Bybit orders each side
            bid, ask = bids[0] if bids else None, asks[0] if asks else None
        else:
            bid, ask = self._l1.get(market, (None, None))
            bid, ask = _best(bid, bids), _best(ask, asks)
        self._l1[market] = (bid, ask)
        if bid is None or ask is None:
            return []
        return [market_event(time_ns, market, OrderBookL1(bid[0], bid[1], ask[0], ask[1]))]

    def _klines(self, data: list[Any], rest: str) -> list[ParsedEvent]:
        market = self.market(rest.partition(".")[2])
        out: list[ParsedEvent] = []
        for k in data:
            k = obj(k, "data[]")
            if k["confirm"] is not True and not self.partial_candles:
                self.ignored += 1
                continue
            candle = Candle(price(k["open"], "open"), price(k["high"], "high"), price(k["low"], "low"),
                            price(k["close"], "close"), size(k["volume"], "volume"))
            if not candle.low <= min(candle.open, candle.close) <= max(candle.open, candle.close) <= candle.high:
                raise Bad(f"candle {k!r} is not low <= open, close <= high"[:300])
            out.append(MarketEvent(ms(k["end"], "end"), market, candle))
        return out

    def _liquidation(self, d: dict[str, Any]) -> MarketEvent:
        side = _ORDER_SIDE_OF_POSITION.get(d["S"])
        if side is None:
            raise Bad(f"S must be Buy or Sell, was {d['S']!r}"[:200])
        return market_event(ms(d["T"], "T"), self.market(d["s"]), Liquidation(side, price(d["p"], "p"), size(d["v"], "v")))


def _best(current: Optional[Level], changes: tuple[Level, ...]) -> Optional[Level]:
    """The depth-1 level after ``changes`` (a size of 0 removes it)."""
    for p, s in changes:
        if s > 0.0:
            current = (p, s)
        elif current is not None and current[0] == p:
            current = None
    return current
