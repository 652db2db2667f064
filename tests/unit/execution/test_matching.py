"""MatchingVenue: takers walking the book (real Binance depth and small books), the user's
consumption of resting size, GTC/IOC/FOK/post-only, queue positions, latency, cancels, bad input,
and the Account adapter."""
from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from barter.data.book import DeltaResult, SequencedBook
from barter.data.event import MarketEvent, Trade
from barter.data.exchange import (BINANCE_FUTURES_USD, BINANCE_SPOT, BinanceParser, OrderBookL2Update,
                                  market_from_symbol, parse_depth_snapshot)
from barter.data.exchange.recording import read_cryptofeed, ws_frames
from barter.errors import ConfigError, CrossedBook, DataError, UnknownOrder
from barter.execution import (BookFill, BookOrder, Latency, Liquidity, MakerTakerFees, MatchingVenue, OrderClosed,
                              OrderStatus, QueueRule, TimeInForce, VenueAccount)
from barter.instrument import Market, Side
from barter.portfolio.account import Account

REL = 1e-9
BUY, SELL = Side.BUY, Side.SELL
BIDS = [[99.0, 1.0], [98.0, 2.0], [97.0, 3.0]]
ASKS = [[101.0, 1.0], [102.0, 2.0], [103.0, 3.0]]


def venue(fees=MakerTakerFees(), latency=Latency(), queue=QueueRule.PROPORTIONAL) -> MatchingVenue:
    v = MatchingVenue(fees, latency, queue)
    assert v.on_snapshot(0, BIDS, ASKS) == []
    return v


def fills(reports) -> list[tuple[int, float, float, Liquidity]]:
    return [(r.order_id, r.price, r.quantity, r.liquidity) for r in reports if isinstance(r, BookFill)]


def closed(reports) -> dict[int, OrderClosed]:
    return {r.order_id: r for r in reports if isinstance(r, OrderClosed)}


# --------------------------------------------------------------------------------------------------
# Real Binance depth: snapshots + sequenced deltas from the cryptofeed recordings
# --------------------------------------------------------------------------------------------------
RECORDINGS = {
    "spot": (BINANCE_SPOT, "binance/cryptofeed/BINANCE.ws.1.0", "binance/cryptofeed/BINANCE.http.0.0"),
    "futures": (BINANCE_FUTURES_USD, "binance_futures/cryptofeed/BINANCE_FUTURES.ws.1.0",
                "binance_futures/cryptofeed/BINANCE_FUTURES.http.0.0"),
}


@lru_cache(maxsize=None)
def recorded_books(root: Path, rules: str) -> dict[Market, list[MarketEvent]]:
    """Per market: its REST snapshot then every delta the sequencer applied and every trade after
    it, as MarketEvents with non-decreasing times (a snapshot arrives after its deltas' exchange
    times, so each time is raised to the last one)."""
    venue_, ws, http = RECORDINGS[rules]
    ws_path = root / "exchange_messages" / ws
    opened = next(r for r in read_cryptofeed(ws_path) if r.kind == "open")
    streams = parse_qs(urlparse(opened.url).query)["streams"][0].split("/")
    markets = sorted({market_from_symbol(s.split("@")[0], venue_) for s in streams}, key=str)
    snapshots = {}
    for r in read_cryptofeed(root / "exchange_messages" / http):
        if r.kind == "http":
            market = market_from_symbol(parse_qs(urlparse(r.url).query)["symbol"][0], venue_)
            snapshots[market] = (r.received_ns, parse_depth_snapshot(r.payload))
    parser = BinanceParser(markets, venue_)
    out: dict[Market, list[MarketEvent]] = {}
    for market, (t0, snap) in snapshots.items():
        seq = SequencedBook(rules)
        seq.snapshot(snap.to_snapshot())
        events, last = [MarketEvent(t0, market, snap)], t0
        for frame in ws_frames(ws_path):
            for e in parser.parse(frame.payload, frame.received_ns):
                if getattr(e, "market", None) != market:
                    continue
                if isinstance(e.kind, OrderBookL2Update) and seq.delta(e.kind.to_delta()) == DeltaResult.APPLIED:
                    last = max(last, e.exchange_time_ns)
                    events.append(MarketEvent(last, market, e.kind))
                elif isinstance(e.kind, Trade) and e.exchange_time_ns >= t0:
                    last = max(last, e.exchange_time_ns)
                    events.append(MarketEvent(last, market, e.kind))
        out[market] = events
    return out


@pytest.fixture(params=["spot", "futures"])
def books(request, data_dir) -> dict[Market, list[MarketEvent]]:
    return recorded_books(data_dir, request.param)


