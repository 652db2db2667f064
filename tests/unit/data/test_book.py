"""The compiled L2 book (``barter._core.book``) and the sequenced Binance book (``barter.data.book``)
against the dict reference in ``tests/reference/book.py``: rebuilt from real recorded Binance spot
and futures messages (../shared/data/exchange_messages, README section 1), and on random snapshots
and deltas (hypothesis)."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from barter.data.book import (ASK, BID, BookDelta, BookSide, BookSnapshot, BookStatus, DeltaResult, OrderBook,
                              SequencedBook)
from barter.errors import BookOutOfSync, ConfigError, CrossedBook, DataError, SequenceGap
from reference.book import ReferenceBook, ReferenceSequencer, apply_levels

REL = 1e-9


# --------------------------------------------------------------------------------------------------
# The recordings: cryptofeed's line format (data README section 1)
# --------------------------------------------------------------------------------------------------
def read_recording(path: Path) -> list[tuple[float, Optional[str], Any]]:
    """(receive time, url or None, JSON payload) for each REST response and WebSocket message."""
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("configuration: "):
            continue
        url = None
        if line.startswith(("ws", "http")):
            sep = min((s for s in (" <-> ", " <- ", " -> ") if s in line), key=line.index)
            url, line = line.split(sep, 1)
            if sep != " -> ":  # a connection opened or a request sent: nothing received
                continue
        ts, payload = line.split(": ", 1)
        body, _ = json.JSONDecoder().raw_decode(payload)  # an HTTP body may end with " header: {...}"
        records.append((float(ts), url, body))
    return records


@dataclass
class Stream:
    """One symbol's REST snapshot and depth deltas, each with its receive time."""
    snapshot_ts: float
    snapshot: dict[str, Any]
    deltas: list[tuple[float, dict[str, Any]]] = field(default_factory=list)


RECORDINGS = {  # rules -> (REST snapshots, WebSocket messages)
    "spot": ("binance/cryptofeed/BINANCE.http.0.0", "binance/cryptofeed/BINANCE.ws.1.0"),
    "futures": ("binance_futures/cryptofeed/BINANCE_FUTURES.http.0.0",
                "binance_futures/cryptofeed/BINANCE_FUTURES.ws.1.0"),
}


@lru_cache(maxsize=None)
def _streams(root: Path, rules: str) -> dict[str, Stream]:
    http, ws = (root / "exchange_messages" / p for p in RECORDINGS[rules])
    streams = {parse_qs(urlparse(str(url)).query)["symbol"][0]: Stream(ts, body)
               for ts, url, body in read_recording(http)}
    for ts, _, msg in read_recording(ws):
        if msg.get("stream", "").endswith("@depth@100ms"):
            streams[msg["data"]["s"]].deltas.append((ts, msg["data"]))
    return streams


@pytest.fixture(params=["spot", "futures"])
def recorded(request, data_dir) -> tuple[str, dict[str, Stream]]:
    return request.param, _streams(data_dir, request.param)


def ref_levels(rows) -> list[tuple[float, float]]:
    return [(float(p), float(s)) for p, s in rows]


def assert_same_book(book: OrderBook, ref: ReferenceBook) -> None:
    for side in (BID, ASK):
        prices, sizes = book.depth(side)
        assert list(zip(prices.tolist(), sizes.tolist())) == ref.levels(side)
        assert (book.best_bid if side == BID else book.best_ask) == ref.best(side)
    assert book.is_crossed == ref.is_crossed()
    for got, want in [(book.spread, ref.spread()), (book.mid_price, ref.mid_price()),
                      (book.micro_price, ref.micro_price())]:
        assert got == pytest.approx(want, rel=REL, nan_ok=True)


def reference_run(stream: Stream, rules: str, skip: int = -1):
    """Snapshot, then every delta through the reference: yields (delta index, verdict, book)."""
    ref, seq = ReferenceBook(), ReferenceSequencer(futures=rules == "futures")
    ref.snapshot(ref_levels(stream.snapshot["bids"]), ref_levels(stream.snapshot["asks"]))
    seq.snapshot(stream.snapshot["lastUpdateId"])
    for i, (_, d) in enumerate(stream.deltas):
        if i == skip:
            continue
        verdict = seq.check(d["U"], d["u"], d.get("pu"))
        if verdict == "apply":
            apply_levels(ref, ref_levels(d["b"]), ref_levels(d["a"]))
        yield i, verdict, ref


