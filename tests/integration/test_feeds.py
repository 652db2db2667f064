"""Live feeds against a loopback WebSocket server (``websockets`` on 127.0.0.1, a free port) that
replays real recorded Binance USD-M futures frames (../shared/data, README section 1), drops the
connection mid-stream and sends garbage: the client reconnects, resubscribes, reports each fault,
and the market events received are exactly the replayed ones (none lost, none duplicated)."""
from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Awaitable, Callable, Optional

import orjson
import pytest
from websockets.asyncio.server import ServerConnection, serve

from barter.data.event import MarketEvent
from barter.data.exchange import (BINANCE_FUTURES_USD, BinanceParser, FeedError, SubKind, Subscription, binance_feed,
                                  market_from_symbol)
from barter.data.exchange.recording import ws_frames
from barter.integration import (Backoff, Connected, ExchangeConnection, IntegrationError, Reconnecting,
                                SubscriptionRejected, SubscriptionValidator, WebSocketClient)
from barter.integration.events import Frame

RECORDING = "exchange_messages/binance_futures/cryptofeed/BINANCE_FUTURES.ws.1.0"
SYMBOLS = ("SUSHIUSDT", "AKROUSDT", "KEEPUSDT", "CTKUSDT")
MARKETS = [market_from_symbol(s, BINANCE_FUTURES_USD) for s in SYMBOLS]
SUBS = [Subscription(m, k) for m in MARKETS for k in (SubKind.PUBLIC_TRADES, SubKind.L1, SubKind.L2, SubKind.CANDLES)]
GARBAGE: list[Any] = ["not json at all", b"\x00\xff\xfe binary junk", '{"stream":"x@y","data":{"e":"wat"}}']
FAST = {"backoff": Backoff(initial_s=0.01, jitter=0.0), "proxy": None, "open_timeout": 2.0}

Handler = Callable[[ServerConnection, int], Awaitable[None]]


@contextlib.asynccontextmanager
async def server(handler: Handler):
    """A WebSocket server on 127.0.0.1; ``handler(ws, n)`` serves the n-th connection (1-based)."""
    count = 0

    async def handle(ws: ServerConnection) -> None:
        nonlocal count
        count += 1
        await handler(ws, count)

    async with serve(handle, "127.0.0.1", 0) as srv:
        port = srv.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/stream"


async def answer_subscribe(ws: ServerConnection, log: list[Any]) -> None:
    request = orjson.loads(await ws.recv())
    log.append(request)
    await ws.send(orjson.dumps({"result": None, "id": request["id"]}).decode())


async def collect(feed, until: Callable[[list[Any]], bool], timeout: float = 10.0) -> list[Any]:
    out: list[Any] = []

    async def run() -> None:
        async for event in feed:
            out.append(event)
            if until(out):
                await feed.close()

    await asyncio.wait_for(run(), timeout)
    return out


@pytest.fixture(scope="module")
def frames(data_dir) -> list[str]:
    return [r.payload for r in ws_frames(data_dir / RECORDING)][:300]


def _market_events(events):
    return [e for e in events if isinstance(e, MarketEvent)]