class RefBook:
    """A dict book with the user's consumption per level, cleared when the level is updated."""

    def __init__(self) -> None:
        self.sides: dict[int, dict[float, float]] = {1: {}, -1: {}}  # +1 asks (a buy takes), -1 bids
        self.consumed: dict[tuple[int, float], float] = {}

    def apply(self, kind) -> None:
        if isinstance(kind, Trade):
            return
        if not isinstance(kind, OrderBookL2Update):
            self.sides = {1: {}, -1: {}}
            self.consumed.clear()
        for key, rows in ((-1, kind.bids), (1, kind.asks)):
            for p, s in rows:
                self.consumed.pop((key, p), None)
                if s == 0:
                    self.sides[key].pop(p, None)
                else:
                    self.sides[key][p] = s

    def walk(self, side: Side, quantity: float) -> list[tuple[float, float]]:
        levels = self.sides[int(side)]
        out, tiny = [], quantity * 1e-12  # float residue, as the venue's
        for p in sorted(levels, reverse=side == SELL):
            avail = levels[p] - self.consumed.get((int(side), p), 0.0)
            q = min(quantity, avail)
            if q > 0:
                out.append((p, q))
                self.consumed[(int(side), p)] = self.consumed.get((int(side), p), 0.0) + q
                quantity -= q
            if quantity <= tiny:
                break
        return out


def test_market_orders_walk_the_real_book(books):
    checked = 0
    for market, events in books.items():
        v, ref = MatchingVenue(MakerTakerFees(taker=0.001)), RefBook()
        for event in events:
            assert fills(v.on_event(event)) == []
            ref.apply(event.kind)
            for side in (BUY, SELL):  # into the third level or so: partial levels, then the next buy sees what is left
                prices, sizes = v.book.depth(1 if side == BUY else 0, 3)
                qty = float(sizes.sum()) * 0.8
                oid = v.submit(BookOrder.market(side, qty), event.exchange_time_ns)
                out = v.advance(event.exchange_time_ns)
                want = ref.walk(side, qty)
                got = [(p, q) for _, p, q, liq in fills(out)]
                assert [p for p, _ in got] == [p for p, _ in want]
                assert [q for _, q in got] == pytest.approx([q for _, q in want], rel=REL)
                assert all(f.fee == pytest.approx(0.001 * f.price * f.quantity, rel=REL) for f in out
                           if isinstance(f, BookFill))
                c = closed(out)[oid]
                assert c.filled + c.unfilled == pytest.approx(qty, rel=REL)
                checked += 1
    assert checked > 300


def test_a_market_order_larger_than_the_real_side_fills_it_all_and_expires_the_rest(books):
    for market, events in books.items():
        v = MatchingVenue()
        for event in events:
            v.on_event(event)
        prices, sizes = v.book.depth(1)
        qty = float(sizes.sum()) + 1.0
        oid = v.submit(BookOrder.market(BUY, qty), v.clock_ns)
        out = v.advance(v.clock_ns)
        assert [f[1] for f in fills(out)] == prices.tolist()  # every level, best first, at its price
        c = closed(out)[oid]
        assert c.status == OrderStatus.EXPIRED
        assert c.filled == pytest.approx(float(sizes.sum()), rel=REL) and c.unfilled == pytest.approx(1.0, rel=1e-6)
        assert v.available(1, float(prices[0])) == 0.0  # consumed until the exchange updates the level


# --------------------------------------------------------------------------------------------------
# Takers
# --------------------------------------------------------------------------------------------------
def test_market_order_walks_levels_with_fees_and_slippage():
    v = venue(MakerTakerFees(maker=-0.0001, taker=0.0005))
    oid = v.submit(BookOrder.market(BUY, 2.5), 1)
    out = v.advance(1)
    assert fills(out) == [(oid, 101.0, 1.0, Liquidity.TAKER), (oid, 102.0, 1.5, Liquidity.TAKER)]
    assert [f.fee for f in out if isinstance(f, BookFill)] == pytest.approx([0.0505, 0.0765], rel=REL)
    assert closed(out)[oid].status == OrderStatus.FILLED


