"""Recording normalised events of the real OKX and Kraken recordings to JSON lines and replaying
them gives back equal events, in order; trades replay as a backtest's historic trades."""
from __future__ import annotations

import asyncio

import pytest

from barter.data.event import MarketEvent, Trade
from barter.data.exchange import FeedError
from barter.data.exchange.books import BookManager
from barter.data.exchange.kraken import KrakenParser, kraken_market
from barter.data.exchange.okx import OkxParser, okx_market
from barter.data.exchange.recorder import EventRecorder, ReplayFeed, historical_trades, read_events
from barter.data.exchange.recording import ws_frames
from barter.errors import DataError

OKX_IDS = ("BTC-USD-220527", "UNI-USD-SWAP", "BTC-USDT")


def _okx_events(data_dir):
    parser = OkxParser({i: okx_market(i) for i in OKX_IDS})
    manager = BookManager()
    for i in OKX_IDS:
        manager.add(okx_market(i))
    frames = ws_frames(data_dir / "exchange_messages/okx/cryptofeed/OKX.ws.1.0")
    events = [out for r in frames for e in parser.parse(r.payload, r.received_ns) for out in manager.process(e)]
    return frames, events + [FeedError("okx", "not JSON", "garbage{", 5)]


def test_round_trip_gives_equal_events(data_dir, tmp_path):
    frames, events = _okx_events(data_dir)
    kraken = KrakenParser([kraken_market(p) for p in ("XBT/CHF", "ADA/XBT")])
    events += [e for r in ws_frames(data_dir / "exchange_messages/kraken/cryptofeed/KRAKEN.ws.50.0")[:400]
               for e in kraken.parse(r.payload) if isinstance(e, MarketEvent)]
    path = tmp_path / "session.jsonl"
    with EventRecorder(path, raw=True) as rec:
        for r in frames:
            rec.write_raw(r.payload, r.received_ns, "okx")
        for e in events:
            rec.write(e)
    assert rec.written == len(events) > 400
    assert list(read_events(path)) == events


def test_replay_feed_and_historic_trades(data_dir, tmp_path):
    _, events = _okx_events(data_dir)
    path = tmp_path / "session.jsonl"

    async def record():
        async def stream():
            for e in events:
                yield e
        with EventRecorder(path) as rec:
            return [e async for e in rec.record(stream())]

    assert asyncio.run(record()) == events
    btc = okx_market("BTC-USDT")

    async def replay():
        return [e async for e in ReplayFeed(path, [btc])]

    replayed = asyncio.run(replay())
    assert all(e.market == btc for e in replayed if isinstance(e, MarketEvent))
    trades = historical_trades(path, btc)
    expected = [e for e in events if isinstance(e, MarketEvent) and e.market == btc and isinstance(e.kind, Trade)]
    assert len(trades) == len(expected) > 10
    assert trades.price.tolist() == [e.kind.price for e in expected]
    assert trades.side.tolist() == [int(e.kind.side) for e in expected]


def test_a_bad_line_names_the_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"type": "trade", "time_ns": 1}\n')
    with pytest.raises(DataError, match="not valid"):
        list(read_events(path))
    path.write_text('\n{oops\n')
    with pytest.raises(DataError, match="line 2 is not JSON"):
        list(read_events(path))
