"""Order books drive traders like candles and trades: L1 quotes in backtests and live, and L2 books
live from the real Binance recording (REST snapshot + recorded diffs), never shown while invalid."""
from __future__ import annotations

import asyncio
import math
from pathlib import Path

import numpy as np
import pytest

from barter import Engine, Market, Trader
from barter.data import HistoricalQuotes
from barter.data.event import BOOK, QUOTE, MarketEvent
from barter.data.exchange import OrderBookL1
from barter.data.exchange.books import BookState, BookStatusEvent
from barter.data.exchange.events import OrderBookL2Snapshot, OrderBookL2Update
from barter.engine.replay import replay
from barter.errors import DataError
from barter.portfolio import Portfolio
from barter.strategy import Signal, Strategy
from tests.recorded_books import binance_l2_feed

BTC = Market("binance", ("btc", "usdt"))


class Recorder(Strategy):
    """Goes long on the first event, closes on the third; keeps what it saw."""

    def __init__(self) -> None:
        self.seen: list[tuple] = []

    def generate_signal(self, market):
        book = market.book
        self.seen.append((market.kind, market.bid_price, market.ask_price, market.bid_amount,
                          market.ask_amount, market.close, None if book is None else (book.bid_price, book.ask_price)))
        if len(self.seen) == 1:
            return Signal.long()
        return Signal.close_long() if len(self.seen) == 3 else None


def quotes() -> HistoricalQuotes:
    t = np.arange(4, dtype=np.int64) * 10**9
    return HistoricalQuotes.from_arrays(t, [100.0, 101.0, 103.0, 104.0], [1.0, 2.0, 1.0, 0.0],
                                        [100.5, 101.5, 103.5, 104.5], [3.0, 1.0, 1.0, 0.0])


def vw_mid(bid, bid_amount, ask, ask_amount) -> float:
    return OrderBookL1(bid, bid_amount, ask, ask_amount).volume_weighted_mid_price


def test_quotes_backtest_marks_and_fills_at_the_volume_weighted_mid() -> None:
    strategy, events = Recorder(), []
    engine = Engine([Trader(BTC, quotes(), strategy)], Portfolio(10_000.0), listeners=[events.append])
    engine.run()
    assert [s[0] for s in strategy.seen] == [QUOTE] * 4
    assert strategy.seen[0][1:5] == (100.0, 100.5, 1.0, 3.0)
    assert strategy.seen[0][5] == vw_mid(100.0, 1.0, 100.5, 3.0) == 100.125
    assert strategy.seen[3][5] == 104.25  # both amounts 0: the plain mid
    (exited,) = engine.portfolio.exited_positions()
    assert exited.enter_avg_price_gross == 100.125
    assert exited.exit_avg_price_gross == vw_mid(103.0, 1.0, 103.5, 1.0)
    copies = [e for e in events if isinstance(e, MarketEvent)]
    assert copies[1].kind == OrderBookL1(101.0, 2.0, 101.5, 1.0)
    rebuilt = replay(events)
    assert rebuilt.exited_positions() == engine.portfolio.exited_positions()


def test_quote_properties_are_nan_for_candles() -> None:
    from barter.data import default_candles

    seen = []

    class Look(Strategy):
        def generate_signal(self, market):
            seen.append((market.bid_price, market.ask_amount, market.book))

    candles = default_candles()
    Engine([Trader(BTC, candles, Look())], Portfolio(10_000.0)).run()
    assert math.isnan(seen[0][0]) and math.isnan(seen[0][1]) and seen[0][2] is None


@pytest.mark.parametrize("bad, words", [
    (dict(bid=[100.0, 101.5], ask=[100.5, 101.0]), "row 1.*bid must be <= ask"),
    (dict(bid=[100.0, -1.0], ask=[100.5, 101.0]), "row 1.*bid_price"),
    (dict(bid=[100.0, 101.0], ask=[100.5, 102.0], bid_amount=[1.0, math.nan]), "row 1.*bid_amount"),
])
def test_bad_quotes_name_the_row(bad, words) -> None:
    t = np.arange(2, dtype=np.int64)
    with pytest.raises(DataError, match=words):
        HistoricalQuotes.from_arrays(t, bad["bid"], bad.get("bid_amount", [1.0, 1.0]), bad["ask"], [1.0, 1.0])


