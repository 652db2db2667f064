"""``barter.data.streams`` over a loopback ``websockets`` server (127.0.0.1) that replays the real
OKX recording: a frame with a wrong checksum invalidates the book, the stream resyncs it by
reconnecting (OKX sends a fresh snapshot on resubscribing), garbage is reported as an error event,
and every replayed trade arrives exactly once per connection that sent it."""
from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.server import serve

from barter.data.event import MarketEvent, Trade
from barter.data.exchange import FeedError
from barter.data.exchange.books import BookState, BookStatusEvent
from barter.data.exchange.okx import okx_market
from barter.data.exchange.recording import ws_frames
from barter.data.streams import Streams
from barter.errors import ConfigError
from barter.instrument import Market
from barter.integration import Backoff, Connected, Reconnecting

MARKET = okx_market("BTC-USDT")


def _recorded(data_dir) -> list[str]:
    frames = ws_frames(data_dir / "exchange_messages/okx/cryptofeed/OKX.ws.1.0")
    return [r.payload for r in frames if '"instId":"BTC-USDT"}' in r.payload and '"event"' not in r.payload
            and ('"books"' in r.payload or '"trades"' in r.payload)]


def _corrupt_checksum(frame: str) -> str:
    msg = json.loads(frame)
    msg["data"][0]["checksum"] += 1
    return json.dumps(msg)


async def _serve(frames: list[str], bad_at: int):
    connections: list[int] = []

    async def handler(ws):
        connections.append(len(connections) + 1)
        request = json.loads(await ws.recv())
        for arg in request["args"]:
            await ws.send(json.dumps({"event": "subscribe", "arg": arg}))
        if len(connections) == 1:
            for frame in frames[:bad_at]:
                await ws.send(frame)
            await ws.send("garbage{")
            await ws.send(_corrupt_checksum(frames[bad_at]))
            for frame in frames[bad_at + 1:]:
                await ws.send(frame)
        else:
            for frame in frames:
                await ws.send(frame)
        await ws.wait_closed()

    return await serve(handler, "127.0.0.1", 0), connections


async def _collect(streams: Streams, until) -> list:
    events = []
    async for event in streams:
        events.append(event)
        if until(events):
            await streams.close()
    return events


def test_streams_resync_a_book_after_a_checksum_mismatch(data_dir):
    frames = _recorded(data_dir)
    bad_at = [i for i, f in enumerate(frames) if '"books"' in f][30]
    n_books = sum('"books"' in f for f in frames)
    n_trades = sum('"trades"' in f for f in frames)

    async def main():
        server, connections = await _serve(frames, bad_at)
        port = server.sockets[0].getsockname()[1]
        streams = (Streams.builder()
                   .subscribe([(MARKET, "public_trades"), (MARKET, "l2")], url=f"ws://127.0.0.1:{port}",
                              client={"backoff": Backoff(initial_s=0.01, jitter=0.0), "proxy": None})
                   .build())

        def done(events):
            resynced = [e for e in events if isinstance(e, BookStatusEvent) and e.state == BookState.RESYNCED]
            return len(resynced) == 2 and sum(isinstance(e, MarketEvent) for e in events) >= n_trades * 2 - 40

        try:
            events = await asyncio.wait_for(_collect(streams, done), 20)
        finally:
            server.close()
        return streams, events, connections

    streams, events, connections = asyncio.run(main())
    states = [e.state for e in events if isinstance(e, BookStatusEvent)]
    assert states == [BookState.RESYNCING, BookState.RESYNCED,  # first snapshot
                      BookState.INVALID, BookState.RESYNCING, BookState.RESYNCED]
    invalid = next(e for e in events if isinstance(e, BookStatusEvent) and e.state == BookState.INVALID)
    assert "checksum" in invalid.reason
    errors = [e for e in events if isinstance(e, FeedError)]
    assert [e.raw for e in errors] == ["garbage{"]
    assert sum(isinstance(e, Connected) for e in events) == 2 and sum(isinstance(e, Reconnecting) for e in events) == 1
    assert len(connections) == 2
    status = streams.status["okx#1"]
    assert status.counters.errors == 1 and status.counters.reconnects == 1 and status.resyncs == 2  # the first snapshot, then the fault
    assert streams.books.counters(MARKET).checksum_failures == 1
    # Trades of the first connection up to the fault, then the second connection's, each once.
    trades = [e for e in events if isinstance(e, MarketEvent) and isinstance(e.kind, Trade)]
    first_trades = sum('"trades"' in f for f in frames[:bad_at + 1])
    assert len(trades) >= first_trades
    assert len(set((t.exchange_time_ns, t.kind) for t in trades[:first_trades])) == first_trades
    # no book update was served between the fault and the resync
    i_bad = events.index(invalid)
    i_back = next(i for i, e in enumerate(events) if i > i_bad and isinstance(e, BookStatusEvent)
                  and e.state == BookState.RESYNCED)
    assert not any(isinstance(e, MarketEvent) and type(e.kind).__name__ == "OrderBookL2Update"
                   for e in events[i_bad:i_back])
    assert n_books > 30


def test_builder_errors_name_the_problem():
    with pytest.raises(ConfigError, match="no subscriptions"):
        Streams.builder().build()
    with pytest.raises(ConfigError, match="no live feed for exchange 'ftx'"):
        Streams.builder().subscribe([(Market("ftx", ("btc", "usd")), "l2")]).build()


def test_a_binance_futures_rest_snapshot_is_stamped_with_the_exchanges_time(data_dir, monkeypatch):
    """Its diffs carry the exchange's time: a snapshot stamped on receipt (local clock) would look
    newer than the diffs applied after it."""
    import orjson

    import barter.data.streams as streams_module
    from barter.data.exchange import BINANCE_FUTURES_USD, market_from_symbol
    from barter.data.exchange.events import OrderBookL2Snapshot
    from barter.data.exchange.recording import read_cryptofeed

    record = next(r for r in read_cryptofeed(
        data_dir / "exchange_messages/binance_futures/cryptofeed/BINANCE_FUTURES.http.0.0") if r.kind == "http")
    body = orjson.loads(record.payload)

    async def get_json(exchange, url, params=None, **kwargs):
        return body

    monkeypatch.setattr(streams_module, "get_json", get_json)
    market = market_from_symbol(record.url.split("symbol=")[1].split("&")[0], BINANCE_FUTURES_USD)

    async def main():
        streams = Streams.builder().subscribe([(market, "l2")]).build()
        streams._fetch_task("binance_futures_usd#1", market, "http://127.0.0.1:1/fapi/v1/depth")
        await asyncio.gather(*streams._tasks)
        return [streams._queue.get_nowait() for _ in range(streams._queue.qsize())]

    out = asyncio.run(main())
    snapshot = next(e for e in out if isinstance(e, MarketEvent) and isinstance(e.kind, OrderBookL2Snapshot))
    assert snapshot.exchange_time_ns == body["T"] * 1_000_000
