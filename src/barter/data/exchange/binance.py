"""Binance spot and USD-M futures: symbols, subscriptions and parsers to normalised events.

Channels (SEED.md section 7): public trades ``@trade`` (or ``@aggTrade``), L1 ``@bookTicker``,
L2 ``@depth@100ms`` (deltas sequenced by ``barter.data.book.SequencedBook``), candles ``@kline_1m``,
and on futures liquidations ``@forceOrder``. Frames come from the combined-stream endpoint
(``{"stream": .., "data": ..}``) or a plain one (the event alone); both parse the same.

Times: a trade at its trade time ``T``; a candle at its close time ``k.T`` (the last millisecond of
the bar, as Binance gives it); depth and futures book tickers at the transaction time ``T`` (else
the event time ``E``); spot book tickers carry no time and take the receive time.

A trade's side is the aggressor's: Binance's ``m`` (buyer is maker) means a SELL, as in the seed.
Futures trades not printed by the market (``X`` = ``LIQUIDATION``, ``INSURANCE_FUND``, ``ADL``) are
not public trades and are skipped; so are candles still open, unless ``partial_candles``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Literal, Mapping, Optional, Union

import msgspec
import orjson

from barter._core import jsonscan
from barter.data.event import Candle, MarketEvent, Trade
from barter.data.exchange import _binance_typed as typed
from barter.data.exchange.events import (FeedError, Level, Liquidation, OrderBookL1, OrderBookL2Snapshot,
                                         OrderBookL2Update, market_event, raw_text, slots_constructor)
from barter.data.exchange.subscription import SubKind, Subscription
from barter.errors import ConfigError
from barter.instrument import Instrument, InstrumentKind, Market, Side
from barter.integration.errors import SubscriptionRejected
from barter.integration.protocol import ExchangeConnection, Message, SubscriptionValidator

__all__ = ["BINANCE_FUTURES_USD", "BINANCE_SPOT", "BinanceConnection", "BinanceParser", "BinanceVenue",
           "BinanceValidator", "binance_symbol", "market_from_symbol", "parse_depth_snapshot", "stream_name"]

ParsedEvent = Union[MarketEvent, FeedError]

_INF = math.inf
_MS = 1_000_000  # ns per ms
_BUY, _SELL = Side.BUY, Side.SELL
_NONE = typed.NONE
_decode_trade, _decode_depth, _decode_book_ticker = typed.TRADE.decode, typed.DEPTH.decode, typed.BOOK_TICKER.decode
_scan_trade, _scan_depth = jsonscan.trade, jsonscan.depth_update
_STREAM = len('{"stream":"')  # where a combined-stream frame's stream name starts
_AT_BYTE = ord("@")  # a bytes frame's items are ints
# The typed path builds its events without the dataclasses' generated __init__ (compiled, see slots_constructor).
_new_event = slots_constructor(MarketEvent)
_new_trade = slots_constructor(Trade)
_new_l1 = slots_constructor(OrderBookL1)
_new_l2 = slots_constructor(OrderBookL2Update)


@dataclass(frozen=True, slots=True)
class BinanceVenue:
    """One Binance market-data venue.

    Attributes
    ----------
    exchange : str
        barter's exchange name (seed ``ExchangeId``): markets of this venue use it.
    ws_url : str
        Combined-stream WebSocket endpoint.
    depth_url : str
        REST order-book snapshot endpoint (``?symbol=..&limit=..``).
    rules : "spot" or "futures"
        L2 sequencing rules (``SequencedBook``).
    instrument_kind : InstrumentKind
    kinds : frozenset of SubKind
        What the venue publishes.
    """

    exchange: str
    ws_url: str
    depth_url: str
    rules: Literal["spot", "futures"]
    instrument_kind: InstrumentKind
    kinds: frozenset[SubKind]


BINANCE_SPOT = BinanceVenue(
    "binance", "wss://stream.binance.com:9443/stream", "https://api.binance.com/api/v3/depth", "spot",
    InstrumentKind.SPOT, frozenset({SubKind.PUBLIC_TRADES, SubKind.L1, SubKind.L2, SubKind.CANDLES}))
BINANCE_FUTURES_USD = BinanceVenue(
    "binance_futures_usd", "wss://fstream.binance.com/stream", "https://fapi.binance.com/fapi/v1/depth",
    "futures", InstrumentKind.PERPETUAL,
    frozenset({SubKind.PUBLIC_TRADES, SubKind.L1, SubKind.L2, SubKind.CANDLES, SubKind.LIQUIDATIONS}))

# Quote assets tried, longest first, when a symbol must be split without a known market.
QUOTES = ("FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USDP", "DAI", "BTC", "ETH", "BNB", "EUR", "GBP", "TRY",
          "BRL", "AUD", "JPY", "RUB", "UAH", "NGN", "ZAR", "PLN", "RON", "ARS", "MXN", "COP", "CZK", "IDR",
          "XRP", "TRX", "DOGE", "DOT", "BIDR", "BVND", "IDRT", "VAI", "PAX", "UST")
_QUOTES = sorted(QUOTES, key=len, reverse=True)


# ------------------------------------------------------------------------------------------------
# Instruments <-> symbols
# ------------------------------------------------------------------------------------------------
def binance_symbol(market: Union[Market, Instrument]) -> str:
    """``Market("binance", ("btc", "usdt"))`` -> ``"BTCUSDT"`` (spot and perpetuals alike)."""
    instrument = market.instrument if isinstance(market, Market) else market
    if instrument.kind not in (InstrumentKind.SPOT, InstrumentKind.PERPETUAL):
        raise ConfigError(f"binance: no symbol for {instrument} (only spot and perpetual instruments)")
    return f"{instrument.base}{instrument.quote}".upper()


def market_from_symbol(symbol: str, venue: BinanceVenue = BINANCE_SPOT) -> Market:
    """``"BTCUSDT"`` -> ``Market(venue.exchange, ("btc", "usdt", venue.instrument_kind))``, splitting
    on the known quote assets (``QUOTES``). Raises ``ConfigError`` if none ends the symbol."""
    upper = symbol.upper()
    for quote in _QUOTES:
        if upper.endswith(quote) and len(upper) > len(quote):
            return Market(venue.exchange, (upper[:-len(quote)], quote, venue.instrument_kind))
    raise ConfigError(f"binance: cannot split symbol {symbol!r} into base and quote")


def stream_name(sub: Subscription, *, trade_channel: str = "trade", candle_interval: str = "1m",
                venue: Optional[BinanceVenue] = None) -> str:
    """The stream of ``sub``, e.g. ``"btcusdt@depth@100ms"``."""
    if venue is not None:
        _check(venue, sub)
    symbol = binance_symbol(sub.market).lower()
    if sub.kind == SubKind.PUBLIC_TRADES:
        if trade_channel not in ("trade", "aggTrade"):
            raise ConfigError(f"binance: trade_channel must be 'trade' or 'aggTrade', was {trade_channel!r}")
        return f"{symbol}@{trade_channel}"
    if sub.kind == SubKind.L1:
        return f"{symbol}@bookTicker"
    if sub.kind == SubKind.L2:
        return f"{symbol}@depth@100ms"
    if sub.kind == SubKind.CANDLES:
        return f"{symbol}@kline_{candle_interval}"
    return f"{symbol}@forceOrder"


def _check(venue: BinanceVenue, sub: Subscription) -> None:
    if sub.market.exchange.name != venue.exchange:
        raise ConfigError(f"{venue.exchange}: subscription {sub} is for exchange {sub.market.exchange}")
    if sub.market.instrument.kind != venue.instrument_kind:
        raise ConfigError(f"{venue.exchange}: subscription {sub} is not {venue.instrument_kind}")
    if sub.kind not in venue.kinds:
        raise ConfigError(f"{venue.exchange}: does not publish {sub.kind} (subscription {sub})")


# ------------------------------------------------------------------------------------------------
# Subscribing
# ------------------------------------------------------------------------------------------------
class BinanceValidator(SubscriptionValidator):
    """Binance answers each ``SUBSCRIBE`` with ``{"result": null, "id": n}``; anything else with
    that id (``{"error": {...}}``, ``{"code": .., "msg": ..}``, a non-null ``result``) is a rejection."""

    def __init__(self, exchange: str, requests: Mapping[int, list[str]]) -> None:
        self.exchange = exchange
        self._waiting = dict(requests)

    @property
    def done(self) -> bool:
        return not self._waiting

    @property
    def pending(self) -> list[str]:
        return [f"id {i} ({', '.join(p)})" for i, p in self._waiting.items()]

    def check(self, raw: Message) -> bool:
        try:
            msg = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return False
        if type(msg) is not dict or "id" not in msg or "stream" in msg:
            return False
        ident = msg["id"]
        if ident not in self._waiting:
            return False
        params = self._waiting.pop(ident)
        error = msg.get("error")
        if error is None and "code" in msg:
            error = msg
        if error is not None or msg.get("result", 0) is not None:
            reason = (f"code {error.get('code')}: {error.get('msg')}" if isinstance(error, dict)
                      else f"unexpected answer {raw_text(raw)}")
            raise SubscriptionRejected(self.exchange, f"SUBSCRIBE id {ident} {params}", reason)
        return True


class BinanceConnection(ExchangeConnection):
    """Subscribe to ``subscriptions`` on ``venue``'s combined-stream endpoint.

    Binance pings at the protocol level every 20 s (spot) / 3 min (futures) and closes a connection
    that does not pong within a minute; ``websockets`` answers those pings. Requests carry at most
    ``batch`` streams each (Binance allows 1024 streams per connection and 5 requests per second;
    more subscriptions need more connections).
    """

    def __init__(self, subscriptions: Iterable[Subscription], venue: BinanceVenue = BINANCE_SPOT, *,
                 url: Optional[str] = None, trade_channel: str = "trade", candle_interval: str = "1m",
                 batch: int = 200) -> None:
        self.venue = venue
        self.exchange = venue.exchange
        self.url = url or venue.ws_url
        self.subscriptions = list(dict.fromkeys(subscriptions))
        if not self.subscriptions:
            raise ConfigError(f"{venue.exchange}: no subscriptions")
        if len(self.subscriptions) > 1024:
            raise ConfigError(f"{venue.exchange}: {len(self.subscriptions)} streams on one connection; Binance "
                              "allows 1024")
        if not 1 <= batch <= 1024:
            raise ConfigError(f"batch must be in [1, 1024], was {batch!r}")
        self.streams = [stream_name(s, trade_channel=trade_channel, candle_interval=candle_interval, venue=venue)
                        for s in self.subscriptions]
        self._batches = {i + 1: self.streams[k:k + batch] for i, k in enumerate(range(0, len(self.streams), batch))}

    def requests(self) -> list[Message]:
        return [orjson.dumps({"method": "SUBSCRIBE", "params": p, "id": i}).decode()
                for i, p in self._batches.items()]

    def validator(self) -> BinanceValidator:
        return BinanceValidator(self.exchange, self._batches)

    @property
    def markets(self) -> list[Market]:
        return list(dict.fromkeys(s.market for s in self.subscriptions))


# ------------------------------------------------------------------------------------------------
# Parsing
# ------------------------------------------------------------------------------------------------
class _Bad(Exception):
    """A field with a wrong value; its message names it."""


def _ms(value: Any, name: str) -> int:
    if type(value) is not int or value < 0:
        raise _Bad(f"{name} must be a non-negative integer (ms), was {value!r}")
    return value * _MS


def _price(data: Mapping[str, Any], key: str) -> float:
    value = float(data[key])
    if not 0.0 < value < _INF:
        raise _Bad(f"{key} must be a finite price > 0, was {data[key]!r}")
    return value


def _amount(data: Mapping[str, Any], key: str) -> float:
    """A trade's size: a trade of nothing (0, or a size that underflows to 0) is bad data."""
    value = float(data[key])
    if not 0.0 < value < _INF:
        raise _Bad(f"{key} must be a finite amount > 0, was {data[key]!r}")
    return value