def test_two_orders_never_take_the_same_size_until_the_level_updates():
    v = venue()
    a = v.submit(BookOrder.market(BUY, 1.5), 1)
    b = v.submit(BookOrder.market(BUY, 1.5), 1)
    out = v.advance(1)
    assert fills(out) == [(a, 101.0, 1.0, Liquidity.TAKER), (a, 102.0, 0.5, Liquidity.TAKER),
                          (b, 102.0, 1.5, Liquidity.TAKER)]
    assert v.available(1, 101.0) == 0.0 and v.available(1, 102.0) == 0.0
    v.on_delta(2, [], [[101.0, 4.0]])  # the exchange's new size replaces what was consumed
    assert v.available(1, 101.0) == 4.0 and v.available(1, 102.0) == 0.0
    v.on_snapshot(3, BIDS, ASKS)
    assert v.available(1, 102.0) == 2.0


def test_limit_ioc_takes_up_to_its_price_and_expires_the_rest():
    v = venue()
    oid = v.submit(BookOrder.limit(SELL, 5.0, 98.0, TimeInForce.IOC), 1)
    out = v.advance(1)
    assert fills(out) == [(oid, 99.0, 1.0, Liquidity.TAKER), (oid, 98.0, 2.0, Liquidity.TAKER)]
    c = closed(out)[oid]
    assert (c.status, c.filled, c.unfilled) == (OrderStatus.EXPIRED, 3.0, 2.0)


def test_fill_or_kill_is_all_or_nothing():
    v = venue()
    no = v.submit(BookOrder.limit(BUY, 3.5, 102.0, TimeInForce.FOK), 1)
    yes = v.submit(BookOrder.limit(BUY, 3.0, 102.0, TimeInForce.FOK), 1)
    out = v.advance(1)
    assert closed(out)[no].status == OrderStatus.EXPIRED and closed(out)[no].filled == 0.0
    assert [f for f in fills(out) if f[0] == no] == []
    assert closed(out)[yes].status == OrderStatus.FILLED
    assert sum(q for o, _, q, _ in fills(out) if o == yes) == 3.0
    mkt = v.submit(BookOrder.market(BUY, 3.1, TimeInForce.FOK), 2)  # 3 left after the first FOK
    assert closed(v.advance(2))[mkt].status == OrderStatus.EXPIRED


def test_post_only_that_would_cross_is_rejected_else_rests_as_maker():
    v = venue(MakerTakerFees(maker=0.0001, taker=0.001))
    bad = v.submit(BookOrder.limit(BUY, 1.0, 101.0, post_only=True), 1)
    good = v.submit(BookOrder.limit(BUY, 1.0, 100.0, post_only=True), 1)
    out = v.advance(1)
    assert closed(out)[bad].status == OrderStatus.REJECTED and fills(out) == []
    assert v.order(good).resting and v.order(good).ahead == 0.0
    out = v.on_trade(2, 100.0, 0.4, SELL)
    assert fills(out) == [(good, 100.0, 0.4, Liquidity.MAKER)]
    assert out[0].fee == pytest.approx(0.0001 * 40.0, rel=REL)


def test_gtc_takes_then_rests_the_rest_at_its_price():
    v = venue()
    oid = v.submit(BookOrder.limit(BUY, 3.0, 102.0), 1)
    out = v.advance(1)
    assert fills(out) == [(oid, 101.0, 1.0, Liquidity.TAKER), (oid, 102.0, 2.0, Liquidity.TAKER)]
    assert closed(out)[oid].status == OrderStatus.FILLED
    oid = v.submit(BookOrder.limit(BUY, 4.0, 103.0), 2)
    out = v.advance(2)
    assert fills(out) == [(oid, 103.0, 3.0, Liquidity.TAKER)]
    assert v.order(oid).resting and v.order(oid).remaining == 1.0


# --------------------------------------------------------------------------------------------------
# Queue position
# --------------------------------------------------------------------------------------------------
def test_a_resting_order_fills_only_after_the_volume_ahead_traded():
    v = venue()
    oid = v.submit(BookOrder.limit(BUY, 2.0, 98.0), 1)
    v.advance(1)
    assert v.order(oid).ahead == 2.0  # the level's size when it joined
    assert fills(v.on_trade(2, 98.0, 1.5, SELL)) == [] and v.order(oid).ahead == 0.5
    assert fills(v.on_trade(3, 98.0, 1.0, SELL)) == [(oid, 98.0, 0.5, Liquidity.MAKER)]
    assert fills(v.on_trade(4, 98.0, 1.0, BUY)) == []  # a buyer's trade does not hit bids
    assert fills(v.on_trade(5, 97.0, 5.0, SELL)) == [(oid, 98.0, 1.5, Liquidity.MAKER)]  # through its price
    assert oid not in {o.order_id for o in v.open_orders}