# --------------------------------------------------------------------------------------------------
# Real messages
# --------------------------------------------------------------------------------------------------
def test_recordings_have_what_the_tests_need(recorded):
    rules, streams = recorded
    assert len(streams) == 4
    for stream in streams.values():
        assert stream.deltas, "every symbol has depth updates"
        assert all(("pu" in d) == (rules == "futures") for _, d in stream.deltas)


def test_rebuild_matches_reference_after_every_message(recorded):
    rules, streams = recorded
    missing = 0
    for symbol, stream in streams.items():
        book = SequencedBook(rules, name=symbol)
        book.snapshot(BookSnapshot.from_binance(stream.snapshot))
        assert book.status == BookStatus.VALID
        for i, verdict, ref in reference_run(stream, rules):
            result = book.delta(BookDelta.from_binance(stream.deltas[i][1]))
            assert result == {"apply": DeltaResult.APPLIED, "drop": DeltaResult.STALE}[verdict]
            assert_same_book(book.book, ref)
            assert book.book.missing_deletes == ref.missing_deletes
        assert book.status == BookStatus.VALID and book.gaps == 0 and book.crossings == 0
        assert book.applied > 0 and book.stale >= 1  # the first delta predates every snapshot
        assert book.last_update_id == stream.deltas[-1][1]["u"]
        missing += book.book.missing_deletes
    if rules == "futures":  # futures deletes levels beyond its snapshot's 1,000: real no-op deletes
        assert missing > 0


def test_deltas_before_the_snapshot_are_stale():
    # NKNUSDT spot: the snapshot's lastUpdateId is 499869752, and the first delta (U=499869750,
    # u=499869752, received before it) is already in it; the next starts at lastUpdateId + 1.
    book = SequencedBook("spot")
    book.snapshot(BookSnapshot(499869752, [[0.3521, 672.0]], [[0.3529, 10.0]]))
    assert book.delta(BookDelta(499869750, 499869752, [[0.3513, 6195.0]], [])) == DeltaResult.STALE
    assert book.book.depth(BID)[0].tolist() == [0.3521]
    assert book.delta(BookDelta(499869753, 499869754, [[0.3517, 4265.0]], [])) == DeltaResult.APPLIED
    assert book.stale == 1 and book.applied == 1


def test_messages_in_arrival_order_are_buffered_until_the_snapshot(recorded):
    rules, streams = recorded
    for symbol, stream in streams.items():
        book = SequencedBook(rules, name=symbol)
        early = [d for ts, d in stream.deltas if ts < stream.snapshot_ts]
        assert early, "each recording has a delta that arrived before its snapshot"
        for ts, d in stream.deltas:
            if ts < stream.snapshot_ts:
                assert book.delta(BookDelta.from_binance(d)) == DeltaResult.BUFFERED
        book.snapshot(BookSnapshot.from_binance(stream.snapshot))  # replays the early ones: stale
        for ts, d in stream.deltas:
            if ts >= stream.snapshot_ts:
                book.delta(BookDelta.from_binance(d))
        *_, (_, _, ref) = reference_run(stream, rules)
        assert_same_book(book.book, ref)
        assert book.status == BookStatus.VALID and book.stale >= len(early)


def _applied_indices(stream: Stream, rules: str) -> list[int]:
    return [i for i, verdict, _ in reference_run(stream, rules) if verdict == "apply"]


