"""OKX (API v5 public WebSocket): symbols, subscriptions and parsers to normalised events.

Channels: ``trades`` (public trades; ``side`` is the taker's), ``bbo-tbt`` (L1; ``tickers``
frames also parse to L1), ``books`` (L2: a snapshot, then updates carrying ``seqId`` /
``prevSeqId`` and a CRC32 ``checksum`` of the top 25 levels, checked by
``barter.data.exchange.books``), ``candle<bar>`` (candles, timed at their last millisecond like
Binance's) and ``liquidation-orders`` (per instrument type; filtered to the subscribed markets).

Instrument ids: spot ``BTC-USDT``, perpetual swaps ``BTC-USDT-SWAP``; futures carry an expiry
(``BTC-USD-220527``) that ``Instrument`` does not, so pass them as ``{inst_id: market}``.
Sizes are as OKX sends them: base units on spot, contracts on swaps and futures.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Union

from barter.data.event import Candle, MarketEvent, Trade
from barter.data.exchange._connection import JsonConnection, check_kinds, rejected
from barter.data.exchange._fields import (Bad, FrameParser, ParsedEvent, amount, array, integer, levels, ms, obj,
                                          price, size, symbol_map)
from barter.data.exchange.events import Liquidation, OrderBookL1, OrderBookL2Snapshot, OrderBookL2Update, market_event
from barter.data.exchange.subscription import SubKind, Subscription
from barter.errors import ConfigError
from barter.instrument import Instrument, InstrumentKind, Market, Side

__all__ = ["OKX", "OKX_URL", "OkxConnection", "OkxParser", "okx_market", "okx_symbol"]

OKX = "okx"
OKX_URL = "wss://ws.okx.com:8443/ws/v5/public"
KINDS = frozenset(SubKind)
_INSTRUMENT_KINDS = (InstrumentKind.SPOT, InstrumentKind.PERPETUAL, InstrumentKind.FUTURE, InstrumentKind.OPTION)
_UNIT_MS = {"m": 60_000, "H": 3_600_000, "D": 86_400_000, "W": 604_800_000}
_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_INST_TYPE = {InstrumentKind.PERPETUAL: "SWAP", InstrumentKind.FUTURE: "FUTURES"}


def okx_symbol(market: Union[Market, Instrument]) -> str:
    """``btc/usdt`` spot -> ``"BTC-USDT"``; perpetual -> ``"BTC-USDT-SWAP"``."""
    instrument = market.instrument if isinstance(market, Market) else market
    pair = f"{instrument.base}-{instrument.quote}".upper()
    if instrument.kind == InstrumentKind.SPOT:
        return pair
    if instrument.kind == InstrumentKind.PERPETUAL:
        return f"{pair}-SWAP"
    raise ConfigError(f"okx: the instrument id of {instrument} holds an expiry; pass {{inst_id: market}}")


def okx_market(inst_id: str) -> Market:
    """``"BTC-USDT"`` -> spot, ``"BTC-USDT-SWAP"`` -> perpetual, ``"BTC-USD-220527"`` -> future."""
    parts = inst_id.split("-")
    if len(parts) == 2 and all(parts):
        return Market(OKX, (parts[0], parts[1], InstrumentKind.SPOT))
    if len(parts) == 3 and parts[0] and parts[1]:
        if parts[2] == "SWAP":
            return Market(OKX, (parts[0], parts[1], InstrumentKind.PERPETUAL))
        if len(parts[2]) == 6 and parts[2].isdigit():
            return Market(OKX, (parts[0], parts[1], InstrumentKind.FUTURE))
    raise ConfigError(f"okx: cannot read instrument id {inst_id!r}")


def candle_ms(bar: str) -> int:
    """``"1m"`` -> 60000, ``"4H"`` -> 14400000 (``utc`` suffixes allowed)."""
    head = bar[:-3] if bar.endswith("utc") else bar
    count, unit = head[:-1], head[-1:]
    if not count.isdigit() or unit not in _UNIT_MS:
        raise ConfigError(f"okx: unsupported candle bar {bar!r} (use e.g. 1m, 15m, 1H, 1D, 1W)")
    return int(count) * _UNIT_MS[unit]


class OkxConnection(JsonConnection):
    """Subscribe to ``subscriptions``; OKX closes a connection idle for 30 s, so the text ``ping``
    goes out every 20 s (its ``pong`` is skipped by the parser)."""

    def __init__(self, subscriptions: Iterable[Subscription], *, symbols: Optional[Mapping[Market, str]] = None,
                 url: str = OKX_URL, candle_bar: str = "1m", l1_channel: str = "bbo-tbt") -> None:
        candle_ms(candle_bar)
        subs = list(dict.fromkeys(subscriptions))
        args: list[dict[str, str]] = []
        for sub in subs:
            check_kinds(OKX, sub, KINDS)
            inst = (symbols or {}).get(sub.market) or okx_symbol(sub.market)
            if sub.kind == SubKind.LIQUIDATIONS:
                inst_type = _INST_TYPE.get(sub.market.instrument.kind)
                if inst_type is None:
                    raise ConfigError(f"okx: no liquidations for {sub.market} (swaps and futures only)")
                arg = {"channel": "liquidation-orders", "instType": inst_type}
            else:
                channel = {SubKind.PUBLIC_TRADES: "trades", SubKind.L1: l1_channel, SubKind.L2: "books",
                           SubKind.CANDLES: f"candle{candle_bar}"}[sub.kind]
                arg = {"channel": channel, "instId": inst}
            if arg not in args:
                args.append(arg)
        super().__init__(OKX, url, subs, [{"op": "subscribe", "args": args}], [_key(a) for a in args], _classify,
                         heartbeat="ping", heartbeat_s=20.0)


def _key(arg: Mapping[str, Any]) -> str:
    return f"{arg.get('channel')}:{arg.get('instId', arg.get('instType'))}"


def _classify(msg: Any, raw: str) -> Optional[str]:
    if type(msg) is not dict or "event" not in msg:
        return None
    if msg["event"] == "subscribe":
        return _key(msg.get("arg") or {})
    if msg["event"] == "error":
        raise rejected(OKX, "subscribe", f"code {msg.get('code')}: {msg.get('msg')}")
    return None


class OkxParser(FrameParser):
    """Raw OKX v5 public frames to normalised events (``parse`` never raises).

    Parameters
    ----------
    markets : iterable of Market, or mapping of instrument id to Market
    partial_candles : bool
        Also emit candles still open (``confirm`` = "0").
    """

    def __init__(self, markets: Union[Iterable[Market], Mapping[str, Market]], *, partial_candles: bool = False) -> None:
        super().__init__(OKX, symbol_map(markets, OKX, _INSTRUMENT_KINDS, okx_symbol))
        self.partial_candles = partial_candles

    def _not_json(self, raw: Union[str, bytes], received_ns: int, e: Exception) -> list[ParsedEvent]:
        if raw in ("pong", b"pong"):
            return self.skip()
        return super()._not_json(raw, received_ns, e)

    def _parse(self, msg: Any, received_ns: int) -> list[ParsedEvent]:
        msg = obj(msg, "frame")
        if "event" in msg:
            if msg["event"] in ("subscribe", "unsubscribe", "channel-conn-count"):
                return self.skip()
            raise Bad(f"event {msg['event']!r}: code {msg.get('code')!r} {msg.get('msg')!r}"[:300])
        channel = obj(msg["arg"], "arg")["channel"]
        data = array(msg["data"], "data")
        if channel == "trades":
            return [self._trade(obj(d, "data[]")) for d in data]
        if channel == "books":
            return [self._book(msg.get("action"), obj(d, "data[]"), msg["arg"]["instId"]) for d in data]
        if channel in ("bbo-tbt", "books1"):
            return [self._bbo(obj(d, "data[]"), msg["arg"]["instId"]) for d in data]
        if channel == "tickers":
            return [self._ticker(obj(d, "data[]")) for d in data]
        if type(channel) is str and channel.startswith("candle"):
            return self._candles(channel[6:], data, msg["arg"]["instId"])
        if channel == "liquidation-orders":
            return self._liquidations(data)
        raise Bad(f"unknown channel {channel!r}"[:200])

    def _trade(self, d: dict[str, Any]) -> MarketEvent:
        side = _SIDES.get(d["side"])
        if side is None:
            raise Bad(f"side must be buy or sell, was {d['side']!r}"[:200])
        return MarketEvent(ms(d["ts"], "ts"), self.market(d["instId"]), Trade(price(d["px"], "px"), amount(d["sz"], "sz"), side))

    def _book(self, action: Any, d: dict[str, Any], inst_id: Any) -> MarketEvent:
        market = self.market(inst_id)
        bids, asks = levels(d["bids"], "bids"), levels(d["asks"], "asks")
        checksum = d.get("checksum")
        if checksum is not None and type(checksum) is not int:
            raise Bad(f"checksum must be an integer, was {checksum!r}"[:200])
        seq = integer(d, "seqId") if "seqId" in d else 0
        time_ns = ms(d["ts"], "ts")
        if action == "snapshot":
            return market_event(time_ns, market, OrderBookL2Snapshot(seq, bids, asks, checksum))
        if action != "update":
            raise Bad(f"books action must be snapshot or update, was {action!r}"[:200])
        prev = integer(d, "prevSeqId") if "prevSeqId" in d else None
        return market_event(time_ns, market, OrderBookL2Update(seq, seq, prev, bids, asks, checksum))

    def _bbo(self, d: dict[str, Any], inst_id: Any) -> MarketEvent:
        bids, asks = levels(d["bids"], "bids"), levels(d["asks"], "asks")
        if not bids or not asks:
            raise Bad("bbo needs a bid and an ask")
        seq = integer(d, "seqId") if "seqId" in d else 0
        l1 = OrderBookL1(bids[0][0], bids[0][1], asks[0][0], asks[0][1], seq)
        return market_event(ms(d["ts"], "ts"), self.market(inst_id), l1)

    def _ticker(self, d: dict[str, Any]) -> MarketEvent:
        l1 = OrderBookL1(price(d["bidPx"], "bidPx"), size(d["bidSz"], "bidSz"), price(d["askPx"], "askPx"),
                         size(d["askSz"], "askSz"))
        return market_event(ms(d["ts"], "ts"), self.market(d["instId"]), l1)

    def _candles(self, bar: str, data: list[Any], inst_id: Any) -> list[ParsedEvent]:
        try:
            width = candle_ms(bar)
        except ConfigError as e:
            raise Bad(str(e)) from None
        market = self.market(inst_id)
        out: list[ParsedEvent] = []
        for row in data:
            row = array(row, "candle")
            if row[8] != "1" and not self.partial_candles:
                self.ignored += 1
                continue
            o, h, low, c = (price(row[i], f"candle[{i}]") for i in (1, 2, 3, 4))
            if not low <= min(o, c) <= max(o, c) <= h:
                raise Bad(f"candle o={o!r} h={h!r} l={low!r} c={c!r} is not low <= open, close <= high")
            start = ms(row[0], "candle ts")
            out.append(MarketEvent(start + (width - 1) * 1_000_000, market, Candle(o, h, low, c, size(row[5], "vol"))))
        return out

    def _liquidations(self, data: list[Any]) -> list[ParsedEvent]:
        out: list[ParsedEvent] = []
        for d in data:
            market = self.markets.get(obj(d, "data[]")["instId"])
            if market is None:  # the channel covers a whole instrument type
                self.ignored += 1
                continue
            for x in array(d["details"], "details"):
                side = _SIDES.get(obj(x, "details[]")["side"])
                if side is None:
                    raise Bad(f"side must be buy or sell, was {x['side']!r}"[:200])
                liq = Liquidation(side, price(x["bkPx"], "bkPx"), size(x["sz"], "sz"))
                out.append(market_event(ms(x["ts"], "ts"), market, liq))
        return out
