"""Live market data as async iterators of ``MarketEvent`` (exchange WebSocket feeds build on this)."""
from __future__ import annotations

import asyncio
from typing import AsyncIterator

from barter.data.event import MarketEvent
from barter.errors import DataError


class TcpJsonLinesFeed:
    """Market events read from a TCP peer that sends one ``barter.engine.codec`` JSON line each.

    Ends when the peer closes the connection. Malformed lines raise ``DataError`` naming the line.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    async def __aiter__(self) -> AsyncIterator[MarketEvent]:
        from barter.engine import codec

        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            number = 0
            while line := await reader.readline():
                number += 1
                try:
                    event = codec.loads(line.decode())
                except (ValueError, KeyError, TypeError) as exc:
                    raise DataError(f"{self.host}:{self.port} line {number}: not a market event ({exc})") from exc
                if not isinstance(event, MarketEvent):
                    raise DataError(f"{self.host}:{self.port} line {number}: expected a MarketEvent, "
                                    f"got {type(event).__name__}")
                yield event
        finally:
            writer.close()
