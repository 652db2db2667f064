"""A live session recorded and replayed through ``barter.Engine`` gives the same portfolio.

A loopback ``websockets`` server (127.0.0.1) replays real recorded frames (../shared/data, README
section 1) to a live feed; the trader's feed is that feed recorded to JSON lines and Parquet at
once. Each recording, replayed as the trader's feed (``ReplayFeed``), must give the same events,
balance, exited positions and equity curve: OKX BTC-USDT trades and L2 books (snapshot, updates,
checksums), and Binance USD-M futures trades, L1 quotes and closed candles. Events stamped before
the trader's previous one (Binance stamps quotes and trades with different clocks) run at the
trader's clock in both sessions alike.
"""
from __future__ import annotations

import asyncio
import contextlib
from typing import Any, AsyncIterator, Callable

import numpy as np
import orjson
import pytest
from websockets.asyncio.server import ServerConnection, serve

from barter import Engine, Trader
from barter.data.event import MarketEvent
from barter.data.exchange import (BINANCE_FUTURES_USD, BinanceParser, SubKind, Subscription, binance_feed,
                                  market_from_symbol)
from barter.data.exchange.feed import ExchangeFeed
from barter.data.exchange.okx import OkxConnection, OkxParser, okx_market
from barter.data.exchange.recorder import EventRecorder, ReplayFeed
from barter.data.exchange.recording import ws_frames
from barter.integration import Backoff
from barter.portfolio import DefaultAllocator, Portfolio
from barter.strategy import Signal, Strategy

FAST = {"backoff": Backoff(initial_s=0.01, jitter=0.0), "proxy": None, "open_timeout": 2.0}
OKX_BTC = okx_market("BTC-USDT")
SUSHI = market_from_symbol("SUSHIUSDT", BINANCE_FUTURES_USD)


class EveryThird(Strategy):
    """Long on every third event, closed on the next: trades on trades, quotes, candles and books."""

    def __init__(self) -> None:
        self.i = 0

    def generate_signal(self, market: Any) -> Signal | None:
        self.i += 1
        return Signal.long() if self.i % 3 == 0 else Signal.close_long() if self.i % 3 == 1 else None


def _portfolio() -> Portfolio:
    return Portfolio(starting_cash=10_000.0, allocator=DefaultAllocator(100.0, size_decimals=None), engine_id="rec")


async def _okx_server(ws: ServerConnection, frames: list[str]) -> None:
    for arg in orjson.loads(await ws.recv())["args"]:
        await ws.send(orjson.dumps({"event": "subscribe", "arg": arg}).decode())
    for frame in frames:
        await ws.send(frame)
    await ws.wait_closed()


async def _binance_server(ws: ServerConnection, frames: list[str]) -> None:
    request = orjson.loads(await ws.recv())
    await ws.send(orjson.dumps({"result": None, "id": request["id"]}).decode())
    for frame in frames:
        await ws.send(frame)
    await ws.wait_closed()


def _okx(data_dir) -> tuple[list[str], Callable[[str], ExchangeFeed], Callable[..., Any], list[MarketEvent]]:
    frames = [r.payload for r in ws_frames(data_dir / "exchange_messages/okx/cryptofeed/OKX.ws.1.0")
              if '"instId":"BTC-USDT"}' in r.payload and '"event"' not in r.payload
              and ('"books"' in r.payload or '"trades"' in r.payload)]
    subs = [Subscription(OKX_BTC, SubKind.PUBLIC_TRADES), Subscription(OKX_BTC, SubKind.L2)]
    expected = [e for f in frames for e in OkxParser([OKX_BTC]).parse(f) if isinstance(e, MarketEvent)]

    def feed(url: str) -> ExchangeFeed:
        return ExchangeFeed(OkxConnection(subs, url=url), OkxParser([OKX_BTC]), **FAST)
    return frames, feed, _okx_server, expected


def _binance(data_dir) -> tuple[list[str], Callable[[str], ExchangeFeed], Callable[..., Any], list[MarketEvent]]:
    recording = data_dir / "exchange_messages/binance_futures/cryptofeed/BINANCE_FUTURES.ws.1.0"
    frames = [r.payload for r in ws_frames(recording) if '"stream":"sushiusdt@' in r.payload
              and "@depth" not in r.payload][:400]
    subs = [Subscription(SUSHI, k) for k in (SubKind.PUBLIC_TRADES, SubKind.L1, SubKind.CANDLES)]
    parser = BinanceParser([SUSHI], BINANCE_FUTURES_USD)
    expected = [e for f in frames for e in parser.parse(f) if isinstance(e, MarketEvent)]

    def feed(url: str) -> ExchangeFeed:
        return binance_feed(subs, BINANCE_FUTURES_USD, url=url, trade_channel="aggTrade", **FAST)
    return frames, feed, _binance_server, expected


async def _first(feed: ExchangeFeed, n: int) -> AsyncIterator[MarketEvent]:
    """The feed's first ``n`` market events, then the connection closes (ending the session)."""
    count = 0
    async for event in feed.market_events():
        yield event
        count += 1
        if count == n:
            break
    await feed.close()


def _live_session(market, setup, paths) -> tuple[Engine, list[MarketEvent]]:
    frames, make_feed, handler, expected = setup

    async def main() -> Engine:
        async with serve(lambda ws: handler(ws, frames), "127.0.0.1", 0) as srv:
            feed = make_feed(f"ws://127.0.0.1:{srv.sockets[0].getsockname()[1]}/stream")
            with EventRecorder(paths[0]) as jsonl, EventRecorder(paths[1]) as parquet:
                stream = parquet.record(jsonl.record(_first(feed, len(expected))))
                engine = Engine([Trader(market, stream, EveryThird())], _portfolio())
                await asyncio.wait_for(engine.run_async(), 15)
        return engine

    return asyncio.run(main()), expected


@pytest.mark.parametrize("market, make", [(OKX_BTC, _okx), (SUSHI, _binance)],
                         ids=["okx-trades-l2", "binance-trades-l1-candles"])
def test_a_recorded_session_replays_through_the_engine_to_the_same_portfolio(data_dir, tmp_path, market, make):
    paths = (tmp_path / "session.jsonl", tmp_path / "session.parquet")
    live, expected = _live_session(market, make(data_dir), paths)
    assert len(expected) > 100
    exited = live.portfolio.exited_positions()
    assert len(exited) > 5 and live.events > 100  # the strategy traded on the feed
    for path in paths:
        assert asyncio.run(_events(ReplayFeed(path, [market]))) == expected  # none lost, in order
        replay = Engine([Trader(market, ReplayFeed(path, [market]), EveryThird())], _portfolio())
        replay.run()
        assert replay.events == live.events
        assert replay.portfolio.balance == live.portfolio.balance
        assert replay.portfolio.exited_positions() == exited
        np.testing.assert_array_equal(replay.equity, live.equity)
        np.testing.assert_array_equal(replay.time_ns, live.time_ns)


async def _events(feed: ReplayFeed) -> list[Any]:
    return [e async for e in feed]