def test_one_print_never_fills_two_orders_with_the_same_volume():
    v = venue()
    a = v.submit(BookOrder.limit(SELL, 1.0, 103.0), 1)
    b = v.submit(BookOrder.limit(SELL, 1.0, 103.0), 1)
    v.advance(1)
    out = fills(v.on_trade(2, 103.0, 4.0, BUY))  # 3 ahead of both, 1 past them
    assert out == [(a, 103.0, 1.0, Liquidity.MAKER)]
    assert fills(v.on_trade(3, 103.0, 0.5, BUY)) == [(b, 103.0, 0.5, Liquidity.MAKER)]


@pytest.mark.parametrize("rule, ahead", [(QueueRule.PESSIMISTIC, 2.0), (QueueRule.PROPORTIONAL, 1.0)])
def test_cancels_move_the_queue_by_the_rule(rule, ahead):
    v = venue(queue=rule)
    oid = v.submit(BookOrder.limit(BUY, 1.0, 97.0), 1)
    v.advance(1)
    assert v.order(oid).ahead == 3.0
    v.on_delta(2, [[97.0, 5.0]], [])  # 2 join behind it
    assert v.order(oid).ahead == 3.0
    v.on_delta(3, [[97.0, 2.5]], [])  # half the queue cancels
    assert v.order(oid).ahead == pytest.approx({QueueRule.PESSIMISTIC: 2.5, QueueRule.PROPORTIONAL: 1.5}[rule])
    v.on_delta(4, [[97.0, ahead]], [])
    assert v.order(oid).ahead <= ahead


def test_a_size_drop_that_trades_explain_is_not_counted_again():
    v = venue(queue=QueueRule.PROPORTIONAL)
    oid = v.submit(BookOrder.limit(BUY, 1.0, 97.0), 1)
    v.advance(1)
    v.on_trade(2, 97.0, 1.0, SELL)
    assert v.order(oid).ahead == 2.0
    v.on_delta(3, [[97.0, 2.0]], [])  # the print's 1.0, no cancels
    assert v.order(oid).ahead == 2.0


def test_a_level_posted_through_a_resting_order_fills_it_as_maker_at_its_price():
    v = venue(MakerTakerFees(maker=0.0, taker=0.01))
    oid = v.submit(BookOrder.limit(BUY, 2.0, 100.0), 1)
    v.advance(1)
    out = v.on_delta(2, [], [[100.0, 0.5], [99.5, 0.5]])  # a seller posted at or below its bid
    assert sorted(fills(out)) == [(oid, 100.0, 0.5, Liquidity.MAKER), (oid, 100.0, 0.5, Liquidity.MAKER)]
    assert all(f.fee == 0.0 for f in out if isinstance(f, BookFill))
    assert v.order(oid).remaining == 1.0


# --------------------------------------------------------------------------------------------------
# Latency and cancels
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("order_ns, price", [(0, 101.0), (9, 101.0), (10, 105.0), (50, 105.0)])
def test_an_order_sees_the_book_as_of_its_arrival(order_ns, price):
    v = venue(latency=Latency(feed_ns=3, order_ns=order_ns))
    oid = v.submit(BookOrder.market(BUY, 1.0), 0)
    out = v.on_delta(10, [], [[101.0, 0.0], [102.0, 0.0], [103.0, 0.0], [105.0, 1.0]])
    out += v.advance(100)
    f = [r for r in out if isinstance(r, BookFill)]
    assert (f[0].price, f[0].time_ns, f[0].received_ns) == (price, order_ns, order_ns + 3)


def test_a_cancel_takes_effect_on_arrival():
    v = venue(latency=Latency(order_ns=5))
    oid = v.submit(BookOrder.limit(BUY, 1.0, 99.0), 0)
    v.advance(5)
    v.cancel(oid, 6)  # arrives at 11: the trade at 10 fills first
    out = v.on_trade(10, 99.0, 1.5, SELL) + v.advance(11)
    assert fills(out) == [(oid, 99.0, 0.5, Liquidity.MAKER)]
    c = closed(out)[oid]
    assert (c.status, c.filled, c.unfilled, c.time_ns) == (OrderStatus.CANCELLED, 0.5, 0.5, 11)
    with pytest.raises(UnknownOrder, match="never sent or has ended"):
        v.cancel(oid, 20)


# --------------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: BookOrder.market(BUY, math.nan), lambda: BookOrder.market(BUY, -1.0),
    lambda: BookOrder.limit(BUY, 1.0, 0.0), lambda: BookOrder.limit(BUY, 1.0, math.inf),
    lambda: BookOrder(BUY, 1.0, tif=TimeInForce.GTC), lambda: BookOrder.limit(BUY, 1.0, 1.0, TimeInForce.IOC, True),
    lambda: BookOrder(0, 1.0)])  # type: ignore[arg-type]
