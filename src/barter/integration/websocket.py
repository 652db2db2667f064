"""A reconnecting WebSocket client on the ``websockets`` package (the seed's ``ExchangeStream`` with
``init_reconnecting_stream``, SEED.md section 7).

Per connection: connect, send the subscription requests, read until the exchange has confirmed every
one (frames that arrive meanwhile are kept and delivered afterwards), yield ``Connected``, then every
frame as a ``Frame``. When the connection ends for any reason other than ``close()``, the client yields
``Reconnecting``, waits the backoff delay (125 ms, x2, capped at 60 s, with jitter; reset once
connected) and starts over, resubscribing. A rejected subscription raises ``SubscriptionRejected``
(terminal: the same request would be rejected again). As in the seed, the first connection must
succeed unless ``retry_initial`` is set.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any, AsyncIterator, Optional, Union

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from barter.errors import ConfigError
from barter.integration.backoff import Backoff
from barter.integration.errors import IntegrationError, SubscriptionRejected, SubscriptionTimeout
from barter.integration.events import Connected, Frame, Reconnecting
from barter.integration.protocol import ExchangeConnection

_RETRYABLE = (ConnectionClosed, InvalidHandshake, OSError, asyncio.TimeoutError, SubscriptionTimeout)


class WebSocketClient:
    """Frames of one exchange connection, as an async iterator that survives disconnects.

    Parameters
    ----------
    connection : ExchangeConnection
        Where to connect and what to subscribe to.
    backoff : Backoff, optional
        Reconnect delays; the seed's policy by default.
    subscription_timeout_s : float
        Seconds to wait for every subscription to be confirmed (seed: 10).
    retry_initial : bool
        Retry a failed first connection instead of raising ``IntegrationError``.
    max_reconnects : int or None
        Give up (raise ``IntegrationError``) after this many consecutive failed attempts.
    **connect_kwargs
        Passed to ``websockets.asyncio.client.connect`` (``open_timeout``, ``ping_interval``,
        ``max_size``, ``proxy``...). Defaults: 10 s open timeout, a protocol ping every 20 s
        (a dead peer is detected within 40 s), no compression, 16 MiB messages.

    Attributes
    ----------
    connections, reconnects, frames : int
        Connections made, reconnect waits started, frames delivered.
    """

    def __init__(self, connection: ExchangeConnection, *, backoff: Optional[Backoff] = None,
                 subscription_timeout_s: float = 10.0, retry_initial: bool = False,
                 max_reconnects: Optional[int] = None, **connect_kwargs: Any) -> None:
        if not subscription_timeout_s > 0:
            raise ConfigError(f"subscription_timeout_s must be > 0, was {subscription_timeout_s!r}")
        self.connection = connection
        self.backoff = backoff if backoff is not None else Backoff()
        self.subscription_timeout_s = subscription_timeout_s
        self.retry_initial = retry_initial
        self.max_reconnects = max_reconnects
        self.connect_kwargs: dict[str, Any] = {"open_timeout": 10.0, "ping_interval": 20.0, "ping_timeout": 20.0,
                                               "compression": None, "max_size": 2**24, **connect_kwargs}
        self.connections = self.reconnects = self.frames = 0
        self._closing = asyncio.Event()
        self._ws: Optional[ClientConnection] = None
        self._forced: Optional[str] = None
        self._closer: Optional[asyncio.Task[None]] = None

    @property
    def exchange(self) -> str:
        return self.connection.exchange

    async def close(self) -> None:
        """Stop: close the socket; the iterator ends after the frames already delivered."""
        self._closing.set()
        if self._ws is not None:
            await self._ws.close()

    async def reconnect(self, reason: str) -> None:
        """Drop the current connection on purpose (e.g. to get fresh book snapshots): the client yields
        ``Reconnecting`` with ``reason``, then connects and resubscribes after the backoff delay."""
        if self._ws is not None and self._forced is None:
            self._forced = reason
            # closed in the background: the frames already in flight are still read (and yielded)
            # meanwhile, so the closing handshake is never stuck behind a full receive queue
            self._closer = asyncio.create_task(self._ws.close(1000, reason[:100]))

    async def send(self, message: Union[str, bytes]) -> None:
        """Send on the current connection (raises ``IntegrationError`` when not connected)."""
        if self._ws is None:
            raise IntegrationError(f"{self.exchange}: not connected")
        await self._ws.send(message)

    def __aiter__(self) -> AsyncIterator[Union[Frame, Connected, Reconnecting]]:
        return self._run()

    async def _run(self) -> AsyncIterator[Union[Frame, Connected, Reconnecting]]:
        exchange, url = self.exchange, self.connection.url
        while not self._closing.is_set():
            reason = ""
            try:
                async with connect(url, **self.connect_kwargs) as ws:
                    self._ws = ws
                    early = await self._subscribe(ws)
                    self.connections += 1
                    self.backoff.reset()
                    number = self.connections
                    yield Connected(exchange, url, number, time.time_ns())
                    for raw, received_ns in early:
                        self.frames += 1
                        yield Frame(raw, received_ns, number)
                    async with self._heartbeat(ws):
                        answer = self.connection.answer
                        async for raw in ws:  # ends on a clean close, raises on a broken one
                            received_ns = time.time_ns()
                            reply = answer(raw)
                            if reply is not None:
                                await ws.send(reply)
                                continue
                            self.frames += 1
                            yield Frame(raw, received_ns, number)
                    reason = self._forced or _closed_reason(ws)
            except SubscriptionRejected:
                raise
            except InvalidURI as e:
                raise ConfigError(f"{exchange}: invalid WebSocket URL {url!r}: {e}") from e
            except _RETRYABLE as e:
                reason = _describe(e)
            finally:
                self._ws, self._forced = None, None
            if self._closing.is_set():
                return
            if self.connections == 0 and not self.retry_initial:
                raise IntegrationError(f"{exchange}: first connection to {url} failed: {reason}")
            if self.max_reconnects is not None and self.backoff.attempts >= self.max_reconnects:
                raise IntegrationError(f"{exchange}: gave up after {self.backoff.attempts} reconnect attempts; "
                                       f"last failure: {reason}")
            delay = self.backoff.next_delay()
            self.reconnects += 1
            yield Reconnecting(exchange, reason, self.backoff.attempts, delay, time.time_ns())
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._closing.wait(), delay)

    async def _subscribe(self, ws: ClientConnection) -> list[tuple[Union[str, bytes], int]]:
        """Send the requests and wait for every answer; returns the other frames received meanwhile."""
        validator = self.connection.validator()
        for request in self.connection.requests():
            await ws.send(request)
        early: list[tuple[Union[str, bytes], int]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.subscription_timeout_s
        while not validator.done:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise SubscriptionTimeout(self.exchange, validator.pending, self.subscription_timeout_s)
            try:
                raw = await asyncio.wait_for(ws.recv(), remaining)
            except asyncio.TimeoutError:
                raise SubscriptionTimeout(self.exchange, validator.pending, self.subscription_timeout_s) from None
            received_ns = time.time_ns()
            if validator.check(raw):
                continue
            reply = self.connection.answer(raw)
            if reply is not None:
                await ws.send(reply)
            else:
                early.append((raw, received_ns))
        return early

    @contextlib.asynccontextmanager
    async def _heartbeat(self, ws: ClientConnection) -> AsyncIterator[None]:
        interval = self.connection.heartbeat_s
        if not interval:
            yield
            return

        async def beat() -> None:
            with contextlib.suppress(ConnectionClosed):
                while True:
                    await asyncio.sleep(interval)
                    await ws.send(self.connection.heartbeat())

        task = asyncio.create_task(beat())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _closed_reason(ws: ClientConnection) -> str:
    code, reason = ws.close_code, ws.close_reason
    if code is None:
        return "closed by the exchange"
    return f"closed by the exchange (code {code}{', ' + reason if reason else ''})"


def _describe(e: BaseException) -> str:
    if isinstance(e, ConnectionClosed):
        return f"connection lost: {e}"
    if isinstance(e, asyncio.TimeoutError):
        return "timed out"
    return f"{type(e).__name__}: {e}"
