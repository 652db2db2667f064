"""Book execution in the engine: orders walk the market's L2 book as it stands at their arrival,
never reuse the size the run's earlier orders took, fill partly when the depth runs out, and the
stream replays to the same portfolio; the same trader live fills as in the backtest."""
from __future__ import annotations

import asyncio
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from barter import Engine, Market, Trader
from barter.data import HistoricalBook, HistoricalCandles
from barter.engine.events import OrderResult
from barter.engine.replay import replay
from barter.errors import ConfigError
from barter.execution import BookExecution, Latency, MakerTakerFees
from barter.execution.events import FillEvent
from barter.portfolio import DefaultAllocator, Portfolio
from barter.strategy import Signal, Strategy
from tests.recorded_books import binance_l2_feed

BTC = Market("binance", ("btc", "usdt"))
BID, ASK = 0, 1


class Schedule(Strategy):
    """Returns the scheduled signal of each event (by count); keeps what the book offered then."""

    def __init__(self, plan: dict[int, Signal]) -> None:
        self.plan, self.n, self.walks = plan, 0, {}

    def generate_signal(self, view):
        self.n += 1
        signal = self.plan.get(self.n)
        if signal is not None and view.book is not None:
            self.walks[view.time_ns] = (view.book.vwap(ASK, 1000.0 / view.close), view.book.vwap(BID, 1.0))
        return signal


def run(book_or_feed, plan, execution, order_value=1000.0):
    stream: list = []
    portfolio = Portfolio(10_000.0, allocator=DefaultAllocator(order_value, size_decimals=None))
    strategy = Schedule(plan)
    trader = Trader(BTC, book_or_feed, strategy) if execution is None else Trader(BTC, book_or_feed, strategy, execution)
    engine = Engine([trader], portfolio, listeners=[stream.append])
    engine.run()
    return engine, strategy, stream


def results(stream) -> list[OrderResult]:
    return [e for e in stream if isinstance(e, OrderResult)]


def test_without_latency_orders_fill_at_the_walk_of_the_book_they_saw(data_dir: Path) -> None:
    _, events = binance_l2_feed(data_dir)
    book = HistoricalBook.from_events(events)
    plan = {2: Signal.long(), 40: Signal.close_long(), 60: Signal.long()}
    engine, strategy, stream = run(book, plan, BookExecution(MakerTakerFees(taker=0.001)))
    entry, exit_, entry2 = results(stream)
    (filled, vwap), _ = strategy.walks[entry.decided_ns]
    assert entry.in_step and entry.filled == pytest.approx(filled) and entry.price == pytest.approx(vwap)
    position = engine.portfolio.exited_positions()[0]
    assert position.enter_avg_price_gross == pytest.approx(vwap)
    assert position.enter_fees.exchange == pytest.approx(0.001 * filled * vwap)
    assert position.enter_fees.slippage == 0.0
    assert exit_.filled == -entry.filled and exit_.price < entry.price  # sold into the bids
    assert engine.portfolio.position(BTC).quantity == pytest.approx(entry2.filled)
    rebuilt = replay(stream)
    assert rebuilt.exited_positions() == engine.portfolio.exited_positions()
    assert rebuilt.statistics() == engine.portfolio.statistics()


def reference_book(book: HistoricalBook, until_ns: int) -> tuple[dict, dict]:
    """The book after every message at or before ``until_ns``, as dicts."""
    sides: tuple[dict, dict] = ({}, {})
    for i in range(len(book)):
        if book.time_ns[i] > until_ns:
            break
        snapshot, side, price, size = book.levels(i)
        if snapshot:
            sides[0].clear()
            sides[1].clear()
        for s, p, q in zip(side.tolist(), price.tolist(), size.tolist()):
            sides[s].pop(p, None) if q == 0.0 else sides[s].__setitem__(p, q)
    return sides


def walk(levels: dict, buy: bool, quantity: float, consumed: dict) -> tuple[float, float, dict]:
    """Take ``quantity`` from the best level on, less ``consumed``; (filled, value, takes)."""
    left, value, takes = quantity, 0.0, {}
    for price in sorted(levels, reverse=not buy):
        take = min(left, max(0.0, levels[price] - consumed.get(price, 0.0)))
        if take > 0.0:
            takes[price] = take
            value += take * price
            left -= take
        if left <= 0.0:
            break
    return quantity - left, value, takes