@pytest.mark.parametrize("nth", [0, 1, 5])
def test_a_dropped_message_is_a_gap_and_a_new_snapshot_resyncs(recorded, nth):
    """Drop the nth applied delta from the real stream: the next one is a gap; the book turns
    INVALID and buffers; a snapshot taken later (the reference book at that point) resyncs it."""
    rules, streams = recorded
    for symbol, stream in streams.items():
        applied = _applied_indices(stream, rules)
        if len(applied) < nth + 4:
            continue
        dropped, resync_at = applied[nth], applied[nth + 2]
        book = SequencedBook(rules, name=symbol)
        book.snapshot(BookSnapshot.from_binance(stream.snapshot))
        results = []
        for i, (_, d) in enumerate(stream.deltas[:resync_at + 1]):
            if i == dropped:
                continue
            try:
                results.append(book.delta(BookDelta.from_binance(d)))
            except SequenceGap as e:
                assert i == applied[nth + 1] and symbol in str(e)
                assert book.status == BookStatus.INVALID and book.reason == str(e)
                results.append("gap")
        assert results.count("gap") == 1 and book.gaps == 1
        assert results[-1] == DeltaResult.BUFFERED
        # the exchange's book as of delta ``resync_at``, with the dropped delta applied
        truth = next(ref for i, _, ref in reference_run(stream, rules) if i == resync_at)
        book.snapshot(BookSnapshot(stream.deltas[resync_at][1]["u"], truth.levels(BID), truth.levels(ASK)))
        assert book.status == BookStatus.VALID
        for _, d in stream.deltas[resync_at + 1:]:
            book.delta(BookDelta.from_binance(d))
        *_, (_, _, final) = reference_run(stream, rules)
        assert_same_book(book.book, final)
        assert book.status == BookStatus.VALID and book.gaps == 1


def test_out_of_order_messages_are_a_gap(recorded):
    rules, streams = recorded
    for symbol, stream in streams.items():
        applied = _applied_indices(stream, rules)
        if len(applied) < 3:
            continue
        book = SequencedBook(rules, name=symbol)
        book.snapshot(BookSnapshot.from_binance(stream.snapshot))
        for i in applied[:1]:
            book.delta(BookDelta.from_binance(stream.deltas[i][1]))
        with pytest.raises(SequenceGap):
            book.delta(BookDelta.from_binance(stream.deltas[applied[2]][1]))  # before applied[1]
        assert not book.is_valid
        assert book.delta(BookDelta.from_binance(stream.deltas[applied[1]][1])) == DeltaResult.BUFFERED


# --------------------------------------------------------------------------------------------------
# Sequencing rules on ids (SEED.md section 7)
# --------------------------------------------------------------------------------------------------
def _delta(first: int, last: int, pu: Optional[int] = None, bids=(), asks=()) -> BookDelta:
    return BookDelta(first, last, list(bids), list(asks), pu)


def _valid_book(rules: str, last: int) -> SequencedBook:
    book = SequencedBook(rules)  # type: ignore[arg-type]
    book.snapshot(BookSnapshot(last, [[99.0, 1.0]], [[101.0, 1.0]]))
    return book


@pytest.mark.parametrize("first,last,result", [
    (90, 100, DeltaResult.STALE),      # u <= lastUpdateId
    (95, 99, DeltaResult.STALE),
    (100, 101, DeltaResult.APPLIED),   # U <= 101 <= u
    (101, 105, DeltaResult.APPLIED),
    (102, 105, "gap"),                 # U > lastUpdateId + 1
])
def test_spot_first_delta_after_snapshot(first, last, result):
    book = _valid_book("spot", 100)
    if result == "gap":
        with pytest.raises(SequenceGap, match="U <= 100 \\+ 1 <= u"):
            book.delta(_delta(first, last))
    else:
        assert book.delta(_delta(first, last)) == result


@pytest.mark.parametrize("first,last,result", [
    (90, 99, DeltaResult.STALE),       # u < lastUpdateId
    (90, 100, DeltaResult.APPLIED),    # U <= 100 <= u: u == lastUpdateId is applied on futures
    (100, 105, DeltaResult.APPLIED),
    (101, 105, "gap"),
])
def test_futures_first_delta_after_snapshot(first, last, result):
    book = _valid_book("futures", 100)
    if result == "gap":
        with pytest.raises(SequenceGap, match="U <= 100 <= u"):
            book.delta(_delta(first, last, pu=95))
    else:
        assert book.delta(_delta(first, last, pu=95)) == result