# -- live: L1 quotes and L2 books from the real recording ---------------------------------------------

async def feed(events):
    for event in events:
        await asyncio.sleep(0)
        yield event


def test_live_quotes_drive_traders() -> None:
    q = quotes()
    events = [MarketEvent(int(t), BTC, OrderBookL1(b, ba, a, aa))
              for t, b, ba, a, aa in zip(q.time_ns, q.bid_price, q.bid_amount, q.ask_price, q.ask_amount)]
    strategy = Recorder()
    engine = Engine([Trader(BTC, feed(events), strategy)], Portfolio(10_000.0))
    engine.run()
    assert [s[0] for s in strategy.seen] == [QUOTE] * 4
    assert engine.portfolio.exited_positions()[0].enter_avg_price_gross == 100.125


def run_books(market: Market, events: list[MarketEvent]):
    seen, stream = [], []

    class Watch(Strategy):
        def generate_signal(self, view):
            book = view.book
            seen.append((view.kind, view.bid_price, view.ask_price, view.close, book.bid_price, book.ask_price,
                         book.is_crossed))

    engine = Engine([Trader(market, feed(events), Watch())], Portfolio(10_000.0), listeners=[stream.append])
    engine.run()
    return seen, stream


def test_live_l2_books_from_the_real_recording(data_dir: Path) -> None:
    market, events = binance_l2_feed(data_dir)
    updates = sum(isinstance(e.kind, OrderBookL2Update) for e in events)
    assert updates > 5
    seen, stream = run_books(market, events)
    assert seen and all(kind == BOOK for kind, *_ in seen)
    for _, bid, ask, mark, book_bid, book_ask, crossed in seen:
        assert bid == book_bid and ask == book_ask and bid < ask and not crossed
        assert bid < mark < ask
    statuses = [e for e in stream if isinstance(e, BookStatusEvent)]
    assert statuses and statuses[0].state == BookState.RESYNCED


def test_a_gap_hides_the_book_until_the_next_snapshot(data_dir: Path) -> None:
    market, events = binance_l2_feed(data_dir)
    first_snapshot = next(i for i, e in enumerate(events) if isinstance(e.kind, OrderBookL2Snapshot))
    applied = [i for i, e in enumerate(events) if i > first_snapshot + 2 and isinstance(e.kind, OrderBookL2Update)]
    gap = applied[0]
    broken = events[:gap] + events[gap + 1:]  # one diff lost in transit
    seen_full, _ = run_books(market, events)
    seen, stream = run_books(market, broken)
    statuses = [e for e in stream if isinstance(e, BookStatusEvent)]
    assert [s.state for s in statuses][:2] == [BookState.RESYNCED, BookState.INVALID]
    assert "gap" in statuses[1].reason or "follow" in statuses[1].reason
    # the strategy saw the book up to the gap and never after it (no snapshot comes again)
    assert len(seen) < len(seen_full) and seen == seen_full[:len(seen)]


def test_quotes_from_csv_find_their_columns_by_name(tmp_path: Path) -> None:
    path = tmp_path / "quotes.csv"
    path.write_text("time,Bid,bid_size,ASK,ask_qty\n2024-01-01T00:00:00Z,100,1,100.5,3\n"
                    "2024-01-01T00:00:01Z,101,2,101.5,1\n2024-01-01T00:00:02Z,102,1,101.9,1\n")
    with pytest.raises(DataError, match=r"row 3.*bid must be <= ask"):
        HistoricalQuotes.from_csv(path)
    path.write_text("\n".join(path.read_text().splitlines()[:3]) + "\n")
    q = HistoricalQuotes.from_csv(path)
    assert q.bid_price.tolist() == [100.0, 101.0] and q.ask_amount.tolist() == [3.0, 1.0]
    assert q.mid_price[0] == 100.125 and len(q) == 2 and "quotes.csv" in repr(q)