def test_with_latency_orders_fill_at_the_book_of_their_arrival(data_dir: Path) -> None:
    _, events = binance_l2_feed(data_dir)
    book = HistoricalBook.from_events(events)
    latency = Latency(feed_ns=50_000_000, order_ns=400_000_000)
    plan = {2: Signal.long(), 40: Signal.close_long(), 70: Signal.long(), 120: Signal.close_long()}
    engine, _, stream = run(book, plan, BookExecution(MakerTakerFees(taker=0.0005), latency))
    done = results(stream)
    assert len(done) == 4 and not any(r.in_step for r in done)
    for r in done:
        assert r.decided_ns in book.time_ns + latency.feed_ns
        assert r.arrival_ns == r.decided_ns + latency.order_ns
        assert r.time_ns == book.time_ns[np.searchsorted(book.time_ns, r.arrival_ns, side="right")]
        sides = reference_book(book, r.arrival_ns)
        filled, value, _ = walk(sides[ASK if r.quantity > 0 else BID], r.quantity > 0, abs(r.quantity), {})
        assert abs(r.filled) == pytest.approx(filled) and r.price == pytest.approx(value / filled)
    fills = [e for e in stream if isinstance(e, FillEvent)]
    assert [f.time_ns for f in fills] == [r.arrival_ns for r in done]
    rebuilt = replay(stream)
    assert rebuilt.exited_positions() == engine.portfolio.exited_positions()
    assert rebuilt.statistics() == engine.portfolio.statistics()


def two_level_book(n: int = 6) -> HistoricalBook:
    """Bids 99/98 and asks 101 (1.0) / 102 (5.0); later messages only touch the bid at 97."""
    time_ns = np.arange(n, dtype=np.int64) * 10
    sides = [[0, 0, 1, 1]] + [[0]] * (n - 1)
    prices = [[99.0, 98.0, 101.0, 102.0]] + [[97.0]] * (n - 1)
    sizes = [[5.0, 5.0, 1.0, 5.0]] + [[float(i)] for i in range(1, n)]
    counts = [len(s) for s in sides]
    return HistoricalBook(time_ns, np.concatenate([[0], np.cumsum(counts)]), [1] + [0] * (n - 1),
                          sum(sides, []), sum(prices, []), sum(sizes, []))


def test_an_order_never_takes_the_size_an_earlier_order_took() -> None:
    # about 0.8 at 101 each entry; the second finds only what the first left at 101
    plan = {1: Signal.long(), 2: Signal.close_long(), 3: Signal.long()}
    engine, _, stream = run(two_level_book(), plan, BookExecution(), order_value=80.0)
    first, _, second = results(stream)
    assert first.price == 101.0
    left = 1.0 - first.filled
    assert second.price == pytest.approx((left * 101.0 + (second.filled - left) * 102.0) / second.filled)


def test_an_order_larger_than_the_book_fills_what_is_there() -> None:
    engine, _, stream = run(two_level_book(), {1: Signal.long()}, BookExecution(), order_value=1_000.0)
    (entry,) = results(stream)
    assert entry.filled == 6.0 and entry.quantity > 6.0 and entry.status == "expired"
    assert engine.portfolio.position(BTC).quantity == 6.0
    assert entry.price == pytest.approx((101.0 + 5 * 102.0) / 6.0)


def test_orders_in_flight_at_the_end_match_against_the_last_book() -> None:
    plan = {6: Signal.long()}  # decided at the last message
    engine, _, stream = run(two_level_book(), plan, BookExecution(latency=Latency(order_ns=1_000)), order_value=50.0)
    (entry,) = results(stream)
    assert entry.arrival_ns == 50 + 1_000 == entry.time_ns and entry.price == 101.0
    assert replay(stream).position(BTC) == engine.portfolio.position(BTC)


def test_book_execution_needs_a_book() -> None:
    from barter.data import default_candles

    candles: HistoricalCandles = default_candles()
    with pytest.raises(ConfigError, match="BookExecution needs an L2 book"):
        Trader(BTC, candles, Schedule({}), BookExecution())


async def feed(events):
    for event in events:
        await asyncio.sleep(0)
        yield event