def test_spot_then_needs_consecutive_ids_and_futures_pu():
    spot = _valid_book("spot", 100)
    spot.delta(_delta(101, 103))
    assert spot.delta(_delta(104, 104)) == DeltaResult.APPLIED
    assert spot.delta(_delta(104, 104)) == DeltaResult.STALE  # a repeat is already applied
    with pytest.raises(SequenceGap, match="U == 104 \\+ 1"):
        spot.delta(_delta(106, 107))
    futures = _valid_book("futures", 100)
    futures.delta(_delta(98, 103, pu=97))
    assert futures.delta(_delta(110, 120, pu=103)) == DeltaResult.APPLIED  # ids may jump: pu links
    with pytest.raises(SequenceGap, match="pu == 120"):
        futures.delta(_delta(130, 140, pu=125))


def test_invalid_until_a_snapshot_then_valid_again():
    book = SequencedBook("spot")
    assert book.status == BookStatus.INVALID and book.reason == "no snapshot yet"
    assert book.delta(_delta(1, 2, bids=[[1.0, 1.0]])) == DeltaResult.BUFFERED
    book.snapshot(BookSnapshot(2, [[0.9, 1.0]], []))
    assert book.is_valid and book.stale == 1
    with pytest.raises(BookOutOfSync):
        book.delta(_delta(5, 6))
    assert book.delta(_delta(7, 8)) == DeltaResult.BUFFERED
    book.snapshot(BookSnapshot(6, [[0.8, 2.0]], []))  # replays 5..6 (stale) and 7..8
    assert book.is_valid and book.last_update_id == 8 and book.gaps == 1


def test_a_gap_in_the_replayed_buffer_raises_from_snapshot_and_keeps_the_rest():
    book = SequencedBook("spot")
    for first, last in [(5, 6), (9, 10), (11, 12)]:  # 7..8 never came
        book.delta(_delta(first, last))
    with pytest.raises(SequenceGap):
        book.snapshot(BookSnapshot(6, [], []))
    assert not book.is_valid and book.gaps == 1
    book.snapshot(BookSnapshot(10, [], []))  # 9..10 and 11..12 were kept
    assert book.is_valid and book.last_update_id == 12


def test_buffer_overflow_drops_the_oldest():
    book = SequencedBook("spot", max_buffered=2)
    for i in range(5):
        book.delta(_delta(i, i))
    assert book.overflowed == 3
    book.snapshot(BookSnapshot(2, [], []))
    assert book.is_valid and book.last_update_id == 4


def test_a_crossing_delta_invalidates_and_raises():
    book = _valid_book("spot", 100)
    with pytest.raises(CrossedBook, match="best bid 101.5 >= best ask 101.0"):
        book.delta(_delta(101, 101, bids=[[101.5, 1.0]]))
    assert not book.is_valid and book.crossings == 1 and book.book.is_crossed
    assert book.last_update_id == 101  # it was applied: the book holds what the exchange said
    with pytest.raises(CrossedBook):
        book.snapshot(BookSnapshot(200, [[2.0, 1.0]], [[1.0, 1.0]]))
    book.snapshot(BookSnapshot(200, [[1.0, 1.0]], [[2.0, 1.0]]))
    assert book.is_valid


def test_a_delta_that_uncrosses_within_the_message_is_fine():
    # bids are applied first: the new bid crosses until the message's ask update lands
    book = _valid_book("spot", 100)
    assert book.delta(_delta(101, 101, bids=[[101.5, 1.0]], asks=[[101.0, 0.0], [102.0, 1.0]])) \
        == DeltaResult.APPLIED
    assert book.book.best_bid == (101.5, 1.0) and book.book.best_ask == (102.0, 1.0)


def test_bad_messages_are_rejected():
    with pytest.raises(DataError, match=r"bids\[1\] size must be finite and >= 0, was nan"):
        BookDelta(1, 2, [[1.0, 1.0], [2.0, float("nan")]], [])
    with pytest.raises(DataError, match=r"asks\[0\] price must be finite and >= 0, was -1.0"):
        BookSnapshot(1, [], [[-1.0, 1.0]])
    with pytest.raises(DataError, match="first update id 3 is after last update id 2"):
        BookDelta(3, 2, [], [])
    with pytest.raises(DataError, match="shape"):
        BookDelta(1, 2, [[1.0, 2.0, 3.0]], [])
    with pytest.raises(ConfigError):
        SequencedBook("margin")  # type: ignore[arg-type]


