"""The feeds' fast paths give exactly what the generic ones do: Binance's typed msgspec decoding
(on every real recorded frame, and on malformed frames, which fall back and name the fault), L2
levels applied to the compiled book without NumPy, slot-setting event constructors, cached
checksum texts and the book manager's market lookup by identity."""
from __future__ import annotations

import dataclasses
import gc
import pickle
import sys

import pytest

from barter._core.book import OrderBook
from barter._core.slots import SlotsBuilder
from barter.data.book import ASK, BID, BookDelta, SequencedBook
from barter.data.event import MarketEvent, Trade
from barter.data.exchange import BINANCE_FUTURES_USD, BINANCE_SPOT, BinanceParser, FeedError, OrderBookL2Update
from barter.data.exchange.binance import market_from_symbol
from barter.data.exchange.books import BookManager
from barter.data.exchange.checksum import kraken_checksum, okx_checksum
from barter.data.exchange.events import OrderBookL1, OrderBookL2Snapshot, slots_constructor
from barter.data.exchange.recording import ws_frames
from barter.errors import DataError
from barter.instrument import InstrumentKind, Market, Side

RECORDINGS = {"spot": (BINANCE_SPOT, "binance/cryptofeed/BINANCE.ws.1.0"),
              "futures": (BINANCE_FUTURES_USD, "binance_futures/cryptofeed/BINANCE_FUTURES.ws.1.0")}
TYPED = {"aggTrade": "_typed_trade", "depth@100ms": "_typed_depth", "bookTicker": "_typed_book_ticker"}


def _spot(base="btc", quote="usdt") -> Market:
    return Market("binance", (base, quote, InstrumentKind.SPOT))


@pytest.mark.parametrize("name", sorted(RECORDINGS))
def test_typed_path_equals_generic_path_on_every_recorded_frame(data_dir, name):
    venue, path = RECORDINGS[name]
    frames = ws_frames(data_dir / "exchange_messages" / path)
    symbols = {f.payload.split('"stream":"', 1)[1].split("@", 1)[0] for f in frames if '"stream"' in f.payload}
    parser = BinanceParser([market_from_symbol(s, venue) for s in symbols], venue)
    typed = 0
    for f in frames:
        generic = parser._parse_generic(f.payload, f.received_ns)
        assert parser.parse(f.payload, f.received_ns) == generic
        assert parser.parse(f.payload.encode(), f.received_ns) == generic
        channel = f.payload.split("@", 1)[1].split('"', 1)[0]
        if channel in TYPED:  # the typed decoder itself took it, rather than the fallback
            assert getattr(parser, TYPED[channel])(f.payload, f.received_ns) == generic, f.payload
            typed += 1
    assert typed > 0.8 * len(frames) and parser.errors == 0


@pytest.mark.parametrize("name", sorted(RECORDINGS))
def test_recorded_hot_frames_never_reach_the_generic_path(data_dir, name, monkeypatch):
    """The dispatch finds the "@" after each symbol (of several lengths), in text and bytes frames."""
    venue, path = RECORDINGS[name]
    frames = [f.payload for f in ws_frames(data_dir / "exchange_messages" / path)
              if any(f"@{channel}" in f.payload for channel in TYPED)]
    symbols = {f.split('"stream":"', 1)[1].split("@", 1)[0] for f in frames}
    parser = BinanceParser([market_from_symbol(s, venue) for s in symbols], venue)
    assert len(parser._ats) > 1  # symbols of different lengths
    monkeypatch.setattr(parser, "_parse_generic", lambda raw, ns: pytest.fail(f"generic path for {raw!r}"))
    for raw in frames:
        assert len(parser.parse(raw)) == 1 and len(parser.parse(raw.encode())) == 1


_BAD_DATA = [  # (data of a combined trade frame, reason the generic path gives)
    ('{"e":"trade","s":"DOGEUSDT","p":"1","q":"1","T":1,"m":true}', "unknown symbol 'DOGEUSDT'"),
    ('{"e":"trade","s":"BTCUSDT","p":"nan","q":"1","T":1,"m":true}', "p must be a finite price > 0"),
    ('{"e":"trade","s":"BTCUSDT","p":"inf","q":"1","T":1,"m":true}', "p must be a finite price > 0"),
    ('{"e":"trade","s":"BTCUSDT","p":"0","q":"1","T":1,"m":true}', "p must be a finite price > 0"),
    ('{"e":"trade","s":"BTCUSDT","p":"1","q":"-1","T":1,"m":true}', "q must be a finite amount > 0"),
    ('{"e":"trade","s":"BTCUSDT","p":"1","q":"0","T":1,"m":true}', "q must be a finite amount > 0"),
    ('{"e":"trade","s":"BTCUSDT","p":"1","q":"1e-400","T":1,"m":true}', "q must be a finite amount > 0"),
    ('{"e":"trade","s":"BTCUSDT","p":"1","q":"1","T":-1,"m":true}', "T must be a non-negative integer"),
    ('{"e":"trade","s":"BTCUSDT","p":"1","q":"1","T":1,"m":"yes"}', "m must be a bool, was 'yes'"),
    ('{"e":"trade","s":"BTCUSDT","q":"1","T":1,"m":true}', "missing field 'p'"),
    ('{"e":"kline","s":"BTCUSDT","p":"1","q":"1","T":1,"m":true}', "missing field 'k'"),
]