@pytest.mark.parametrize("order_ns", [0, 300_000_000])
def test_live_fills_as_the_backtest_on_the_same_messages(data_dir: Path, order_ns: int) -> None:
    market, events = binance_l2_feed(data_dir)
    plan = {3: Signal.long(), 50: Signal.close_long(), 80: Signal.long()}
    execution = BookExecution(MakerTakerFees(taker=0.001), Latency(order_ns=order_ns))
    outcomes = []
    for data in (HistoricalBook.from_events(events), feed(events)):
        stream: list = []
        portfolio = Portfolio(10_000.0)
        Engine([Trader(market, data, Schedule(plan), execution)], portfolio, listeners=[stream.append]).run()
        positions = [*portfolio.exited_positions(), portfolio.position(market)]
        outcomes.append(([(r.decided_ns, r.filled, r.price, r.time_ns) for r in results(stream)],
                         [replace(p, position_id="") for p in positions if p is not None]))
    assert outcomes[0] == outcomes[1] and len(outcomes[0][0]) == 3


messages = st.lists(st.tuples(st.booleans(), st.lists(st.tuples(
    st.integers(0, 1), st.integers(1, 12).map(float), st.sampled_from([0.0, 0.5, 1.0, 2.5])), max_size=6)),
    min_size=2, max_size=25)


@given(messages, st.lists(st.sampled_from([None, "long", "close"]), min_size=25, max_size=25),
       st.sampled_from([0, 5, 10, 25, 1_000]), st.sampled_from([20.0, 60.0, 200.0]))
def test_fills_walk_the_book_at_arrival_less_earlier_takes(msgs, schedule, order_ns, order_value) -> None:
    """Against a dict book replayed to each order's arrival, with the run's earlier takes held
    back until the exchange updates their level: quantity is conserved, prices are those of the
    levels taken, and no fill sees an older book."""
    rows = [(i * 10, snap, [(s, p if s == BID else p + 20.0, q) for s, p, q in ls]) for i, (snap, ls) in enumerate(msgs)]
    counts = [len(ls) for _, _, ls in rows]
    flat = [lv for _, _, ls in rows for lv in ls]
    if not flat:
        return
    book = HistoricalBook([t for t, _, _ in rows], np.concatenate([[0], np.cumsum(counts)]), [s for _, s, _ in rows],
                          [lv[0] for lv in flat], [lv[1] for lv in flat], [lv[2] for lv in flat])
    if len(book) == 0:
        return
    plan = {i + 1: Signal.long() if s == "long" else Signal.close_long() for i, s in enumerate(schedule) if s}
    _, _, stream = run(book, plan, BookExecution(latency=Latency(order_ns=order_ns)), order_value)
    consumed: tuple[dict, dict] = ({}, {})
    applied = 0
    for r in results(stream):
        while applied < len(book) and book.time_ns[applied] <= r.arrival_ns:  # the exchange updates levels
            snapshot, side, price, _ = book.levels(applied)
            if snapshot:
                consumed[0].clear()
                consumed[1].clear()
            for s, p in zip(side.tolist(), price.tolist()):
                consumed[s].pop(p, None)
            applied += 1
        buy = r.quantity > 0
        taken = consumed[ASK if buy else BID]
        filled, value, takes = walk(reference_book(book, r.arrival_ns)[ASK if buy else BID], buy, abs(r.quantity), taken)
        assert abs(r.filled) == pytest.approx(filled, abs=1e-9) and abs(r.filled) <= abs(r.quantity) * (1 + 1e-12)
        if filled > 1e-12:
            assert r.price == pytest.approx(value / filled)
            assert min(takes) - 1e-9 <= r.price <= max(takes) + 1e-9
        else:
            assert r.price is None or math.isclose(r.filled, 0.0, abs_tol=1e-12)
        for p, q in takes.items():
            taken[p] = taken.get(p, 0.0) + q


# -- limit orders: resting with a queue position, expiry, post-only, FOK/IOC -----------------------------

def quiet_book(n: int = 6, extra: tuple = ()) -> HistoricalBook:
    """Bid 99 (3.0) and ask 101 (3.0), micro-price 100; later messages touch only the bid at 97,
    except ``extra`` (row, side, price, size) updates."""
    rows = [[(0, 99.0, 3.0), (1, 101.0, 3.0)]] + [[(0, 97.0, float(i))] for i in range(1, n)]
    for row, side, price, size in extra:
        rows[row].append((side, price, size))
    levels = [lv for r in rows for lv in r]
    return HistoricalBook(np.arange(n, dtype=np.int64) * 10, np.concatenate([[0], np.cumsum([len(r) for r in rows])]),
                          [1] + [0] * (n - 1), [lv[0] for lv in levels], [lv[1] for lv in levels],
                          [lv[2] for lv in levels])