def test_binance_parsers():
    d = BookDelta.from_binance({"U": 5, "u": 7, "pu": 4, "b": [["0.1", "2"]], "a": []})
    assert (d.first_id, d.last_id, d.prev_last_id) == (5, 7, 4)
    assert d.bids.tolist() == [[0.1, 2.0]] and d.asks.shape == (0, 2)
    s = BookSnapshot.from_binance({"lastUpdateId": 9, "bids": [], "asks": [["1.5", "3"]]})
    assert s.last_update_id == 9 and s.asks.tolist() == [[1.5, 3.0]]


# --------------------------------------------------------------------------------------------------
# The compiled book
# --------------------------------------------------------------------------------------------------
def _example() -> OrderBook:
    return OrderBook([[100.0, 1.0], [98.0, 3.0], [99.0, 2.0]], [[101.0, 1.0], [102.0, 5.0]])


def test_queries():
    book = _example()
    assert BookSide.BID == 0 and BookSide.ASK == 1 and (BID, ASK) == (BookSide.BID, BookSide.ASK)
    assert book.best_bid == (100.0, 1.0) and book.best_ask == (101.0, 1.0)
    assert (book.bid_price, book.bid_size, book.ask_price, book.ask_size) == (100.0, 1.0, 101.0, 1.0)
    assert (book.n_bids, book.n_asks) == (3, 2)
    assert book.spread == 1.0 and book.mid_price == 100.5
    assert book.micro_price == (100.0 * 1.0 + 101.0 * 1.0) / 2.0
    book.update(ASK, 101.0, 3.0)
    assert book.micro_price == pytest.approx((100.0 * 3.0 + 101.0 * 1.0) / 4.0, rel=REL)  # leans to the bid
    prices, sizes = book.depth(BID, 2)
    assert prices.tolist() == [100.0, 99.0] and sizes.tolist() == [1.0, 2.0]
    assert book.depth(ASK)[0].tolist() == [101.0, 102.0] and book.depth(ASK, 0)[0].size == 0
    assert book.vwap(ASK, 4.0) == (4.0, pytest.approx((3 * 101.0 + 102.0) / 4, rel=REL))
    assert book.vwap(BID, 10.0) == (6.0, pytest.approx((100 + 2 * 99 + 3 * 98) / 6, rel=REL))  # runs out
    filled, price = book.vwap(BID, 0.0)
    assert filled == 0.0 and math.isnan(price)
    assert book.cumulative_size(BID, 99.0) == 3.0 and book.cumulative_size(BID, 99.5) == 1.0
    assert book.cumulative_size(ASK, 101.5) == 3.0 and book.cumulative_size(ASK, math.inf) == 8.0
    assert book.cumulative_size(ASK, 100.0) == 0.0


def test_empty_sides_follow_the_seed():
    book = OrderBook()
    assert book.best_bid is None and book.best_ask is None
    assert math.isnan(book.bid_price) and book.bid_size == 0.0
    assert math.isnan(book.mid_price) and math.isnan(book.micro_price) and math.isnan(book.spread)
    assert not book.is_crossed
    book.update(ASK, 101.0, 2.0)
    assert book.mid_price == 101.0 and book.micro_price == 101.0 and math.isnan(book.spread)
    book.clear()
    book.update(BID, 99.0, 2.0)
    assert book.mid_price == 99.0 and book.micro_price == 99.0


