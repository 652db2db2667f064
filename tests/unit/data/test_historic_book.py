"""Historic L2 books: built from real recorded messages (what a live session served), replayed in
backtests so the strategy sees the book as it stood at each message."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from barter import Engine, Trader
from barter.data import HistoricalBook, OrderBook
from barter.data.event import BOOK, MarketEvent
from barter.data.exchange.books import BookManager
from barter.data.exchange.events import OrderBookL2Snapshot, OrderBookL2Update
from barter.errors import DataError
from barter.instrument import Market
from barter.portfolio import Portfolio
from barter.strategy import Strategy
from tests.recorded_books import binance_futures_l2_session, binance_l2_feed

BTC = Market("binance", ("btc", "usdt"))


def depth(book: OrderBook) -> tuple[list, list]:
    return tuple(np.column_stack(book.depth(side)).tolist() for side in (0, 1))  # type: ignore[return-value]


def served_books(market: Market, events: list[MarketEvent]) -> list[tuple[list, list]]:
    """The book a live session's BookManager served after each event it served."""
    manager, out = BookManager(), []
    manager.add(market)
    for event in events:
        if any(isinstance(e, MarketEvent) for e in manager.process(event)):
            out.append(depth(manager.book(market)))
    return out


class Seen(Strategy):
    def __init__(self) -> None:
        self.books: list[tuple[list, list]] = []
        self.tops: list[tuple[float, float, float]] = []

    def generate_signal(self, view):
        assert view.kind == BOOK
        self.books.append(depth(view.book))
        self.tops.append((view.bid_price, view.ask_price, view.close))


def test_rows_are_the_books_a_live_session_served_on_the_real_recording(data_dir: Path) -> None:
    market, events = binance_l2_feed(data_dir)
    served = served_books(market, events)
    book = HistoricalBook.from_events(events)
    assert len(book) == len(served) > 100
    seen = Seen()
    Engine([Trader(market, book, seen)], Portfolio(10_000.0)).run()
    assert seen.books == served  # every level of both sides, after every message
    for (bid, ask, mark), (bids, asks) in zip(seen.tops, served):
        assert (bid, ask) == (bids[0][0], asks[0][0]) and bid < mark < ask


@pytest.mark.parametrize("stamp", ["received", "exchange"])
def test_a_futures_recording_stamped_as_live_sessions_stamp_it_loads(data_dir: Path, tmp_path: Path,
                                                                      stamp: str) -> None:
    """The REST snapshot stamped on receipt (local clock) or with its ``T`` is newer than the diffs
    applied after it (they were buffered before it arrived): rows follow the update ids, at the
    book's clock."""
    import orjson

    from barter.data.exchange.recorder import EventRecorder

    exchange_time = (lambda r: orjson.loads(r.payload)["T"] * 1_000_000) if stamp == "exchange" else None
    market, events = binance_futures_l2_session(data_dir, **({"snapshot_ns": exchange_time} if exchange_time else {}))
    snapshot = next(e for e in events if isinstance(e.kind, OrderBookL2Snapshot))
    with EventRecorder(tmp_path / "session.jsonl") as recorder:  # what a live session's recorder wrote
        for event in events:
            recorder.write(event)
    book = HistoricalBook.from_recording(tmp_path / "session.jsonl", market)
    served = served_books(market, events)
    assert len(book) == len(served) > 100 and book.snapshot[0] == 1
    # the diff applied next, stamped before the snapshot, runs at the book's clock: the snapshot's time
    assert int(book.time_ns[0]) == int(book.time_ns[1]) == snapshot.exchange_time_ns
    assert np.all(np.diff(book.time_ns) >= 0)
    later = next(e for e in events[events.index(snapshot) + 1:] if e.exchange_time_ns > snapshot.exchange_time_ns)
    assert later.exchange_time_ns in book.time_ns  # a diff stamped after it keeps its own time
    seen = Seen()
    Engine([Trader(market, book, seen)], Portfolio(10_000.0)).run()
    assert seen.books == served


def test_a_lost_diff_drops_the_rows_until_the_next_snapshot(data_dir: Path) -> None:
    market, events = binance_l2_feed(data_dir)
    snap = next(i for i, e in enumerate(events) if isinstance(e.kind, OrderBookL2Snapshot))
    lost = next(i for i in range(snap + 3, len(events)) if isinstance(events[i].kind, OrderBookL2Update))
    broken = events[:lost] + events[lost + 1:]
    full, cut = HistoricalBook.from_events(events), HistoricalBook.from_events(broken)
    assert 0 < len(cut) < len(full)
    assert served_books(market, broken) == rows_replayed(cut)


def rows_replayed(book: HistoricalBook) -> list[tuple[list, list]]:
    ob, out = OrderBook(), []
    for i in range(len(book)):
        snapshot, side, price, size = book.levels(i)
        if snapshot:
            ob.clear()
        ob.update_many(side, price, size)
        out.append(depth(ob))
    return out