def test_replay_with_a_drop_and_garbage_delivers_every_event_once(frames):
    expected_parser = BinanceParser(MARKETS, BINANCE_FUTURES_USD)
    expected = [e for f in frames for e in expected_parser.parse(f)]
    assert len(expected) > 250 and expected_parser.errors == 0
    cut, garbage_at = 120, 200
    requests: list[Any] = []
    aborted = asyncio.Event()

    async def handler(ws: ServerConnection, n: int) -> None:
        if n == 1:
            request = orjson.loads(await ws.recv())
            requests.append(request)
            for f in frames[:3]:  # market data before the answer: kept and delivered after it
                await ws.send(f)
            await ws.send(orjson.dumps({"result": None, "id": request["id"]}).decode())
            for f in frames[3:cut]:
                await ws.send(f)
            await asyncio.sleep(0.05)
            assert ws.transport is not None
            ws.transport.abort()  # drop mid-stream: no close frame
            aborted.set()
            return
        await answer_subscribe(ws, requests)
        for f in frames[cut:garbage_at]:
            await ws.send(f)
        for g in GARBAGE:
            await ws.send(g)
        for f in frames[garbage_at:]:
            await ws.send(f)
        await ws.wait_closed()

    async def main() -> tuple[list[Any], Any]:
        async with server(handler) as url:
            feed = binance_feed(SUBS, BINANCE_FUTURES_USD, url=url, trade_channel="aggTrade", **FAST)
            events = await collect(feed, lambda out: len(_market_events(out)) >= len(expected))
            return events, feed

    events, feed = asyncio.run(main())
    assert _market_events(events) == expected  # none lost, none duplicated, in order
    kinds = [type(e).__name__ for e in events if not isinstance(e, MarketEvent)]
    assert kinds == ["Connected", "Reconnecting", "Connected", "FeedError", "FeedError", "FeedError"]
    connected = [e for e in events if isinstance(e, Connected)]
    assert [c.connection for c in connected] == [1, 2]
    (reconnecting,) = [e for e in events if isinstance(e, Reconnecting)]
    assert reconnecting.exchange == "binance_futures_usd" and reconnecting.attempt == 1
    assert reconnecting.delay_s == pytest.approx(0.01) and "connection lost" in reconnecting.reason
    errors = [e for e in events if isinstance(e, FeedError)]
    assert [e.raw for e in errors] == ["not json at all", "\x00\\xff\\xfe binary junk", GARBAGE[2]]
    assert "not JSON" in errors[0].reason and "unknown event type 'wat'" in errors[2].reason
    # resubscribed with the same request after the reconnect
    assert len(requests) == 2 and requests[0] == requests[1]
    assert requests[0]["method"] == "SUBSCRIBE" and "sushiusdt@depth@100ms" in requests[0]["params"]
    assert len(requests[0]["params"]) == len(SUBS)
    c = feed.counters
    assert (c.connections, c.reconnects, c.errors, c.events) == (2, 1, 3, len(expected))
    assert c.frames == len(frames) + len(GARBAGE)


def test_market_events_alone_for_the_engine(frames):
    async def handler(ws: ServerConnection, n: int) -> None:
        await answer_subscribe(ws, [])
        await ws.send("garbage")
        for f in frames[:50]:
            await ws.send(f)
        await ws.wait_closed()

    async def main() -> tuple[list[MarketEvent], Any]:
        async with server(handler) as url:
            feed = binance_feed(SUBS, BINANCE_FUTURES_USD, url=url, **FAST)
            out: list[MarketEvent] = []
            async for event in feed.market_events():
                out.append(event)
                if len(out) == 45:
                    await feed.close()
            return out, feed

    events, feed = asyncio.run(asyncio.wait_for(main(), 10))
    assert len(events) >= 45 and all(isinstance(e, MarketEvent) for e in events)
    assert feed.counters.errors == 1


def test_a_rejected_subscription_fails_naming_exchange_and_stream():
    async def handler(ws: ServerConnection, n: int) -> None:
        request = orjson.loads(await ws.recv())
        await ws.send(orjson.dumps({"error": {"code": 2, "msg": "Invalid request: unknown stream"},
                                    "id": request["id"]}).decode())
        await ws.wait_closed()

    async def main() -> None:
        async with server(handler) as url:
            feed = binance_feed(SUBS[:1], BINANCE_FUTURES_USD, url=url, **FAST)
            async for _ in feed:
                pass

    with pytest.raises(SubscriptionRejected) as e:
        asyncio.run(asyncio.wait_for(main(), 10))
    assert e.value.exchange == "binance_futures_usd"
    assert "sushiusdt@trade" in e.value.subscription and "unknown stream" in str(e.value)


def test_an_unanswered_subscription_times_out_and_the_first_connection_must_succeed():
    async def handler(ws: ServerConnection, n: int) -> None:
        await ws.wait_closed()

    async def main() -> None:
        async with server(handler) as url:
            feed = binance_feed(SUBS[:1], BINANCE_FUTURES_USD, url=url, subscription_timeout_s=0.2, **FAST)
            async for _ in feed:
                pass

    with pytest.raises(IntegrationError, match=r"binance_futures_usd: first connection .* failed: .*"
                                               r"no answer to subscription\(s\) id 1 \(sushiusdt@trade\)"):
        asyncio.run(asyncio.wait_for(main(), 10))