def test_bad_orders_are_data_errors(make):
    with pytest.raises(DataError, match="was"):
        make()


def test_bad_events_and_times_raise_and_change_nothing():
    v = venue()
    oid = v.submit(BookOrder.limit(BUY, 1.0, 98.0), 1)
    v.advance(5)
    before = (v.book.depth(0), v.book.depth(1), v.order(oid).ahead, v.clock_ns)
    for bad in (lambda: v.on_delta(6, [[98.0, math.nan]], []), lambda: v.on_delta(6, [], [[-1.0, 1.0]]),
                lambda: v.on_snapshot(6, [[1.0]], []), lambda: v.on_trade(6, 98.0, -1.0, SELL),
                lambda: v.on_delta(4, [[98.0, 1.0]], []), lambda: v.submit(BookOrder.market(BUY, 1.0), 4),
                lambda: v.submit(BookOrder.market(BUY, 1.0), 5.0)):  # type: ignore[arg-type]
        with pytest.raises(DataError, match="was|before the venue's clock"):
            bad()
    after = (v.book.depth(0), v.book.depth(1), v.order(oid).ahead, v.clock_ns)
    assert all(np.array_equal(x, y) for a, b in zip(before[:2], after[:2]) for x, y in zip(a, b))
    assert before[2:] == after[2:] and len(v.open_orders) == 1
    with pytest.raises(UnknownOrder):
        v.order(99)
    with pytest.raises(ConfigError, match="order latency"):
        Latency(order_ns=-1)
    with pytest.raises(ConfigError, match="taker fee"):
        MakerTakerFees(taker=math.nan)


def test_a_crossed_book_is_reported():
    v = venue()
    with pytest.raises(CrossedBook, match="crossed"):
        v.on_delta(1, [[101.5, 1.0]], [])


# --------------------------------------------------------------------------------------------------
# Into an Account
# --------------------------------------------------------------------------------------------------
BTC = Market("binance", ("btc", "usdt"))


def test_fills_drive_an_account_through_a_strategy_with_latency():
    account = Account([BTC], {"usdt": 10_000.0}, "usdt")
    bridge = VenueAccount(venue(MakerTakerFees(maker=0.0, taker=0.001), Latency(feed_ns=2, order_ns=3)), account, BTC)
    seen: list[int] = []

    def strategy(event: MarketEvent, now_ns: int, b: VenueAccount) -> None:
        seen.append(now_ns)
        if len(seen) == 1:
            b.submit(BookOrder.market(BUY, 1.5), now_ns)  # arrives at 10 + 2 + 3 = 15
            b.submit(BookOrder.limit(BUY, 1.0, 98.0), now_ns)

    events = [MarketEvent(10, BTC, OrderBookL2Update(0, 0, None, (), ((101.0, 2.0),))),
              MarketEvent(14, BTC, OrderBookL2Update(0, 0, None, (), ((101.0, 1.0),))),
              MarketEvent(20, BTC, Trade(98.0, 3.0, SELL))]
    out = bridge.run(events, strategy)
    assert seen == [12, 16, 22]
    assert [(f.time_ns, f.quantity, f.price) for f in out] == [(15, 1.0, 101.0), (15, 0.5, 102.0), (20, 1.0, 98.0)]
    cost = 101.0 + 51.0 + 98.0
    fees = 0.001 * (101.0 + 51.0)
    assert account.balance("usdt").total == pytest.approx(10_000.0 - cost - fees, rel=REL)
    assert account.balance("btc").total == pytest.approx(2.5, rel=REL)
    assert account.orders == {} and account.balance("usdt").available == account.balance("usdt").total


def test_an_unfilled_rest_releases_the_accounts_reservation():
    account = Account([BTC], {"usdt": 10_000.0}, "usdt")
    bridge = VenueAccount(venue(), account, BTC)
    oid = bridge.submit(BookOrder.limit(BUY, 10.0, 102.0, TimeInForce.IOC), 1)
    assert account.balance("usdt").available < 10_000.0 - 1000.0
    out = bridge.advance(1)
    assert [f.quantity for f in out] == [1.0, 2.0]
    assert account.orders == {} and oid not in bridge.account_ids
    assert account.balance("usdt").available == pytest.approx(10_000.0 - 101.0 - 204.0, rel=REL)
    with pytest.raises(UnknownOrder):
        bridge.apply([OrderClosed(77, 1, 1, OrderStatus.CANCELLED, 0.0, 1.0)])