@pytest.mark.parametrize("data, reason", _BAD_DATA)
def test_malformed_combined_frames_fall_back_and_name_the_fault(data, reason):
    parser = BinanceParser([_spot()])
    raw = '{"stream":"btcusdt@trade","data":' + data + "}"
    (error,) = parser.parse(raw, 9)
    assert isinstance(error, FeedError) and reason in error.reason, error
    assert error.raw == raw and error.received_ns == 9 and parser.errors == 1


@pytest.mark.parametrize("channel, data, reason", [
    ("depth@100ms", '{"e":"depthUpdate","s":"BTCUSDT","E":1,"U":5,"u":4,"b":[],"a":[]}', "U=5 is after u=4"),
    ("depth@100ms", '{"e":"depthUpdate","s":"BTCUSDT","E":1,"U":1,"u":4,"b":[["1","inf"]],"a":[]}', "b level"),
    ("depth@100ms", '{"e":"depthUpdate","s":"BTCUSDT","U":1,"u":4,"b":[],"a":[]}', "T must be a non-negative"),
    ("bookTicker", '{"u":1,"s":"BTCUSDT","b":"2","B":"1","a":"-3","A":"1"}', "a must be a finite price > 0"),
])
def test_malformed_depth_and_ticker_frames_fall_back(channel, data, reason):
    parser = BinanceParser([_spot()])
    (error,) = parser.parse(f'{{"stream":"btcusdt@{channel}","data":{data}}}', 1)
    assert isinstance(error, FeedError) and reason in error.reason, error


def test_bad_utf8_and_truncated_frames_are_error_events_with_the_raw_text():
    parser = BinanceParser([_spot()])
    raw = b'{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","s":"\xff\xfe"'
    (error,) = parser.parse(raw, 3)
    assert isinstance(error, FeedError) and error.reason.startswith("not JSON")
    assert error.raw == raw.decode("utf-8", "backslashreplace")


def test_lax_typed_decoding_reads_numeric_strings_in_integer_fields():
    # Documented in _binance_typed: unambiguous values Binance never sends this way still parse.
    parser = BinanceParser([_spot()])
    raw = '{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","p":"2.5","q":"1","T":"7","m":false}}'
    assert parser.parse(raw) == [MarketEvent(7 * 1_000_000, _spot(), Trade(2.5, 1.0, Side.BUY))]


def test_futures_trades_not_printed_by_the_market_are_skipped_on_the_typed_path():
    parser = BinanceParser([Market("binance_futures_usd", ("btc", "usdt", InstrumentKind.PERPETUAL))],
                           BINANCE_FUTURES_USD)
    raw = ('{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","p":"2","q":"1","T":1,"m":true,'
           '"X":"LIQUIDATION"}}')
    assert parser.parse(raw) == [] and parser.ignored == 1 and parser.errors == 0


# --------------------------------------------------------------------------------------------------
# Constructors that skip the generated __init__
# --------------------------------------------------------------------------------------------------
def test_slots_constructor_builds_equal_objects():
    make = slots_constructor(OrderBookL2Update)
    assert make is not OrderBookL2Update
    built = make(1, 2, None, ((1.0, 2.0),), (), 5)
    assert built == OrderBookL2Update(1, 2, None, ((1.0, 2.0),), (), 5) and type(built) is OrderBookL2Update
    assert slots_constructor(OrderBookL1)(1.0, 2.0, 3.0, 4.0, 5) == OrderBookL1(1.0, 2.0, 3.0, 4.0, 5)
    with pytest.raises(Exception):  # still frozen
        built.first_id = 3  # type: ignore[misc]


def test_built_events_behave_as_constructed_ones():
    """Equality, hashing, repr, pickling, dataclasses helpers and the GC see no difference."""
    market = _spot()
    refs = sys.getrefcount(market)
    built = slots_constructor(MarketEvent)(5, market, slots_constructor(Trade)(2.5, 0.1, Side.SELL))
    made = MarketEvent(5, market, Trade(2.5, 0.1, Side.SELL))
    assert built == made and hash(built) == hash(made) and repr(built) == repr(made)
    assert pickle.loads(pickle.dumps(built)) == made
    assert dataclasses.asdict(built) == dataclasses.asdict(made)
    assert dataclasses.replace(built, exchange_time_ns=6) == MarketEvent(6, market, made.kind)
    assert gc.is_tracked(built) and built.kind in gc.get_referents(built)
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.market = market  # type: ignore[misc]
    del built, made
    assert sys.getrefcount(market) == refs  # the builder's references went with the events