def test_unreachable_exchange_retries_with_growing_delays_then_gives_up():
    async def main() -> list[Any]:
        async with server(lambda ws, n: ws.wait_closed()) as url:
            pass  # closed: the port now refuses connections
        client = WebSocketClient(_Plain(url), retry_initial=True, max_reconnects=4,
                                 backoff=Backoff(initial_s=0.005, jitter=0.0), proxy=None)
        out: list[Any] = []
        with pytest.raises(IntegrationError, match="gave up after 4 reconnect attempts; last failure: .*"):
            async for event in client:
                out.append(event)
        return out

    events = asyncio.run(asyncio.wait_for(main(), 10))
    assert [e.attempt for e in events] == [1, 2, 3, 4]
    assert [e.delay_s for e in events] == [0.005, 0.01, 0.02, 0.04]


def test_backoff_resets_after_each_successful_connection(frames):
    async def handler(ws: ServerConnection, n: int) -> None:
        await answer_subscribe(ws, [])
        await ws.send(frames[0])
        if n < 3:
            await ws.close(1011, "going away")  # the exchange ends the connection
        else:
            await ws.wait_closed()

    async def main() -> list[Any]:
        async with server(handler) as url:
            feed = binance_feed(SUBS, BINANCE_FUTURES_USD, url=url, **FAST)
            return await collect(feed, lambda out: len(_market_events(out)) == 3)

    events = asyncio.run(main())
    reconnects = [e for e in events if isinstance(e, Reconnecting)]
    assert [(r.attempt, r.delay_s) for r in reconnects] == [(1, 0.01), (1, 0.01)]
    assert all("1011" in r.reason and "going away" in r.reason for r in reconnects)


class _Plain(ExchangeConnection):
    """A generic exchange: no answers to wait for, an app-level heartbeat, and server pings
    ``{"ping": n}`` to answer with ``{"pong": n}``."""

    exchange = "loopback"
    heartbeat_s: Optional[float] = None

    def __init__(self, url: str, heartbeat_s: Optional[float] = None) -> None:
        self.url, self.heartbeat_s = url, heartbeat_s

    def requests(self) -> list[Any]:
        return ['{"op": "subscribe"}']

    def validator(self) -> SubscriptionValidator:
        class Done(SubscriptionValidator):
            done = True
            pending: list[str] = []

            def check(self, raw: Any) -> bool:
                return False
        return Done()

    def heartbeat(self) -> str:
        return '{"op": "ping"}'

    def answer(self, raw: Any) -> Optional[str]:
        if isinstance(raw, str) and raw.startswith('{"ping"'):
            return '{"pong":' + raw.split(":", 1)[1]
        return None


def test_heartbeats_pings_and_a_clean_shutdown():
    received: list[Any] = []
    closed: list[Optional[int]] = []

    async def handler(ws: ServerConnection, n: int) -> None:
        received.append(await ws.recv())  # the subscription
        await ws.send('{"ping": 17}')
        await asyncio.wait_for(ws.ping(), 2)  # protocol ping: answered by websockets itself
        await ws.send('{"data": 1}')
        with contextlib.suppress(Exception):
            async for message in ws:
                received.append(message)
        closed.append(ws.close_code)

    async def main() -> list[Any]:
        async with server(handler) as url:
            client = WebSocketClient(_Plain(url, heartbeat_s=0.02), proxy=None)
            out: list[Any] = []
            async for item in client:
                out.append(item)
                if isinstance(item, Frame):
                    await asyncio.sleep(0.15)  # let a few heartbeats go out
                    await client.close()
            await asyncio.sleep(0.05)
            return out

    events = asyncio.run(asyncio.wait_for(main(), 10))
    assert [type(e).__name__ for e in events] == ["Connected", "Frame"]  # the ping was answered, not delivered
    assert events[1].raw == '{"data": 1}' and events[1].connection == 1
    assert received[0] == '{"op": "subscribe"}' and received[1] == '{"pong": 17}'
    assert received[2:] and set(received[2:]) == {'{"op": "ping"}'}
    assert closed == [1000]