def test_zero_size_deletes_and_a_missing_delete_is_counted():
    book = _example()
    assert book.update(BID, 100.0, 0.0) is False
    assert book.best_bid == (99.0, 2.0) and book.missing_deletes == 0
    book.update(BID, 100.0, 0.0)
    book.update(ASK, 150.0, 0.0)
    assert book.missing_deletes == 2 and book.n_bids == 2 and book.n_asks == 2
    assert book.updates == 3


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), -1.0])
def test_bad_values_raise_naming_the_value_and_change_nothing(bad):
    book = _example()
    before = (book.depth(BID), book.depth(ASK), book.updates)

    def unchanged() -> None:
        after = (book.depth(BID), book.depth(ASK), book.updates)
        for a, b in zip(before[:2], after[:2]):
            np.testing.assert_array_equal(a[0], b[0])
            np.testing.assert_array_equal(a[1], b[1])
        assert before[2] == after[2]

    with pytest.raises(DataError, match=f"bid price must be finite and >= 0, was {bad!r}"):
        book.update(BID, bad, 1.0)
    with pytest.raises(DataError, match=f"ask size must be finite and >= 0, was {bad!r} at price 101.0"):
        book.update(ASK, 101.0, bad)
    with pytest.raises(DataError, match=repr(bad)):
        book.apply_delta([[99.5, 1.0]], [[101.0, 1.0], [103.0, bad]])  # the good rows are not applied
    with pytest.raises(DataError, match=repr(bad)):
        book.apply_snapshot([[1.0, 1.0]], [[bad, 1.0]])
    with pytest.raises(DataError, match=f"update 2: bid price must be finite and >= 0, was {bad!r}"):
        book.update_many(np.zeros(3, np.int8), np.array([99.5, 99.6, bad]), np.ones(3))
    unchanged()
    assert isinstance(DataError("x"), ValueError)


def test_bad_sides_and_shapes():
    book = _example()
    with pytest.raises(ValueError, match="side must be"):
        book.update(2, 1.0, 1.0)
    with pytest.raises(ValueError, match="update 1: side must be"):
        book.update_many(np.array([0, 3], np.int8), np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="side must be"):
        book.depth(-1)
    with pytest.raises(ValueError, match="same length"):
        book.update_many(np.zeros(2, np.int8), np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="best_ask must hold 2 values"):
        book.update_many(np.zeros(2, np.int8), np.ones(2), np.ones(2), np.empty(2), np.empty(1))
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        book.apply_delta([1.0, 2.0, 3.0], [])
    with pytest.raises(ValueError, match="quantity"):
        book.vwap(ASK, -1.0)
    with pytest.raises(ValueError, match="NaN"):
        book.cumulative_size(ASK, float("nan"))


def test_snapshot_sorts_drops_zero_sizes_and_rejects_duplicates():
    book = OrderBook([[1.0, 1.0], [3.0, 0.0], [2.0, 1.0]], [[5.0, 1.0], [4.0, 2.0]])
    assert book.depth(BID)[0].tolist() == [2.0, 1.0] and book.depth(ASK)[0].tolist() == [4.0, 5.0]
    with pytest.raises(DataError, match="bid price 2.0 twice"):
        book.apply_snapshot([[2.0, 1.0], [2.0, 3.0]], [])
    assert book.depth(BID)[0].tolist() == [2.0, 1.0]  # unchanged
    assert book.apply_snapshot([], []) is False and book.n_bids == 0


def test_crossing_is_reported_by_every_update_path():
    book = _example()
    assert book.update(BID, 101.0, 1.0) is True and book.is_crossed  # bid == ask is crossed
    assert book.update(ASK, 101.0, 0.0) is False and not book.is_crossed
    assert book.apply_delta([[103.0, 1.0]], []) is True
    assert book.apply_snapshot([[1.0, 1.0]], [[0.5, 1.0]]) is True
    book = _example()
    crossed = book.update_many(np.array([0, 0, 1], np.int8), np.array([101.5, 101.5, 101.5]),
                               np.array([1.0, 0.0, 0.0]))
    assert crossed == 1 and not book.is_crossed