def _size(data: Mapping[str, Any], key: str) -> float:
    value = float(data[key])
    if not 0.0 <= value < _INF:
        raise _Bad(f"{key} must be a finite size >= 0, was {data[key]!r}")
    return value


def _levels(rows: Any, name: str) -> tuple[Level, ...]:
    if type(rows) is not list:
        raise _Bad(f"{name} must be a list of [price, size], was {rows!r}"[:200])
    out = tuple([(float(p), float(q)) for p, q in rows])
    for p, q in out:
        if not (0.0 < p < _INF and 0.0 <= q < _INF):
            raise _Bad(f"{name} level [{p!r}, {q!r}] must have a finite price > 0 and size >= 0")
    return out


def _update_id(data: Mapping[str, Any], key: str) -> int:
    value = data[key]
    if type(value) is not int or value < 0:
        raise _Bad(f"{key} must be a non-negative integer update id, was {value!r}")
    return value


class BinanceParser:
    """Raw Binance frames to normalised events, for the ``markets`` subscribed to.

    ``parse`` never raises: a frame that is not JSON, not a known event, for an unknown symbol or
    with a bad field gives a ``FeedError`` holding the raw text; subscription answers give nothing.
    Combined-stream trades, depth diffs and book tickers are decoded first by typed msgspec structs
    (``_binance_typed``); any frame those do not fit takes the generic path, which names the fault.

    Parameters
    ----------
    markets : iterable of Market
        The markets whose frames to parse (their symbols are looked up per frame).
    venue : BinanceVenue
    partial_candles : bool
        Also emit candles still open (every kline update), not only closed ones.

    Attributes
    ----------
    frames, errors, ignored : int
        Frames parsed, reported as ``FeedError``, and skipped on purpose (answers, open candles,
        non-market trades).
    """

    def __init__(self, markets: Iterable[Market], venue: BinanceVenue = BINANCE_SPOT, *,
                 partial_candles: bool = False) -> None:
        self.venue = venue
        self.exchange = venue.exchange
        self.partial_candles = partial_candles
        self.markets: dict[str, Market] = {}
        for market in markets:
            if market.exchange.name != venue.exchange or market.instrument.kind != venue.instrument_kind:
                raise ConfigError(f"{venue.exchange}: cannot parse frames of {market!r} (need exchange "
                                  f"{venue.exchange!r}, kind {venue.instrument_kind})")
            self.markets[binance_symbol(market)] = market
        self.frames = self.errors = self.ignored = 0
        # Depth diffs and market trades in Binance's plain form: read and built in one compiled call.
        self._read = jsonscan.BinanceReader(self.markets, _new_event, _new_trade, _new_l2, _BUY, _SELL).read
        self._handlers: dict[str, Callable[[dict[str, Any], int], list[ParsedEvent]]] = {
            "trade": self._trade, "aggTrade": self._trade, "depthUpdate": self._depth,
            "bookTicker": self._book_ticker, "kline": self._kline, "forceOrder": self._liquidation}
        # The first letter of the channel in the stream name (an int in bytes) -> the typed decoder to try.
        fast = {"a": self._typed_trade, "t": self._typed_trade, "d": self._typed_depth, "b": self._typed_book_ticker}
        self._typed: dict[Union[str, int], Callable[[Union[str, bytes], int], Optional[list[ParsedEvent]]]] = {}
        for letter, decode in fast.items():
            self._typed[letter] = self._typed[ord(letter)] = decode
        # Where the "@" after the symbol can be in a combined-stream frame: reading those few
        # characters is cheaper than a str.find call (its arguments go through a tuple).
        self._ats = sorted({_STREAM + len(symbol) for symbol in self.markets})
        self._min_len = max(self._ats, default=0) + 2

    def parse(self, raw: Union[str, bytes], received_ns: int = 0) -> list[ParsedEvent]:
        """The events in one frame (usually one; none for answers and skipped frames)."""
        self.frames += 1
        events = self._read(raw)
        if events is not None:
            return events
        # A combined-stream frame starts '{"stream":"<symbol>@<channel>'. Any other frame, or one
        # for another symbol, has no "@" where a known symbol would end it, or fails the typed
        # decoder, and takes the generic path: the dispatch only chooses what to try first.
        decode = None
        kind = type(raw)
        if (kind is str or kind is bytes) and len(raw) >= self._min_len:
            at_sign = "@" if kind is str else _AT_BYTE
            for at in self._ats:
                if raw[at] == at_sign:
                    decode = self._typed.get(raw[at + 1])
                    break
        if decode is not None:
            try:
                events = decode(raw, received_ns)
            except (msgspec.DecodeError, ValueError):  # not the struct's shape (ValueError: bad UTF-8)
                events = None
            if events is not None:
                return events
        return self._parse_generic(raw, received_ns)

    def _parse_generic(self, raw: Union[str, bytes], received_ns: int) -> list[ParsedEvent]:
        try:
            msg = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            return [self._error(f"not JSON: {e}", raw, received_ns)]
        try:
            if type(msg) is not dict:
                raise _Bad(f"expected a JSON object, got {type(msg).__name__}")
            data = msg.get("data", msg)
            if type(data) is not dict:
                raise _Bad(f"data must be an object, got {type(data).__name__}")
            kind = data.get("e")
            handler = self._handlers.get(kind) if type(kind) is str else None
            if handler is not None:
                return handler(data, received_ns)
            if kind is None:
                if "u" in data and "b" in data and "A" in data:  # spot bookTicker: no "e"
                    return self._book_ticker(data, received_ns)
                if "id" in data and ("result" in data or "error" in data or "code" in data):
                    if data.get("result", 0) is None:  # an answer to a request: not market data
                        self.ignored += 1
                        return []
                    raise _Bad(f"error answer to request id {data['id']!r}")
            raise _Bad(f"unknown event type {kind!r}"[:200])
        except _Bad as e:
            return [self._error(str(e), raw, received_ns)]
        except KeyError as e:
            return [self._error(f"missing field {e}", raw, received_ns)]
        except (TypeError, ValueError, AttributeError, IndexError, OverflowError) as e:
            return [self._error(f"bad field: {type(e).__name__}: {e}"[:300], raw, received_ns)]

    def _error(self, reason: str, raw: Union[str, bytes], received_ns: int) -> FeedError:
        self.errors += 1
        return FeedError(self.exchange, reason, raw_text(raw), received_ns)

    def _market(self, data: Mapping[str, Any]) -> Market:
        symbol = data["s"]
        market = self.markets.get(symbol) if type(symbol) is str else None
        if market is None:
            raise _Bad(f"unknown symbol {symbol!r}"[:200])
        return market

    # -- typed decoding: None where the generic path must decide (it skips, or names the fault) --

    # The compiled readers (``_core.jsonscan``) take the plain frames Binance sends and give what
    # msgspec would; any other frame (None) is decoded by msgspec.

    def _typed_trade(self, raw: Union[str, bytes], received_ns: int) -> Optional[list[ParsedEvent]]:
        fields = _scan_trade(raw)
        if fields is None:
            d = _decode_trade(raw).data
            if d.X != "MARKET":
                return None
            fields = d.s, d.p, d.q, d.T, d.m
        symbol, price, qty, time_ms, maker = fields
        market = self.markets.get(symbol)
        if market is None:
            return None
        return [_new_event(time_ms * _MS, market, _new_trade(price, qty, _SELL if maker else _BUY))]

    def _typed_depth(self, raw: Union[str, bytes], received_ns: int) -> Optional[list[ParsedEvent]]:
        fields = _scan_depth(raw)
        if fields is None:
            d = _decode_depth(raw).data
            fields = d.s, d.U, d.u, d.E, d.T, d.pu, d.b, d.a
        symbol, first, last, event_ms, time_ms, prev, bids, asks = fields
        market = self.markets.get(symbol)
        if time_ms == _NONE:
            time_ms = event_ms
        if market is None or time_ms == _NONE or first > last:
            return None
        update = _new_l2(first, last, None if prev == _NONE else prev, bids, asks, None)
        return [_new_event(time_ms * _MS, market, update)]

    def _typed_book_ticker(self, raw: Union[str, bytes], received_ns: int) -> Optional[list[ParsedEvent]]:
        d = _decode_book_ticker(raw).data
        market = self.markets.get(d.s)
        if market is None:
            return None
        time_ms = d.T if d.T != _NONE else d.E
        time_ns = received_ns if time_ms == _NONE else time_ms * _MS
        return [_new_event(time_ns, market, _new_l1(d.b, d.B, d.a, d.A, d.u))]

    # -- generic decoding of one event's dict --

    def _trade(self, d: dict[str, Any], received_ns: int) -> list[ParsedEvent]:
        x = d.get("X")
        if x is not None and x != "MARKET":
            self.ignored += 1
            return []
        maker = d["m"]
        if type(maker) is not bool:
            raise _Bad(f"m must be a bool, was {maker!r}"[:200])
        trade = Trade(_price(d, "p"), _amount(d, "q"), Side.SELL if maker else Side.BUY)
        return [MarketEvent(_ms(d["T"], "T"), self._market(d), trade)]

    def _kline(self, d: dict[str, Any], received_ns: int) -> list[ParsedEvent]:
        k = d["k"]
        closed = k["x"]
        if type(closed) is not bool:
            raise _Bad(f"k.x must be a bool, was {closed!r}"[:200])
        market = self._market(d)
        if not closed and not self.partial_candles:
            self.ignored += 1
            return []
        candle = Candle(_price(k, "o"), _price(k, "h"), _price(k, "l"), _price(k, "c"), _size(k, "v"))
        if not candle.low <= min(candle.open, candle.close) <= max(candle.open, candle.close) <= candle.high:
            raise _Bad(f"candle o={candle.open!r} h={candle.high!r} l={candle.low!r} c={candle.close!r} "
                       "is not low <= open, close <= high")
        return [MarketEvent(_ms(k["T"], "k.T"), market, candle)]

    def _book_ticker(self, d: dict[str, Any], received_ns: int) -> list[ParsedEvent]:
        t = d.get("T", d.get("E"))
        time_ns = received_ns if t is None else _ms(t, "T")
        l1 = OrderBookL1(_price(d, "b"), _size(d, "B"), _price(d, "a"), _size(d, "A"), _update_id(d, "u"))
        return [market_event(time_ns, self._market(d), l1)]

    def _depth(self, d: dict[str, Any], received_ns: int) -> list[ParsedEvent]:
        first, last = _update_id(d, "U"), _update_id(d, "u")
        if first > last:
            raise _Bad(f"U={first} is after u={last}")
        pu = d.get("pu")
        if pu is not None:
            pu = _update_id(d, "pu")
        update = OrderBookL2Update(first, last, pu, _levels(d["b"], "b"), _levels(d["a"], "a"))
        return [market_event(_ms(d.get("T", d.get("E")), "T"), self._market(d), update)]

    def _liquidation(self, d: dict[str, Any], received_ns: int) -> list[ParsedEvent]:
        o = d["o"]
        side = {"BUY": Side.BUY, "SELL": Side.SELL}.get(o["S"]) if type(o["S"]) is str else None
        if side is None:
            raise _Bad(f"o.S must be BUY or SELL, was {o['S']!r}"[:200])
        liquidation = Liquidation(side, _price(o, "p"), _size(o, "q"))
        return [market_event(_ms(o["T"], "o.T"), self._market(o), liquidation)]


