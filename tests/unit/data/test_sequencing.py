"""``SequencedBook.delta`` (compiled, ``barter._core.book.SequencedBookBase``) against the rules
stated in Python (``SequencedBook._delta``): the same results, errors and state for any sequence of
snapshots and deltas, on both Binance rule sets; and ``BookManager.process``'s compiled path for
Binance updates against its Python path."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barter.data.book import ASK, BID, BookDelta, BookSnapshot, DeltaResult, SequencedBook
from barter.data.exchange import BINANCE_FUTURES_USD, BINANCE_SPOT, OrderBookL2Update
from barter.data.exchange.binance import market_from_symbol
from barter.data.exchange.books import BookManager
from barter.data.exchange.events import OrderBookL2Snapshot, market_event
from barter.errors import BookOutOfSync, CrossedBook, SequenceGap


class PythonRulesBook(SequencedBook):
    """Every delta, also those a snapshot replays, through the Python statement of the rules."""

    delta = SequencedBook._delta


@dataclass(frozen=True)
class Update:  # what the feed parsers give: levels as tuples of float tuples
    first_id: Any
    last_id: Any
    prev_last_id: Optional[Any]
    bids: Any
    asks: Any


def _outcome(call):
    try:
        return call()
    except BookOutOfSync as e:
        return type(e), str(e)


def _state(book: SequencedBook):
    return (book.status, book.reason, book.last_update_id, type(book.last_update_id), book.applied, book.stale,
            book.gaps, book.crossings, book.overflowed, book._first, len(book._buffer),
            [a.tolist() for a in book.book.depth(BID)], [a.tolist() for a in book.book.depth(ASK)])


_bid = st.floats(90.0, 100.5).map(lambda p: round(p, 1))  # > 100 can cross the asks
_ask = st.floats(99.5, 110.0).map(lambda p: round(p, 1))
_size = st.sampled_from([0.0, 0.5, 1.0, 2.25])


@st.composite
def _ops(draw):
    """Snapshots and deltas whose ids stay near the book's sequence: next, stale, straddling, gaps."""
    ops, last = [], draw(st.integers(0, 50))
    for _ in range(draw(st.integers(1, 30))):
        if draw(st.integers(0, 9)) == 0:
            last = draw(st.integers(0, max(last, 0) + 5))  # deltas can walk the ids below 0
            ops.append(("snapshot", BookSnapshot(last, [(99.0, 1.0), (98.0, 2.0)], [(101.0, 1.0), (102.0, 2.0)])))
            continue
        first = last + draw(st.sampled_from([1, 1, 1, 0, -1, -3, 2, 5]))
        end = first + draw(st.integers(0, 3))
        prev = draw(st.sampled_from([last, last, last, last - 1, None, end]))
        bids = tuple(draw(st.lists(st.tuples(_bid, _size), max_size=3)))
        asks = tuple(draw(st.lists(st.tuples(_ask, _size), max_size=3)))
        kind = draw(st.sampled_from(["tuples", "tuples", "tuples", "numpy", "numpy ids", "huge ids"]))
        if kind == "numpy":
            ops.append(("delta", BookDelta(first, end, bids or np.empty((0, 2)), asks or np.empty((0, 2)), prev)))
        elif kind == "numpy ids":
            ops.append(("delta", Update(np.int64(first), np.int64(end), prev, bids, asks)))
        elif kind == "huge ids":
            big = 2 ** 63
            ops.append(("delta", Update(first + big, end + big, None if prev is None else prev + big, bids, asks)))
        else:
            ops.append(("delta", Update(first, end, prev, bids, asks)))
        if draw(st.booleans()):
            last = end
    return ops


@settings(max_examples=400, deadline=None)
@given(rules=st.sampled_from(["spot", "futures"]), start=st.integers(0, 50), ops=_ops())
def test_compiled_delta_equals_the_python_rules(rules, start, ops):
    books = SequencedBook(rules, "X", max_buffered=5), PythonRulesBook(rules, "X", max_buffered=5)
    snap = BookSnapshot(start, [(99.0, 1.0)], [(101.0, 1.0)])
    for book in books:
        book.snapshot(snap)
    for op, arg in ops:
        outcomes = [_outcome(lambda b=b: getattr(b, op)(arg)) for b in books]
        assert outcomes[0] == outcomes[1], (op, arg)
        assert _state(books[0]) == _state(books[1]), (op, arg)


