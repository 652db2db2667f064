"""One combined stream of market events over many exchanges x markets x kinds (the seed's
``Streams::builder().subscribe(...)``)::

    streams = (Streams.builder()
               .subscribe([(btc_binance, "public_trades"), (btc_binance, "l2")])
               .subscribe([(btc_okx, "l2")])
               .build())
    async for event in streams:
        ...

Each ``subscribe`` call opens one connection per exchange it names (its subscriptions share it). The
stream yields every ``MarketEvent``, each ``FeedError``, the connections' ``Connected`` /
``Reconnecting`` events and the books' ``BookStatusEvent``s, in the order they happen. L2
subscriptions keep a book per market in ``streams.books`` (``barter.data.exchange.books``): a
gap, a checksum mismatch or a reconnect turns it INVALID and it is resynced at once, by a REST
snapshot on Binance and by resubscribing (a reconnect) elsewhere. ``streams.status`` holds each
connection's state and counters.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Iterable, Optional, Union

from barter.data.event import MarketEvent
from barter.data.exchange.binance import (BINANCE_FUTURES_USD, BINANCE_SPOT, BinanceConnection, BinanceParser,
                                          binance_symbol, depth_snapshot_time_ns, parse_depth_snapshot)
from barter.data.exchange.books import BookManager, BookStatusEvent
from barter.data.exchange.bybit import BYBIT_PERPETUALS_USD, BYBIT_SPOT, BybitConnection, BybitParser
from barter.data.exchange.coinbase import CoinbaseConnection, CoinbaseParser
from barter.data.exchange.events import FeedError, market_event
from barter.data.exchange.feed import ExchangeFeed, FeedCounters
from barter.data.exchange.kraken import KrakenConnection, KrakenParser
from barter.data.exchange.okx import OkxConnection, OkxParser
from barter.data.exchange.subscription import SubKind, Subscription
from barter.errors import BarterError, ConfigError
from barter.instrument import Market
from barter.integration.events import Connected, Reconnecting
from barter.integration.rest import get_json

__all__ = ["StreamEvent", "StreamStatus", "Streams", "StreamsBuilder"]

StreamEvent = Union[MarketEvent, FeedError, Connected, Reconnecting, BookStatusEvent]
SubscriptionLike = Union[Subscription, tuple[Market, Union[SubKind, str]]]
_BINANCE = {"binance": BINANCE_SPOT, "binance_futures_usd": BINANCE_FUTURES_USD}
_BYBIT = {"bybit_spot": BYBIT_SPOT, "bybit_perpetuals_usd": BYBIT_PERPETUALS_USD}


@dataclass(slots=True)
class StreamStatus:
    """One connection's state (``connecting``, ``connected``, ``reconnecting``, ``resyncing``,
    ``closed``) and counters (frames, events, errors, reconnects, plus book gaps and resyncs)."""

    state: str = "connecting"
    counters: FeedCounters = field(default_factory=FeedCounters)
    gaps: int = 0
    resyncs: int = 0


def _feed(exchange: str, subs: list[Subscription], options: dict[str, Any]) -> ExchangeFeed:
    """The connection and parser of ``exchange`` for ``subs``; ``options`` go to the connection,
    except ``partial_candles`` (parser) and the ``WebSocketClient`` keywords under ``client``."""
    opts = dict(options)
    client = opts.pop("client", {})
    partial = {"partial_candles": opts.pop("partial_candles", False)}
    markets = list(dict.fromkeys(s.market for s in subs))
    if exchange in _BINANCE:
        binance = _BINANCE[exchange]
        return ExchangeFeed(BinanceConnection(subs, binance, **opts), BinanceParser(markets, binance, **partial),
                            **client)
    if exchange in _BYBIT:
        bybit = _BYBIT[exchange]
        return ExchangeFeed(BybitConnection(subs, bybit, **opts), BybitParser(markets, bybit, **partial), **client)
    if exchange == "okx":
        symbols = opts.get("symbols") or {}
        okx = OkxParser({symbols[m]: m for m in markets} if symbols else markets, **partial)
        return ExchangeFeed(OkxConnection(subs, **opts), okx, **client)
    if exchange == "kraken":
        kraken = KrakenParser(markets, precision=opts.pop("precision", None), book_depth=opts.get("book_depth", 10),
                              **partial)
        return ExchangeFeed(KrakenConnection(subs, **opts), kraken, **client)
    if exchange == "coinbase":
        return ExchangeFeed(CoinbaseConnection(subs, **opts), CoinbaseParser(markets, **partial), **client)
    raise ConfigError(f"no live feed for exchange {exchange!r}; known: binance, binance_futures_usd, bybit_spot, "
                      "bybit_perpetuals_usd, coinbase, kraken, okx")


class StreamsBuilder:
    """Collects subscriptions; ``build()`` makes the ``Streams``."""

    def __init__(self) -> None:
        self._groups: list[tuple[str, list[Subscription], dict[str, Any]]] = []

    def subscribe(self, subscriptions: Iterable[SubscriptionLike], **options: Any) -> StreamsBuilder:
        """Add one connection per exchange named in ``subscriptions``.

        ``options`` are passed to that exchange's connection (``url``, ``book_depth``, ...), plus
        ``partial_candles``, ``rest_url`` (Binance snapshots) and ``client`` (``WebSocketClient``
        keywords such as ``backoff``).
        """
        by_exchange: dict[str, list[Subscription]] = {}
        for s in subscriptions:
            sub = s if isinstance(s, Subscription) else Subscription(s[0], s[1])  # type: ignore[arg-type]
            by_exchange.setdefault(sub.market.exchange.name, []).append(sub)
        if not by_exchange:
            raise ConfigError("subscribe needs at least one subscription")
        for exchange, subs in by_exchange.items():
            self._groups.append((exchange, subs, options))
        return self

    def build(self) -> Streams:
        if not self._groups:
            raise ConfigError("no subscriptions: call subscribe(...) before build()")
        return Streams(self._groups)


class Streams:
    """The combined async iterator of every subscribed connection (see the module docstring).

    Attributes
    ----------
    books : BookManager
        The L2 books; ``books.book(market)`` raises while a book is not valid.
    status : dict of str to StreamStatus
        Per connection, keyed ``"<exchange>#<n>"``.
    """

    def __init__(self, groups: list[tuple[str, list[Subscription], dict[str, Any]]]) -> None:
        self.books = BookManager()
        self.status: dict[str, StreamStatus] = {}
        self._feeds: dict[str, tuple[ExchangeFeed, Optional[str]]] = {}
        self._l2: dict[str, list[Market]] = {}
        for n, (exchange, subs, options) in enumerate(groups, 1):
            key = f"{exchange}#{n}"
            rest_url = options.get("rest_url")
            feed = _feed(exchange, subs, {k: v for k, v in options.items() if k != "rest_url"})
            self._feeds[key] = (feed, rest_url)
            self.status[key] = StreamStatus(counters=feed.counters)
            self._l2[key] = [s.market for s in subs if s.kind == SubKind.L2]
            for market in self._l2[key]:
                self.books.add(market)
        self._queue: asyncio.Queue[Union[StreamEvent, BaseException, None]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    @staticmethod
    def builder() -> StreamsBuilder:
        return StreamsBuilder()

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        return self._run()

    async def close(self) -> None:
        """Close every connection; the iterator ends once they have."""
        for feed, _ in self._feeds.values():
            await feed.close()

    async def _run(self) -> AsyncIterator[StreamEvent]:
        self._tasks = [asyncio.create_task(self._pump(key)) for key in self._feeds]
        running = len(self._tasks)
        try:
            while running:
                item = await self._queue.get()
                if item is None:
                    running -= 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    yield item
        finally:
            await self.close()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _pump(self, key: str) -> None:
        feed, status = self._feeds[key][0], self.status[key]
        put = self._queue.put_nowait
        try:
            async for item in feed:
                if isinstance(item, MarketEvent):
                    for out in self.books.process(item):
                        put(out)
                    if status.state == "resyncing" and all(self.books.is_valid(m) for m in self._l2[key]):
                        status.state = "connected"
                    if self.books.pending_resyncs:
                        await self._resync(key, reconnect=True)
                    continue
                put(item)
                if isinstance(item, Connected):
                    getattr(feed.parser, "reset", lambda: None)()
                    status.state = "connected"
                    await self._resync(key, reconnect=False)
                elif isinstance(item, Reconnecting):
                    status.state = "reconnecting"
                    for event in self.books.invalidate(feed.connection.exchange, "reconnecting", item.time_ns):
                        put(event)
        except BarterError as e:
            put(e)
        finally:
            status.state = "closed"
            put(None)

    async def _resync(self, key: str, reconnect: bool) -> None:
        """Ask for a snapshot of every book of this connection waiting for one: from REST on Binance;
        elsewhere by reconnecting (``reconnect``), or by nothing just after a (re)connect, whose
        subscriptions bring the snapshots."""
        feed, rest_url = self._feeds[key]
        mine = [m for m in self._l2[key] if m in self.books.pending_resyncs]
        if not mine:
            return
        status, now = self.status[key], time.time_ns()
        status.gaps = sum(self.books.counters(m).gaps for m in self._l2[key])
        for market in mine:
            self._queue.put_nowait(self.books.resyncing(market, now))
        status.resyncs += 1
        if feed.connection.exchange in _BINANCE:
            status.state = "resyncing"
            for market in mine:
                self._fetch_task(key, market, rest_url or _BINANCE[feed.connection.exchange].depth_url)
        else:
            status.state = "resyncing"
            if reconnect:
                await feed.client.reconnect(f"resync {', '.join(map(str, mine))}")

    def _fetch_task(self, key: str, market: Market, url: str) -> None:
        async def fetch() -> None:
            exchange = market.exchange.name
            try:
                body = await get_json(exchange, url, {"symbol": binance_symbol(market), "limit": 1000})
                snapshot = parse_depth_snapshot(body)
                # the exchange's clock, as its diffs (futures); else the local one (spot has none)
                stamp = depth_snapshot_time_ns(body)
            except BarterError as e:
                self._queue.put_nowait(FeedError(exchange, f"snapshot of {market}: {e}", "", time.time_ns()))
                self.books.pending_resyncs[market] = str(e)
                return
            for out in self.books.process(market_event(time.time_ns() if stamp is None else stamp, market, snapshot)):
                self._queue.put_nowait(out)
            if not any(m in self.books.pending_resyncs for m in self._l2[key]):
                self.status[key].state = "connected"

        self._tasks.append(asyncio.create_task(fetch()))