def depth_snapshot_time_ns(body: Union[str, bytes, Mapping[str, Any]]) -> Optional[int]:
    """The exchange's time of a depth snapshot response (UNIX ns, UTC), as its diffs are stamped:
    ``T`` (transaction time), else ``E`` (futures); None when it carries neither (spot)."""
    from barter.errors import DataError

    data = orjson.loads(body) if isinstance(body, (str, bytes)) else body
    t = data.get("T", data.get("E")) if isinstance(data, Mapping) else None
    try:
        return None if t is None else _ms(t, "T")
    except _Bad as e:
        raise DataError(f"binance depth snapshot: {e}") from e


def parse_depth_snapshot(body: Union[str, bytes, Mapping[str, Any]]) -> OrderBookL2Snapshot:
    """A ``GET /api/v3/depth`` (spot) or ``/fapi/v1/depth`` (futures) response body. Raises
    ``barter.errors.DataError`` naming the bad field."""
    from barter.errors import DataError

    try:
        data = orjson.loads(body) if isinstance(body, (str, bytes)) else body
        return OrderBookL2Snapshot(_update_id(data, "lastUpdateId"), _levels(data["bids"], "bids"),
                                   _levels(data["asks"], "asks"))
    except (_Bad, KeyError, TypeError, ValueError) as e:
        raise DataError(f"binance depth snapshot: {e}") from e