def _update(first, last, prev=None, bids=((99.5, 1.0),), asks=()):
    return Update(first, last, prev, bids, asks)


def test_the_rules_documented_cases_on_the_compiled_path():
    spot = SequencedBook("spot")
    spot.snapshot(BookSnapshot(100, [(99.0, 1.0)], [(101.0, 1.0)]))
    assert spot.delta(_update(90, 100)) == DeltaResult.STALE  # u <= lastUpdateId: dropped
    with pytest.raises(SequenceGap, match="the first delta after a snapshot"):
        spot.delta(_update(102, 105))  # the first must straddle lastUpdateId + 1
    with pytest.raises(SequenceGap):  # the snapshot replays the kept delta: still a gap
        spot.snapshot(BookSnapshot(100, [(99.0, 1.0)], [(101.0, 1.0)]))
    assert not spot.is_valid
    spot.snapshot(BookSnapshot(101, [(99.0, 1.0)], [(101.0, 1.0)]))  # now it straddles 102
    assert spot.is_valid and spot.last_update_id == 105 and spot.book.best_bid == (99.5, 1.0)
    assert spot.delta(_update(106, 107)) == DeltaResult.APPLIED
    with pytest.raises(SequenceGap, match=r"need U == 107 \+ 1"):
        spot.delta(_update(109, 110))
    assert spot.delta(_update(108, 108)) == DeltaResult.BUFFERED

    futures = SequencedBook("futures")
    futures.snapshot(BookSnapshot(100, [(99.0, 1.0)], [(101.0, 1.0)]))
    assert futures.delta(_update(90, 99, 80)) == DeltaResult.STALE  # u < lastUpdateId
    assert futures.delta(_update(95, 100, 94)) == DeltaResult.APPLIED  # U <= lastUpdateId <= u
    assert futures.delta(_update(103, 104, 100)) == DeltaResult.APPLIED  # pu chains, whatever U is
    with pytest.raises(SequenceGap, match="need pu == 104"):
        futures.delta(_update(105, 106, None))
    crossing = SequencedBook("spot")
    crossing.snapshot(BookSnapshot(1, [(99.0, 1.0)], [(101.0, 1.0)]))
    with pytest.raises(CrossedBook, match="delta 2..2 crossed"):
        crossing.delta(_update(2, 2, bids=((102.0, 1.0),)))
    assert not crossing.is_valid and crossing.applied == 1 and crossing.last_update_id == 2


class PythonBookManager(BookManager):
    """Every event through the Python path of ``process``."""

    process = BookManager._process


def _events(market, ops):
    """The ops as a feed's events: tuples of float levels; ids the parsers never give are left out."""
    out = []
    for op, arg in ops:
        if op == "snapshot":
            kind = OrderBookL2Snapshot(arg.last_update_id, tuple(map(tuple, arg.bids.tolist())),
                                       tuple(map(tuple, arg.asks.tolist())))
        elif isinstance(arg, Update) and type(arg.first_id) is int and arg.first_id < 2 ** 62:
            kind = OrderBookL2Update(arg.first_id, arg.last_id, arg.prev_last_id, arg.bids, arg.asks)
        else:
            continue
        out.append(market_event(len(out), market, kind))
    return out


@settings(max_examples=200, deadline=None)
@given(venue=st.sampled_from([BINANCE_SPOT, BINANCE_FUTURES_USD]), start=st.integers(0, 50), ops=_ops())
def test_the_managers_compiled_path_equals_its_python_path(venue, start, ops):
    market = market_from_symbol("btcusdt", venue)
    snapshot = market_event(0, market, OrderBookL2Snapshot(start, ((99.0, 1.0),), ((101.0, 1.0),)))
    managers = BookManager(), PythonBookManager()
    for manager in managers:
        manager.add(market)
    for event in [snapshot] + _events(market, ops):
        outputs = [m.process(event) for m in managers]
        assert outputs[0] == outputs[1], event
        assert managers[0].pending_resyncs == managers[1].pending_resyncs
        assert managers[0].counters(market) == managers[1].counters(market)
        assert _state(managers[0]._books[market].seq) == _state(managers[1]._books[market].seq)