def test_update_many_writes_the_best_prices():
    book = _example()
    sides, prices = np.array([0, 1, 0, 1], np.int8), np.array([100.5, 100.8, 100.5, 101.0])
    sizes = np.array([1.0, 1.0, 0.0, 0.0])
    bid, ask = np.full(4, -1.0), np.full(4, -1.0)
    assert book.update_many(sides, prices, sizes, bid, ask) == 0
    assert bid.tolist() == [100.5, 100.5, 100.0, 100.0] and ask.tolist() == [101.0, 100.8, 100.8, 100.8]
    only_ask = np.full(1, -1.0)
    book.update_many(np.ones(1, np.int8), np.array([100.8]), np.zeros(1), best_ask=only_ask)
    assert only_ask.tolist() == [102.0]
    book.update_many(np.ones(2, np.int8), np.array([102.0, 99.0]), np.array([0.0, 0.0]), best_ask=np.empty(2))
    assert book.best_ask is None
    assert book.update_many(np.empty(0, np.int8), np.empty(0), np.empty(0)) == 0


def test_deep_books_grow_and_match_the_reference():
    """5,000 random updates on 1,000 levels per side (past the top-32 scan and the first growth),
    the best prices after each against the reference, and the whole book at the end."""
    rng = np.random.default_rng(11)
    ticks = np.arange(1, 1001)
    bids, asks = np.column_stack([ticks / 100, rng.uniform(1, 2, 1000)]), np.column_stack(
        [(ticks + 1000) / 100, rng.uniform(1, 2, 1000)])
    n = 5_000
    side = rng.integers(0, 2, n).astype(np.int8)
    price = np.where(side == 0, rng.integers(1, 1500, n), rng.integers(500, 2500, n)) / 100
    size = np.where(rng.random(n) < 0.3, 0.0, rng.uniform(0.1, 5.0, n))
    book, ref = OrderBook(bids, asks), ReferenceBook()
    ref.snapshot(bids.tolist(), asks.tolist())
    best_bid, best_ask = np.empty(n), np.empty(n)
    crossed = book.update_many(side, price, size, best_bid, best_ask)
    want_bid, want_ask, want_crossed = [], [], 0
    for s, p, q in zip(side.tolist(), price.tolist(), size.tolist()):
        ref.update(s, p, q)
        want_bid.append(ref.best(BID)[0])
        want_ask.append(ref.best(ASK)[0])
        want_crossed += ref.is_crossed()
    assert best_bid.tolist() == want_bid and best_ask.tolist() == want_ask and crossed == want_crossed
    assert_same_book(book, ref)
    assert book.missing_deletes == ref.missing_deletes and book.n_bids > 1000


# --------------------------------------------------------------------------------------------------
# Hypothesis: random snapshots and deltas against the reference
# --------------------------------------------------------------------------------------------------
# Prices on a small grid where bids and asks overlap: repeated levels, deletes of missing levels and
# crossing updates are all common. Up to 80 levels a side: past the 32 levels scanned from the top.
prices = st.integers(1, 120).map(lambda t: t / 100)
sizes = st.one_of(st.just(0.0), st.floats(1e-6, 1e6, allow_nan=False, allow_infinity=False))
levels = st.lists(st.tuples(prices, st.floats(1e-6, 1e6)), max_size=80, unique_by=lambda r: r[0])
updates = st.lists(st.tuples(st.sampled_from([0, 1]), prices, sizes), max_size=150)


def _snapshot_side(rows, bid: bool):
    # keep a side of a plausible snapshot: bids low, asks high (crossing comes from the updates)
    return [(p, s) for p, s in rows if (p <= 0.6) == bid]


@given(levels, levels, updates, st.floats(0.0, 1e7))
def test_matches_the_reference_update_by_update(bid_rows, ask_rows, changes, quantity):
    bids, asks = _snapshot_side(bid_rows, True), _snapshot_side(ask_rows, False)
    book, ref = OrderBook(bids, asks), ReferenceBook()
    ref.snapshot(bids, asks)
    assert_same_book(book, ref)
    for side, price, size in changes:
        crossed = book.update(side, price, size)
        ref.update(side, price, size)
        assert crossed == ref.is_crossed()
        assert_same_book(book, ref)
        assert book.missing_deletes == ref.missing_deletes
    for side in (BID, ASK):
        filled, vwap = book.vwap(side, quantity)
        want_filled, want_vwap = ref.vwap(side, quantity)
        assert filled == pytest.approx(want_filled, rel=REL)
        assert vwap == pytest.approx(want_vwap, rel=REL, nan_ok=True)
        for price in (0.0, 0.3, 0.6, 0.9, 1.2):
            assert book.cumulative_size(side, price) == pytest.approx(ref.cumulative_size(side, price), rel=REL)