def trades_of(prints: list[tuple[int, float, float, int]]):
    from barter.data import HistoricalTrades

    return HistoricalTrades.from_arrays(np.array([p[0] for p in prints], np.int64), [p[1] for p in prints],
                                        [p[2] for p in prints], np.array([p[3] for p in prints], np.int8))


def with_trades(book: HistoricalBook, prints: list[tuple[int, float, float, int]]) -> HistoricalBook:
    return HistoricalBook(book.time_ns, book.start, book.snapshot, book.side, book.price, book.size,
                          trades=trades_of(prints))


FEES = MakerTakerFees(maker=0.0002, taker=0.001)


def test_a_resting_bid_fills_as_prints_use_up_the_volume_ahead() -> None:
    from barter.execution import LimitOrder

    book = with_trades(quiet_book(), [(15, 99.0, 2.0, -1), (25, 99.0, 1.5, -1), (35, 99.0, 1.0, -1)])
    engine, _, stream = run(book, {2: Signal.long(order=LimitOrder(99.0))}, BookExecution(FEES), order_value=100.0)
    (entry,) = results(stream)
    # 3.0 ahead: the first print leaves 1.0 ahead, the second fills 0.5, the third the other 0.5
    assert (entry.status, entry.filled, entry.price, entry.in_step) == ("filled", 1.0, 99.0, False)
    assert entry.arrival_ns == 10 and entry.time_ns == 35  # booked at the print that filled it
    position = engine.portfolio.position(BTC)
    assert position.quantity == 1.0 and position.enter_fees.exchange == pytest.approx(0.0002 * 99.0)
    assert replay(stream).position(BTC) == position


def test_a_bid_still_resting_when_the_data_ends_is_cancelled_with_what_it_filled() -> None:
    from barter.execution import LimitOrder

    book = with_trades(quiet_book(), [(15, 99.0, 3.5, -1)])  # 3.0 ahead, then half the bid fills
    engine, _, stream = run(book, {2: Signal.long(order=LimitOrder(99.0))}, BookExecution(FEES), order_value=100.0)
    (entry,) = results(stream)
    assert (entry.status, entry.reason, entry.filled, entry.price, entry.time_ns) == (
        "cancelled", "end of data", 0.5, 99.0, 50)
    assert engine.portfolio.position(BTC).quantity == 0.5
    assert replay(stream).position(BTC) == engine.portfolio.position(BTC)


def test_a_resting_bid_expires_and_the_market_trades_again() -> None:
    from barter.execution import LimitOrder

    plan = {2: Signal.long(order=LimitOrder(98.0, expire_ns=15)), 5: Signal.long()}
    engine, _, stream = run(quiet_book(), plan, BookExecution(FEES), order_value=100.0)
    expired, entry = results(stream)
    assert (expired.status, expired.filled, expired.price, expired.time_ns) == ("cancelled", 0.0, None, 30)
    assert entry.in_step and entry.price == 101.0 and engine.portfolio.position(BTC).quantity == 1.0


def test_a_bid_the_asks_move_through_fills_at_its_price() -> None:
    from barter.execution import LimitOrder

    book = quiet_book(extra=((3, 0, 99.0, 0.0), (3, 1, 99.0, 2.0)))  # row 3: the bid leaves, an ask at 99
    _, _, stream = run(book, {2: Signal.long(order=LimitOrder(99.0))}, BookExecution(FEES), order_value=100.0)
    (entry,) = results(stream)
    assert (entry.status, entry.filled, entry.price, entry.time_ns) == ("filled", 1.0, 99.0, 30)


@pytest.mark.parametrize("order, status, filled", [
    ({"price": 101.0, "post_only": True}, "rejected", 0.0),           # would take the ask
    ({"price": 101.0, "tif": "FOK"}, "expired", 0.0),                 # 3.0 at 101 < the 5.0 ordered
    ({"price": 101.0, "tif": "IOC"}, "expired", 3.0),                 # takes 101 only, drops the rest
])
def test_post_only_fok_and_ioc(order, status, filled) -> None:
    from barter.execution import LimitOrder, TimeInForce

    spec = LimitOrder(order["price"], TimeInForce[order.get("tif", "GTC")], order.get("post_only", False))
    book = quiet_book(extra=((0, 1, 102.0, 9.0),))
    engine, _, stream = run(book, {2: Signal.long(order=spec)}, BookExecution(FEES), order_value=500.0)
    (entry,) = results(stream)
    assert (entry.status, entry.filled) == (status, filled)
    assert (engine.portfolio.position(BTC) is not None) == (filled > 0)


