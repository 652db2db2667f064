"""Recording normalised events of the real OKX, Kraken and Binance futures recordings to JSON lines or
Parquet and replaying them gives back equal events, in order; trades replay as a backtest's historic
trades; a missing pyarrow names the ``parquet`` extra."""
from __future__ import annotations

import asyncio

import pytest

import sys
from collections import Counter

import pyarrow.parquet as pq

from barter.data.event import MarketEvent, Trade
from barter.data.exchange import BINANCE_FUTURES_USD, BinanceParser, FeedError, market_from_symbol
from barter.data.exchange.books import BookManager
from barter.data.exchange.events import Liquidation, market_event
from barter.data.exchange.kraken import KrakenParser, kraken_market
from barter.data.exchange.okx import OkxParser, okx_market
from barter.data.exchange.recorder import EventRecorder, ReplayFeed, historical_trades, read_events
from barter.data.exchange.recording import ws_frames
from barter.errors import ConfigError, DataError
from barter.instrument import Side

RECORDING = "exchange_messages/binance_futures/cryptofeed/BINANCE_FUTURES.ws.1.0"
OKX_IDS = ("BTC-USD-220527", "UNI-USD-SWAP", "BTC-USDT")
FORMATS = ("session.jsonl", "session.parquet")


def _okx_events(data_dir):
    parser = OkxParser({i: okx_market(i) for i in OKX_IDS})
    manager = BookManager()
    for i in OKX_IDS:
        manager.add(okx_market(i))
    frames = ws_frames(data_dir / "exchange_messages/okx/cryptofeed/OKX.ws.1.0")
    events = [out for r in frames for e in parser.parse(r.payload, r.received_ns) for out in manager.process(e)]
    return frames, events + [FeedError("okx", "not JSON", "garbage{", 5)]


def _every_kind(data_dir):
    """OKX books, trades and L1 with their statuses and an error; Kraken v1 books (checksum digits,
    depth); Binance futures candles; a liquidation and a trade without a side."""
    frames, events = _okx_events(data_dir)
    kraken = KrakenParser([kraken_market(p) for p in ("XBT/CHF", "ADA/XBT")])
    events += [e for r in ws_frames(data_dir / "exchange_messages/kraken/cryptofeed/KRAKEN.ws.50.0")[:400]
               for e in kraken.parse(r.payload) if isinstance(e, MarketEvent)]
    sushi = market_from_symbol("SUSHIUSDT", BINANCE_FUTURES_USD)
    binance = BinanceParser([sushi], BINANCE_FUTURES_USD, partial_candles=True)
    events += [e for r in ws_frames(data_dir / RECORDING)[:300] for e in binance.parse(r.payload)
               if isinstance(e, MarketEvent) and e.market == sushi]
    events += [market_event(7, sushi, Liquidation(Side.SELL, 1.25, 3.0)), market_event(8, sushi, Trade(1.5, 2.0, None))]
    return frames, events


@pytest.mark.parametrize("name", FORMATS)
def test_round_trip_gives_equal_events(data_dir, tmp_path, name):
    frames, events = _every_kind(data_dir)
    kinds = Counter(type(getattr(e, "kind", e)).__name__ for e in events)
    assert set(kinds) == {"Trade", "Candle", "OrderBookL1", "OrderBookL2Update", "OrderBookL2Snapshot",
                          "Liquidation", "BookStatusEvent", "FeedError"}
    path = tmp_path / name
    with EventRecorder(path, raw=True) as rec:
        for r in frames:
            rec.write_raw(r.payload, r.received_ns, "okx")
        for e in events:
            rec.write(e)
    assert rec.written == len(events) > 400
    assert list(read_events(path)) == events


def test_parquet_holds_each_kind_in_typed_columns(data_dir, tmp_path):
    frames, events = _every_kind(data_dir)
    path = tmp_path / "session.parquet"
    with EventRecorder(path, raw=True) as rec:
        rec.write_raw(frames[0].payload, frames[0].received_ns, "okx")
        for e in events:
            rec.write(e)
    files = {f.stem for f in path.glob("*.parquet")}
    assert files == {"trade", "candle", "l1", "l2_update", "l2_snapshot", "liquidation", "book_status",
                     "feed_error", "raw"}
    trades = pq.read_table(path / "trade.parquet")
    expected = [e for e in events if isinstance(e.kind if isinstance(e, MarketEvent) else e, Trade)]
    assert trades.num_rows == len(expected)
    assert str(trades.schema.field("price").type) == "double" and str(trades.schema.field("side").type) == "int8"
    assert trades.column("price").to_pylist() == [e.kind.price for e in expected]
    updates = pq.read_table(path / "l2_update.parquet")
    assert str(updates.schema.field("bids").type.value_type) == "struct<price: double, size: double>"
    assert pq.read_table(path / "raw.parquet").column("raw").to_pylist() == [frames[0].payload]
    with pytest.raises(ConfigError, match="already holds a Parquet recording"):
        EventRecorder(path)


def test_missing_pyarrow_names_the_parquet_extra(tmp_path, monkeypatch):
    for name in ("pyarrow", "pyarrow.parquet"):
        monkeypatch.setitem(sys.modules, name, None)  # import raises ImportError
    with pytest.raises(ConfigError, match=r"pip install 'barter\[parquet\]'"):
        EventRecorder(tmp_path / "session.parquet")
    (tmp_path / "old.parquet").mkdir()
    with pytest.raises(ConfigError, match="reading a Parquet recording needs pyarrow"):
        list(read_events(tmp_path / "old.parquet"))


@pytest.mark.parametrize("name", FORMATS)
def test_replay_feed_and_historic_trades(data_dir, tmp_path, name):
    _, events = _okx_events(data_dir)
    path = tmp_path / name

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

    async def replay_market_events():
        return [e async for e in ReplayFeed(path, [btc]).market_events()]

    replayed = asyncio.run(replay())
    assert all(e.market == btc for e in replayed if isinstance(e, MarketEvent))
    assert asyncio.run(replay_market_events()) == [e for e in events if isinstance(e, MarketEvent) and e.market == btc]
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
    unfinished = tmp_path / "unfinished.parquet"
    unfinished.mkdir()
    (unfinished / "trade.parquet").write_bytes(b"PAR1 no footer")
    with pytest.raises(DataError, match="trade.parquet: cannot read Parquet"):
        list(read_events(unfinished))
    (unfinished / "trade.parquet").unlink()
    (unfinished / "quotes.parquet").write_bytes(b"")
    with pytest.raises(DataError, match="unknown event type 'quotes'"):
        list(read_events(unfinished))