def arrays(messages: list[tuple[int, bool, list[tuple[int, float, float]]]]) -> dict:
    counts = [len(levels) for _, _, levels in messages]
    levels = [lv for _, _, ls in messages for lv in ls]
    return dict(time_ns=[t for t, _, _ in messages], start=np.concatenate([[0], np.cumsum(counts)]),
                snapshot=[s for _, s, _ in messages], side=[lv[0] for lv in levels],
                price=[lv[1] for lv in levels], size=[lv[2] for lv in levels])


def test_one_sided_messages_fold_into_the_next() -> None:
    book = HistoricalBook(**arrays([
        (1, True, [(0, 99.0, 1.0)]),                  # no asks yet: folded into the next
        (2, False, [(1, 101.0, 2.0)]),
        (3, False, [(1, 101.0, 0.0)]),                # asks empty again
        (4, True, [(0, 98.0, 1.0), (1, 102.0, 1.0)]),  # a snapshot replaces what came before
        (5, False, [(0, 98.0, 0.0)]),                 # trailing one-sided: dropped
    ]))
    assert book.time_ns.tolist() == [2, 4]
    assert book.snapshot.tolist() == [1, 1]
    assert rows_replayed(book) == [([[99.0, 1.0]], [[101.0, 2.0]]), ([[98.0, 1.0]], [[102.0, 1.0]])]
    assert book.bid_price.tolist() == [99.0, 98.0] and book.ask_amount.tolist() == [2.0, 1.0]


@pytest.mark.parametrize("messages, words", [
    ([(1, True, [(0, 100.0, 1.0), (1, 100.0, 1.0)])], "crossed after message 0"),
    ([(1, True, [(0, 99.0, 1.0), (1, 101.0, 1.0)]), (2, False, [(1, float("nan"), 1.0)])], "update 2"),
    ([(1, True, [(0, 99.0, 1.0), (1, 101.0, 1.0)]), (2, False, [(1, 100.0, -1.0)])], "update 2"),
    ([(2, True, [(0, 99.0, 1.0), (1, 101.0, 1.0)]), (1, False, [(1, 100.0, 1.0)])], "message 1 at 1 is older"),
])
def test_bad_messages_are_named(messages, words) -> None:
    with pytest.raises(DataError, match=words):
        HistoricalBook(**arrays(messages))


GOOD = [(1, True, [(0, 99.0, 1.0), (1, 101.0, 1.0)]), (2, False, [(1, 100.0, 1.0)])]


@pytest.mark.parametrize("change, words", [
    ({"price": [99.0, 101.0, 0.0]}, r"update 2 \(message 1\): a level at price 0 must have size 0"),
    ({"price": [0.0, 101.0, 100.0]}, r"update 0 \(message 0\): a level at price 0"),
    ({"snapshot": [1, 2]}, "message 1: snapshot must be 0 or 1, was 2"),
    ({"time_ns": [1.0, 2.5]}, "time_ns must be integers, was float64"),
    ({"start": [0.0, 2.0, 3.0]}, "start must be integers"),
    ({"side": [0.0, 1.0, 1.0]}, "side must be integers"),
])
def test_bad_columns_are_named(change, words) -> None:
    with pytest.raises(DataError, match=words):
        HistoricalBook(**{**arrays(GOOD), **change})


def test_a_delete_at_price_0_and_bool_snapshot_flags_are_fine() -> None:
    cols = arrays(GOOD)
    cols["price"], cols["size"] = [99.0, 101.0, 0.0], [1.0, 1.0, 0.0]
    book = HistoricalBook(**cols)
    assert book.snapshot.tolist() == [1, 0] and book.ask_price.tolist() == [101.0, 101.0]


def test_another_markets_event_is_refused(data_dir: Path) -> None:
    market, events = binance_l2_feed(data_dir)
    other = MarketEvent(events[5].exchange_time_ns, BTC, events[5].kind)
    with pytest.raises(DataError, match="an event of"):
        HistoricalBook.from_events(events[:10] + [other], market)


levels = st.tuples(st.integers(0, 1), st.integers(1, 40).map(lambda k: k * 0.5), st.sampled_from([0.0, 1.0, 2.5]))


@given(st.lists(st.tuples(st.booleans(), st.lists(levels, max_size=8)), min_size=1, max_size=30))
def test_the_engine_shows_the_book_of_a_dict_reference(messages) -> None:
    """Random messages (bids below 10, asks above, so never crossed) against dict books."""
    msgs = [(i, snap, [(s, p if s == 0 else p + 20.0, q) for s, p, q in ls]) for i, (snap, ls) in enumerate(messages)]
    ref, expected = ({}, {}), []
    for _, snap, ls in msgs:
        if snap:
            ref[0].clear()
            ref[1].clear()
        for s, p, q in ls:
            ref[s].pop(p, None) if q == 0.0 else ref[s].__setitem__(p, q)
        if ref[0] and ref[1]:
            expected.append(([[p, ref[0][p]] for p in sorted(ref[0], reverse=True)],
                             [[p, ref[1][p]] for p in sorted(ref[1])]))
    book = HistoricalBook(**arrays(msgs))
    assert len(book) == len(expected)
    if not expected:
        return
    seen = Seen()
    Engine([Trader(BTC, book, seen)], Portfolio(10_000.0)).run()
    assert seen.books == expected