def test_an_order_spec_needs_book_execution() -> None:
    from barter.data import default_candles
    from barter.errors import StrategyError
    from barter.execution import LimitOrder

    with pytest.raises(StrategyError, match="needs BookExecution"):
        run(default_candles(), {1: Signal.long(order=LimitOrder(1.0))}, None)


def test_an_exit_larger_than_the_bids_reduces_the_position_and_a_later_one_closes_it() -> None:
    # bids: 99 (2.0) only until row 3 adds 98 (5.0); asks 101 (3.0) and 102 (9.0); rows touch the ask at 110
    rows = [[(0, 99.0, 2.0), (1, 101.0, 3.0), (1, 102.0, 9.0)], [(1, 110.0, 1.0)], [(1, 110.0, 2.0)],
            [(0, 98.0, 5.0)], [(1, 110.0, 3.0)]]
    levels = [lv for r in rows for lv in r]
    book = HistoricalBook(np.arange(5, dtype=np.int64) * 10, np.concatenate([[0], np.cumsum([len(r) for r in rows])]),
                          [1, 0, 0, 0, 0], [lv[0] for lv in levels], [lv[1] for lv in levels], [lv[2] for lv in levels])
    plan = {1: Signal.long(), 2: Signal.close_long(), 4: Signal.close_long()}
    engine, _, stream = run(book, plan, BookExecution(FEES), order_value=400.0)
    entry, partial, final = results(stream)
    assert entry.filled == pytest.approx(400.0 / book.mid_price[0])
    assert (partial.status, partial.filled, partial.price) == ("expired", -2.0, 99.0)
    assert final.filled == pytest.approx(-(entry.filled - 2.0)) and final.price == 98.0
    assert engine.portfolio.position(BTC) is None
    (trade,) = engine.portfolio.exited_positions()
    assert trade.quantity == pytest.approx(entry.filled)
    assert trade.exit_value_gross == pytest.approx(2.0 * 99.0 + (entry.filled - 2.0) * 98.0)
    rebuilt = replay(stream)
    assert rebuilt.exited_positions() == engine.portfolio.exited_positions()
    assert rebuilt.statistics() == engine.portfolio.statistics()


def test_a_maker_rebate_is_a_negative_exchange_fee() -> None:
    from barter.execution import LimitOrder

    book = with_trades(quiet_book(), [(15, 99.0, 5.0, -1)])
    rebate = BookExecution(MakerTakerFees(maker=-0.0001, taker=0.001))
    engine, _, stream = run(book, {2: Signal.long(order=LimitOrder(99.0))}, rebate, order_value=100.0)
    position = engine.portfolio.position(BTC)
    assert position.enter_fees.exchange == pytest.approx(-0.0001 * 99.0)
    assert engine.portfolio.balance.available == pytest.approx(10_000.0 - 99.0 + 0.0001 * 99.0)
    assert replay(stream).position(BTC) == position


def l2_events_with_prints(late_print_ns: int = 0) -> list:
    """Binance-sequenced events of ``quiet_book``'s shape (bid 99 x 3, ask 101 x 3; then the bid at
    97 changes every 10 ns) with sells of 2.0, 1.5, 1.0 at 99 printed at 15, 25 and 35; the last
    one stamped ``late_print_ns`` earlier, before the book message at 30 that came before it."""
    from barter.data.event import MarketEvent, Trade
    from barter.data.exchange.events import OrderBookL2Snapshot, OrderBookL2Update
    from barter.instrument import Side

    def book(i: int) -> MarketEvent:
        return MarketEvent(10 * i, BTC, OrderBookL2Update(100 + i, 100 + i, None, ((97.0, float(i)),), ()))

    def sell(t: int, amount: float) -> MarketEvent:
        return MarketEvent(t, BTC, Trade(99.0, amount, Side.SELL))

    snapshot = MarketEvent(0, BTC, OrderBookL2Snapshot(100, ((99.0, 3.0),), ((101.0, 3.0),)))
    return [snapshot, book(1), sell(15, 2.0), book(2), sell(25, 1.5), book(3), sell(35 - late_print_ns, 1.0),
            book(4), book(5)]


