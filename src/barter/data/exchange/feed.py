"""A live feed: one exchange connection's frames parsed into normalised events.

``async for event in feed`` yields every ``MarketEvent``, each frame's ``FeedError`` and the
connection's ``Connected`` / ``Reconnecting`` events, in order. ``feed.market_events()`` yields the
market events alone (what the engine consumes) and keeps the rest in the counters.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, AsyncIterator, Iterable, Optional, Protocol, Union

from barter.data.event import MarketEvent
from barter.data.exchange.binance import BINANCE_SPOT, BinanceConnection, BinanceParser, BinanceVenue
from barter.data.exchange.events import FeedError
from barter.data.exchange.subscription import Subscription
from barter.integration.events import Connected, Frame, Reconnecting
from barter.integration.protocol import ExchangeConnection
from barter.integration.websocket import WebSocketClient

FeedEvent = Union[MarketEvent, FeedError, Connected, Reconnecting]


class FrameParser(Protocol):
    frames: int
    errors: int

    def parse(self, raw: Union[str, bytes], received_ns: int = 0) -> list[Union[MarketEvent, FeedError]]: ...


@dataclass(slots=True)
class FeedCounters:
    """Per-stream counters (issue 8: messages, errors, reconnects)."""

    frames: int = 0
    events: int = 0
    errors: int = 0
    reconnects: int = 0
    connections: int = 0


class ExchangeFeed:
    """Events of one exchange connection.

    Parameters
    ----------
    connection : ExchangeConnection
    parser : FrameParser
        Turns each frame into events (never raises).
    **client_kwargs
        Passed to ``WebSocketClient`` (backoff, subscription timeout, ``connect`` options).
    """

    def __init__(self, connection: ExchangeConnection, parser: FrameParser, **client_kwargs: Any) -> None:
        self.connection = connection
        self.parser = parser
        self.client = WebSocketClient(connection, **client_kwargs)
        self.counters = FeedCounters()

    async def close(self) -> None:
        await self.client.close()

    def __aiter__(self) -> AsyncIterator[FeedEvent]:
        return self._run()

    async def _run(self) -> AsyncIterator[FeedEvent]:
        counters, parse = self.counters, self.parser.parse
        async for item in self.client:
            if isinstance(item, Frame):
                counters.frames += 1
                for event in parse(item.raw, item.received_ns):
                    if isinstance(event, FeedError):
                        counters.errors += 1
                    else:
                        counters.events += 1
                    yield event
            else:
                if isinstance(item, Reconnecting):
                    counters.reconnects += 1
                else:
                    counters.connections += 1
                yield item

    async def market_events(self) -> AsyncIterator[MarketEvent]:
        """The market events alone; errors and connection events only update ``counters``."""
        async for event in self:
            if isinstance(event, MarketEvent):
                yield event


def binance_feed(subscriptions: Iterable[Subscription], venue: BinanceVenue = BINANCE_SPOT, *,
                 url: Optional[str] = None, trade_channel: str = "trade", candle_interval: str = "1m",
                 partial_candles: bool = False, **client_kwargs: Any) -> ExchangeFeed:
    """A feed of ``subscriptions`` on Binance spot (default) or ``BINANCE_FUTURES_USD``."""
    connection = BinanceConnection(subscriptions, venue, url=url, trade_channel=trade_channel,
                                   candle_interval=candle_interval)
    parser = BinanceParser(connection.markets, venue, partial_candles=partial_candles)
    return ExchangeFeed(connection, parser, **client_kwargs)