snapshot_rows = st.lists(st.tuples(prices, sizes), max_size=60)


@given(snapshot_rows, snapshot_rows, st.sampled_from(["as given", "best first", "worst first"]))
def test_snapshot_from_float_tuples_or_arrays_matches_the_reference(bid_rows, ask_rows, order):
    """Any order (sorted or not), zero sizes and repeated prices: tuples of floats (loaded without
    NumPy) and arrays give the reference's book, or both refuse a price given twice and keep the book."""
    if order != "as given":
        bid_rows = sorted(bid_rows, reverse=order == "best first")
        ask_rows = sorted(ask_rows, reverse=order == "worst first")
    ref = ReferenceBook()
    ref.snapshot(bid_rows, ask_rows)
    repeated = any(len({p for p, s in rows if s}) < sum(1 for _, s in rows if s) for rows in (bid_rows, ask_rows))
    as_arrays = np.array(bid_rows).reshape(-1, 2), np.array(ask_rows).reshape(-1, 2)
    for bids, asks in ((tuple(bid_rows), tuple(ask_rows)), as_arrays):
        book = OrderBook([[0.01, 1.0]], [])
        if repeated:
            with pytest.raises(DataError, match="twice"):
                book.apply_snapshot(bids, asks)
            assert book.depth(BID)[0].tolist() == [0.01] and book.n_asks == 0
        else:
            assert book.apply_snapshot(bids, asks) == ref.is_crossed()
            assert_same_book(book, ref)


@given(levels, levels, updates)
def test_update_many_equals_one_update_at_a_time(bid_rows, ask_rows, changes):
    bids, asks = _snapshot_side(bid_rows, True), _snapshot_side(ask_rows, False)
    batch, ref = OrderBook(bids, asks), ReferenceBook()
    ref.snapshot(bids, asks)
    n = len(changes)
    side = np.array([c[0] for c in changes], np.int8)
    price = np.array([c[1] for c in changes], np.float64)
    size = np.array([c[2] for c in changes], np.float64)
    best_bid, best_ask = np.empty(n), np.empty(n)
    crossed = batch.update_many(side, price, size, best_bid, best_ask)
    want_crossed = 0
    for i, (s, p, q) in enumerate(changes):
        ref.update(s, p, q)
        want_crossed += ref.is_crossed()
        bid, ask = ref.best(BID), ref.best(ASK)
        assert best_bid[i] == pytest.approx(bid[0] if bid else math.nan, nan_ok=True)
        assert best_ask[i] == pytest.approx(ask[0] if ask else math.nan, nan_ok=True)
    assert crossed == want_crossed
    assert_same_book(batch, ref)


ids = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3)), min_size=1, max_size=40)


@pytest.mark.parametrize("rules", ["spot", "futures"])
@given(start=st.integers(0, 50), steps=ids)
def test_sequencing_matches_the_reference(rules, start, steps):
    """Deltas with random id ranges (gaps, overlaps, repeats; futures ``pu`` sometimes wrong)
    against the seed's rules written out in the reference, until the first gap."""
    book, ref = SequencedBook(rules), ReferenceSequencer(futures=rules == "futures")  # type: ignore[arg-type]
    book.snapshot(BookSnapshot(start, [], []))
    ref.snapshot(start)
    first, prev = max(start - 2, 0), start
    for skip, width in steps:
        first += skip  # a skip of 1 follows on: U = previous u + 1
        last = first + width
        pu = prev if skip != 4 else prev - 1  # futures: a wrong pu now and then
        verdict = ref.check(first, last, pu)
        if verdict == "gap":
            with pytest.raises(SequenceGap):
                book.delta(_delta(first, last, pu))
            assert book.status == BookStatus.INVALID
            return
        assert book.delta(_delta(first, last, pu)) == {"apply": DeltaResult.APPLIED,
                                                       "drop": DeltaResult.STALE}[verdict]
        if verdict == "apply":
            prev = last
        first = last
    assert book.is_valid and book.last_update_id == ref.last