class AtTime(Strategy):
    """The planned signal of the book event at each time; trades make none."""

    def __init__(self, plan: dict[int, Signal]) -> None:
        self.plan = plan

    def generate_signal(self, view):
        return self.plan.get(view.time_ns) if view.book is not None else None


@pytest.mark.parametrize("late_print_ns, booked_ns", [(0, 35), (8, 30)])  # late: run at the clock, 30
def test_live_prints_fill_a_resting_bid_as_in_the_backtest(late_print_ns: int, booked_ns: int) -> None:
    from barter.execution import LimitOrder

    events = l2_events_with_prints(late_print_ns)
    plan = {10: Signal.long(order=LimitOrder(99.0))}
    backtest = HistoricalBook.from_events(l2_events_with_prints())
    outcomes = []
    for data in (backtest, feed(events)):
        stream: list = []
        portfolio = Portfolio(10_000.0, allocator=DefaultAllocator(100.0, size_decimals=None))
        engine = Engine([Trader(BTC, data, AtTime(plan), BookExecution(FEES))], portfolio, listeners=[stream.append])
        engine.run()
        (entry,) = results(stream)
        outcomes.append((entry.status, entry.filled, entry.price, entry.arrival_ns, portfolio.position(BTC).quantity,
                         entry.time_ns))
    assert outcomes[0] == ("filled", 1.0, 99.0, 10, 1.0, 35)  # booked at the print that filled it
    assert outcomes[1] == outcomes[0][:-1] + (booked_ns,)
    assert engine.late_events == (1 if late_print_ns else 0)


@pytest.mark.parametrize("tif, want", [("FOK", 2), ("ioc", 1), ("Gtc", 0), (2, 2)])
def test_limit_order_tif_takes_enum_names_as_strings(tif, want) -> None:
    from barter.execution import LimitOrder
    from barter.execution.matching_types import TimeInForce

    assert LimitOrder(99.0, tif=tif).tif is TimeInForce(want)


@pytest.mark.parametrize("tif", ["FILL_OR_KILL", "", 7, None])
def test_limit_order_unknown_tif_is_named(tif) -> None:
    from barter.execution import LimitOrder

    with pytest.raises(ConfigError, match="tif must be one of GTC, IOC, FOK"):
        LimitOrder(99.0, tif=tif)


@pytest.mark.parametrize("latency", [None, Latency(order_ns=5_000_000)], ids=["no latency", "latency"])
def test_commands_exit_through_the_book_and_replay_to_the_same_portfolio(data_dir: Path, latency) -> None:
    """ExitAllPositions mid-run and Terminate on the last message walk the book at the engine's
    time; the fills are equity points of that time, and the stream replays to the same books."""
    from barter.engine.commands import ExitAllPositions, Terminate
    from barter.strategy.base import SignalForceExit

    _, events = binance_l2_feed(data_dir)
    book = HistoricalBook.from_events(events)
    execution = BookExecution(MakerTakerFees(taker=0.001), **({"latency": latency} if latency else {}))
    commands = {30: ExitAllPositions(), len(book): Terminate()}

    class Commanding(Schedule):
        def generate_signal(self, view):
            signal = super().generate_signal(view)
            if self.n in commands:
                engine.send(commands[self.n])
            return signal

    stream: list = []
    engine = Engine([Trader(BTC, book, Commanding({2: Signal.long(), 50: Signal.long()}), execution)],
                    Portfolio(10_000.0, allocator=DefaultAllocator(1000.0, size_decimals=None)),
                    listeners=[stream.append])
    engine.run()
    assert engine.terminated and engine.portfolio.open_positions() == []
    assert len(engine.portfolio.exited_positions()) == 2
    forced = [e for e in stream if isinstance(e, SignalForceExit)]
    assert [f.time_ns for f in forced] == [int(book.time_ns[29]), int(book.time_ns[-1])]
    rebuilt = replay(stream)
    assert rebuilt.balance == engine.portfolio.balance
    assert rebuilt.exited_positions() == engine.portfolio.exited_positions()
    assert rebuilt.summary().total.to_dict() == engine.portfolio.summary().total.to_dict()
    assert engine.summary().total.equity.end == pytest.approx(engine.portfolio.equity, rel=1e-12)
