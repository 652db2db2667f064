"""Kraken spot: symbols, subscriptions and parsers for WebSocket API v2 (current) and v1 frames.

v2 channels: ``trade`` (side is the taker's), ``ticker`` with ``event_trigger: bbo`` (L1), ``book``
(L2 snapshot then updates, each with a CRC32 ``checksum`` of the top 10 levels, checked by
``barter.data.exchange.books``) and ``ohlc`` (candles). v2 sends prices as JSON numbers, so its
checksum needs the pair's decimals: pass ``precision={market: (price_decimals, qty_decimals)}``
(from the ``instrument`` channel or ``/0/public/AssetPairs``); without them the checksum is skipped.

v1 frames (arrays ``[channelID, payload.., channelName, pair]``, as in the recordings) parse too:
trades, tickers (L1), ``book-N`` (decimals learned from the snapshot's text, checksum ``c``) and
``ohlc-N``. Kraken publishes no liquidations.

A candle is emitted once closed: when the next interval's first update arrives (or every update
with ``partial_candles``), timed at its last millisecond like Binance's. Kraken's ``XBT``/``XDG``
(v1) are barter's ``btc``/``doge``.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Union

from barter.data.event import Candle, MarketEvent, Trade
from barter.data.exchange._connection import JsonConnection, check_kinds, rejected
from barter.data.exchange._fields import (Bad, FrameParser, MS, ParsedEvent, amount, array, decimals, iso_ns, levels,
                                          number, obj, price, seconds, size, symbol_map)
from barter.data.exchange.events import OrderBookL1, OrderBookL2Snapshot, OrderBookL2Update, market_event
from barter.data.exchange.subscription import SubKind, Subscription
from barter.errors import ConfigError
from barter.instrument import Instrument, InstrumentKind, Market, Side

__all__ = ["KRAKEN", "KRAKEN_URL", "KrakenConnection", "KrakenParser", "kraken_market", "kraken_symbol"]

KRAKEN = "kraken"
KRAKEN_URL = "wss://ws.kraken.com/v2"
KRAKEN_V1_URL = "wss://ws.kraken.com"
KINDS = frozenset({SubKind.PUBLIC_TRADES, SubKind.L1, SubKind.L2, SubKind.CANDLES})
BOOK_DEPTHS = (10, 25, 100, 500, 1000)
_V1_ALIASES = {"btc": "XBT", "doge": "XDG"}
_FROM_V1 = {v: k for k, v in _V1_ALIASES.items()}
_SIDES = {"buy": Side.BUY, "sell": Side.SELL, "b": Side.BUY, "s": Side.SELL}


def kraken_symbol(market: Union[Market, Instrument], version: int = 2) -> str:
    """``btc/usd`` -> ``"BTC/USD"`` (v2) or ``"XBT/USD"`` (v1)."""
    i = market.instrument if isinstance(market, Market) else market
    if i.kind != InstrumentKind.SPOT:
        raise ConfigError(f"kraken: {i} is not spot (Kraken futures is another venue)")
    if version == 1:
        return f"{_V1_ALIASES.get(i.base, i.base.upper())}/{_V1_ALIASES.get(i.quote, i.quote.upper())}"
    return f"{i.base}/{i.quote}".upper()


def kraken_market(symbol: str) -> Market:
    """``"BTC/USD"`` or ``"XBT/USD"`` -> ``Market("kraken", ("btc", "usd"))``."""
    base, sep, quote = symbol.partition("/")
    if not sep or not base or not quote or "/" in quote:
        raise ConfigError(f"kraken: cannot read pair {symbol!r} (expected BASE/QUOTE)")
    return Market(KRAKEN, (_FROM_V1.get(base, base), _FROM_V1.get(quote, quote), InstrumentKind.SPOT))


class KrakenConnection(JsonConnection):
    """Subscribe on v2 (default) or v1; one request per channel, acknowledged per symbol."""

    def __init__(self, subscriptions: Iterable[Subscription], *, version: int = 2, url: Optional[str] = None,
                 book_depth: int = 10, candle_minutes: int = 1) -> None:
        if book_depth not in BOOK_DEPTHS:
            raise ConfigError(f"kraken: book_depth must be one of {BOOK_DEPTHS}, was {book_depth!r}")
        if version not in (1, 2):
            raise ConfigError(f"kraken: version must be 1 or 2, was {version!r}")
        subs = list(dict.fromkeys(subscriptions))
        by_kind: dict[SubKind, list[str]] = {}
        for sub in subs:
            check_kinds(KRAKEN, sub, KINDS)
            by_kind.setdefault(sub.kind, []).append(kraken_symbol(sub.market, version))
        requests, expected = [], []
        for n, (kind, symbols) in enumerate(by_kind.items(), 1):
            request, name = (_v2_request if version == 2 else _v1_request)(kind, symbols, book_depth, candle_minutes)
            requests.append({**request, "req_id": n} if version == 2 else {**request, "reqid": n})
            expected += [f"{name}:{s}" for s in symbols]
        super().__init__(KRAKEN, url or (KRAKEN_URL if version == 2 else KRAKEN_V1_URL), subs, requests, expected,
                         _classify)


def _v2_request(kind: SubKind, symbols: list[str], depth: int, minutes: int) -> tuple[dict[str, Any], str]:
    params: dict[str, Any] = {"channel": {SubKind.PUBLIC_TRADES: "trade", SubKind.L1: "ticker", SubKind.L2: "book",
                                          SubKind.CANDLES: "ohlc"}[kind], "symbol": symbols}
    if kind == SubKind.L1:
        params["event_trigger"] = "bbo"
    elif kind == SubKind.L2:
        params["depth"] = depth
    elif kind == SubKind.CANDLES:
        params["interval"] = minutes
    return {"method": "subscribe", "params": params}, params["channel"]


def _v1_request(kind: SubKind, symbols: list[str], depth: int, minutes: int) -> tuple[dict[str, Any], str]:
    sub: dict[str, Any] = {"name": {SubKind.PUBLIC_TRADES: "trade", SubKind.L1: "ticker", SubKind.L2: "book",
                                    SubKind.CANDLES: "ohlc"}[kind]}
    if kind == SubKind.L2:
        sub["depth"] = depth
    elif kind == SubKind.CANDLES:
        sub["interval"] = minutes
    return {"event": "subscribe", "pair": symbols, "subscription": sub}, sub["name"]


def _classify(msg: Any, raw: str) -> Optional[str]:
    if type(msg) is not dict:
        return None
    if msg.get("method") == "subscribe":  # v2
        if msg.get("success") is not True:
            raise rejected(KRAKEN, f"req_id {msg.get('req_id')}", msg.get("error", raw))
        result = msg.get("result") or {}
        return f"{result.get('channel')}:{result.get('symbol')}"
    if msg.get("event") == "subscriptionStatus":  # v1
        if msg.get("status") != "subscribed":
            raise rejected(KRAKEN, f"{msg.get('pair')}", msg.get("errorMessage", raw))
        return f"{(msg.get('subscription') or {}).get('name')}:{msg.get('pair')}"
    return None


class KrakenParser(FrameParser):
    """Raw Kraken v2 (and v1) frames to normalised events (``parse`` never raises).

    Parameters
    ----------
    markets : iterable of Market, or mapping of pair to Market
        Both the v2 (``BTC/USD``) and v1 (``XBT/USD``) pair names are recognised.
    precision : mapping of Market to (int, int), optional
        Price and quantity decimals per market, for the v2 book checksum.
    book_depth : int
        The subscribed v2 book depth (v1 frames name theirs).
    partial_candles : bool
    """

    def __init__(self, markets: Union[Iterable[Market], Mapping[str, Market]], *,
                 precision: Optional[Mapping[Market, tuple[int, int]]] = None, book_depth: int = 10,
                 partial_candles: bool = False) -> None:
        by_symbol = symbol_map(markets, KRAKEN, (InstrumentKind.SPOT,), kraken_symbol)
        for market in list(by_symbol.values()):
            by_symbol.setdefault(kraken_symbol(market, 1), market)
        super().__init__(KRAKEN, by_symbol)
        self.precision = dict(precision or {})
        self.book_depth = book_depth
        self.partial_candles = partial_candles
        self._candles: dict[Market, tuple[int, Candle]] = {}

    def reset(self) -> None:
        self._candles.clear()

    def _parse(self, msg: Any, received_ns: int) -> list[ParsedEvent]:
        if type(msg) is list:
            return self._v1(msg, received_ns)
        msg = obj(msg, "frame")
        channel = msg.get("channel")
        if channel is None:
            return self._answer(msg, "method")
        if channel in ("heartbeat", "status"):
            return self.skip()
        data = array(msg["data"], "data")
        if channel == "trade":
            return [self._trade(obj(d, "data[]")) for d in data]
        if channel == "ticker":
            return [self._ticker(obj(d, "data[]"), received_ns) for d in data]
        if channel == "book":
            return [self._book(msg["type"], obj(d, "data[]"), received_ns) for d in data]
        if channel == "ohlc":
            return [e for d in data for e in self._ohlc(obj(d, "data[]"))]
        raise Bad(f"unknown channel {channel!r}"[:200])

    def _answer(self, msg: dict[str, Any], key: str) -> list[ParsedEvent]:
        if msg.get("success") is False or msg.get("status") == "error" or msg.get("event") == "error":
            raise Bad(f"error answer: {msg.get('error', msg.get('errorMessage'))!r}"[:300])
        if key in msg or "event" in msg:
            return self.skip()
        raise Bad("frame has neither channel nor method")

    # -- v2 ----------------------------------------------------------------------------------------

    def _trade(self, d: dict[str, Any]) -> MarketEvent:
        side = _SIDES.get(d["side"])
        if side is None or len(str(d["side"])) == 1:
            raise Bad(f"side must be buy or sell, was {d['side']!r}"[:200])
        trade = Trade(price(d["price"], "price"), amount(d["qty"], "qty"), side)
        return MarketEvent(iso_ns(d["timestamp"], "timestamp"), self.market(d["symbol"]), trade)

    def _ticker(self, d: dict[str, Any], received_ns: int) -> MarketEvent:
        l1 = OrderBookL1(price(d["bid"], "bid"), size(d["bid_qty"], "bid_qty"), price(d["ask"], "ask"),
                         size(d["ask_qty"], "ask_qty"))
        time_ns = iso_ns(d["timestamp"], "timestamp") if "timestamp" in d else received_ns
        return market_event(time_ns, self.market(d["symbol"]), l1)

    def _book(self, kind: Any, d: dict[str, Any], received_ns: int) -> MarketEvent:
        market = self.market(d["symbol"])
        bids, asks = _v2_levels(d["bids"], "bids"), _v2_levels(d["asks"], "asks")
        checksum = d.get("checksum")
        if checksum is not None and (type(checksum) is not int or not 0 <= checksum < 1 << 32):
            raise Bad(f"checksum must be an unsigned 32-bit integer, was {checksum!r}"[:200])
        if self.precision.get(market) is None:
            checksum = None  # cannot be checked without the pair's decimals
        time_ns = iso_ns(d["timestamp"], "timestamp") if "timestamp" in d else received_ns
        if kind == "snapshot":
            snap = OrderBookL2Snapshot(0, bids, asks, checksum, self.precision.get(market), self.book_depth)
            return market_event(time_ns, market, snap)
        if kind != "update":
            raise Bad(f"book type must be snapshot or update, was {kind!r}"[:200])
        return market_event(time_ns, market, OrderBookL2Update(0, 0, None, bids, asks, checksum))

    def _ohlc(self, d: dict[str, Any]) -> list[ParsedEvent]:
        minutes = d["interval"]
        if type(minutes) is not int or minutes <= 0:
            raise Bad(f"interval must be minutes > 0, was {minutes!r}"[:200])
        start = iso_ns(d["interval_begin"], "interval_begin")
        candle = _candle(d["open"], d["high"], d["low"], d["close"], d["volume"])
        return self._candle(self.market(d["symbol"]), start + minutes * 60_000 * MS - MS, candle)

    def _candle(self, market: Market, close_ns: int, candle: Candle) -> list[ParsedEvent]:
        if self.partial_candles:
            return [MarketEvent(close_ns, market, candle)]
        previous = self._candles.get(market)
        self._candles[market] = (close_ns, candle)
        if previous is None or previous[0] >= close_ns:  # still the same (or an older) interval
            self.ignored += 1
            return []
        return [MarketEvent(previous[0], market, previous[1])]

    # -- v1 ----------------------------------------------------------------------------------------

    def _v1(self, msg: list[Any], received_ns: int) -> list[ParsedEvent]:
        if len(msg) < 4 or type(msg[-2]) is not str:
            raise Bad(f"v1 frame must be [channelID, payload.., channelName, pair], has {len(msg)} items")
        name, market = msg[-2], self.market(msg[-1])
        payloads = msg[1:-2]
        if name == "trade":
            return [self._v1_trade(market, array(row, "trade")) for row in array(payloads[0], "trades")]
        if name == "ticker":
            d = obj(payloads[0], "ticker")
            l1 = OrderBookL1(price(d["b"][0], "b"), size(d["b"][2], "b"), price(d["a"][0], "a"), size(d["a"][2], "a"))
            return [market_event(received_ns, market, l1)]
        if name.startswith("book-"):
            return [self._v1_book(market, [obj(p, "book") for p in payloads], int(name[5:]))]
        if name.startswith("ohlc-"):
            row = array(payloads[0], "ohlc")
            return self._candle(market, seconds(row[1], "etime") - MS, _candle(row[2], row[3], row[4], row[5], row[7]))
        raise Bad(f"unknown v1 channel {name!r}"[:200])

    def _v1_trade(self, market: Market, row: list[Any]) -> MarketEvent:
        side = _SIDES.get(row[3])
        if side is None or row[3] not in ("b", "s"):
            raise Bad(f"trade side must be b or s, was {row[3]!r}"[:200])
        return MarketEvent(seconds(row[2], "time"), market, Trade(price(row[0], "price"), amount(row[1], "volume"), side))

    def _v1_book(self, market: Market, parts: list[dict[str, Any]], depth: int) -> MarketEvent:
        if "as" in parts[0] or "bs" in parts[0]:
            d = parts[0]
            bids, asks = levels(d.get("bs", []), "bs"), levels(d.get("as", []), "as")
            first = array(d.get("as") or d.get("bs"), "snapshot levels")[0]
            snap = OrderBookL2Snapshot(0, bids, asks, None, (decimals(first[0]), decimals(first[1])), depth)
            return market_event(_v1_time(d.get("as", []) + d.get("bs", [])), market, snap)
        new_bids: tuple[tuple[float, float], ...] = ()
        new_asks: tuple[tuple[float, float], ...] = ()
        checksum, rows = None, []
        for d in parts:
            new_bids += levels(d.get("b", []), "b")
            new_asks += levels(d.get("a", []), "a")
            rows += d.get("a", []) + d.get("b", [])
            if "c" in d:
                checksum = int(number(d["c"], "c"))
        if not rows:
            raise Bad("v1 book update has neither a nor b")
        return market_event(_v1_time(rows), market, OrderBookL2Update(0, 0, None, new_bids, new_asks, checksum))


def _v1_time(rows: list[Any]) -> int:
    return max(seconds(row[2], "level time") for row in rows) if rows else 0


def _v2_levels(rows: Any, name: str) -> tuple[tuple[float, float], ...]:
    return tuple((price(obj(r, name)["price"], name), size(r["qty"], name)) for r in array(rows, name))


def _candle(o: Any, h: Any, low: Any, c: Any, v: Any) -> Candle:
    candle = Candle(price(o, "open"), price(h, "high"), price(low, "low"), price(c, "close"), size(v, "volume"))
    if not candle.low <= min(candle.open, candle.close) <= max(candle.open, candle.close) <= candle.high:
        raise Bad(f"candle o={o!r} h={h!r} l={low!r} c={c!r} is not low <= open, close <= high")
    return candle