def test_slots_builder_takes_all_fields_and_only_plain_slots():
    make = slots_constructor(Trade)
    with pytest.raises(TypeError, match="Trade takes 3 fields .price, amount, side., 2 given"):
        make(1.0, 2.0)
    with pytest.raises(TypeError, match="at most"):
        make(*range(9))
    with pytest.raises(TypeError, match="Trade.volume is not a slot"):
        SlotsBuilder(Trade, ("price", "volume"))
    for cls in (bool, type("WithDict", (), {})):  # not a direct subclass of object; has a __dict__
        with pytest.raises(TypeError, match="need a direct subclass of object"):
            SlotsBuilder(cls, ("real",))


def test_slots_constructor_keeps_the_class_where_init_must_run():
    assert slots_constructor(Market) is Market  # __post_init__ checks
    assert slots_constructor(BookDelta) is BookDelta  # hand-written __init__
    assert slots_constructor(SequencedBook) is SequencedBook  # not a dataclass


# --------------------------------------------------------------------------------------------------
# The compiled book fed tuples of floats
# --------------------------------------------------------------------------------------------------
def test_apply_delta_with_float_tuples_equals_the_array_path():
    rows_b, rows_a = ((10.0, 1.0), (9.5, 2.0), (10.0, 0.0)), [(11.0, 3.0), (12.0, 1.5)]
    fast, slow = OrderBook([[9.0, 1.0]], [[13.0, 1.0]]), OrderBook([[9.0, 1.0]], [[13.0, 1.0]])
    assert fast.apply_delta(rows_b, rows_a) == slow.apply_delta([list(r) for r in rows_b], [list(r) for r in rows_a])
    for side in (BID, ASK):
        assert [a.tolist() for a in fast.depth(side)] == [a.tolist() for a in slow.depth(side)]
    assert fast.depth(BID)[0].tolist() == [9.5, 9.0]


@pytest.mark.parametrize("bids, message", [(((1.5, 1.0), (1.0, -2.0)), r"bid size must be finite and >= 0"),
                                           (((1.5, 1.0), (float("nan"), 2.0)), r"bid price must be finite"),
                                           (((1.5, 1.0, 0.0), (1.2, 2.0, 3.0)), r"must be \(n, 2\)")])
def test_apply_delta_with_bad_tuples_changes_nothing_and_names_the_value(bids, message):
    book = OrderBook([[1.0, 1.0]], [[2.0, 1.0]])
    with pytest.raises((DataError, ValueError), match=message):
        book.apply_delta(bids, ())
    assert book.depth(BID)[0].tolist() == [1.0] and book.updates == 0


def test_truncate_drops_the_worst_levels():
    book = OrderBook([[1.0, 1.0], [2.0, 1.0], [3.0, 1.0]], [[4.0, 1.0], [5.0, 1.0]])
    assert book.truncate(BID, 2) == 1 and book.depth(BID)[0].tolist() == [3.0, 2.0]
    assert book.truncate(ASK, 1) == 1 and book.depth(ASK)[0].tolist() == [4.0]
    assert book.truncate(ASK, 5) == 0 and book.n_asks == 1
    with pytest.raises(ValueError, match="depth must be >= 0"):
        book.truncate(BID, -1)


# --------------------------------------------------------------------------------------------------
# Checksums with cached texts; book lookup by identity
# --------------------------------------------------------------------------------------------------
def test_cached_checksum_texts_give_the_same_crc_as_fresh_ones():
    book = OrderBook([[30261.5, 0.05452], [30261.0, 1e-05]], [[30262.0, 2.0]])
    okx_cache: dict[float, str] = {}
    kraken_cache: tuple[dict[float, str], dict[float, str]] = ({}, {})
    for step in range(3):
        assert okx_checksum(book, okx_cache) == okx_checksum(book)
        assert kraken_checksum(book, 1, 8, cache=kraken_cache) == kraken_checksum(book, 1, 8)
        book.update(BID, 30260.0 - step, 0.5 + step)
    assert okx_cache[1e-05] == "0.00001" and kraken_cache[0][30261.5] == "302615"


def test_book_manager_finds_a_book_by_an_equal_market_object():
    manager = BookManager()
    manager.add(_spot())
    snap = OrderBookL2Snapshot(1, ((1.0, 1.0),), ((2.0, 1.0),))
    other = _spot()  # equal, not the same object
    assert other is not _spot()
    events = manager.process(MarketEvent(5, other, snap))
    assert [type(e).__name__ for e in events] == ["BookStatusEvent", "MarketEvent"]
    update = OrderBookL2Update(2, 2, None, ((1.5, 1.0),), ())
    assert manager.process(MarketEvent(6, _spot(), update))[0].kind is update
    assert manager.book(other).bid_price == 1.5 and manager.counters(_spot()).resyncs == 1
