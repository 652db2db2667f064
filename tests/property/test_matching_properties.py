"""MatchingVenue under random books, deltas, trades, orders, cancels and latencies, checked against a
dict book replayed in the test: quantity is conserved, takers fill only at levels of the book as of
their arrival (never an older one), within their limit and best first, no resting size is taken
twice, FOK is all or nothing, post-only never takes; and a resting order's fills follow the volume
traded past its queue position."""
from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from barter.execution import (BookFill, BookOrder, Latency, Liquidity, MatchingVenue, OrderClosed, OrderKind,
                              QueueRule, TimeInForce)
from barter.instrument import Side

REL = 1e-9
BUY, SELL = Side.BUY, Side.SELL
BID_TICKS, ASK_TICKS = range(90, 101), range(101, 112)  # never crossed
sizes = st.integers(1, 10).map(float)

book = st.tuples(st.dictionaries(st.sampled_from(BID_TICKS), sizes, min_size=1, max_size=8),
                 st.dictionaries(st.sampled_from(ASK_TICKS), sizes, min_size=1, max_size=8))
delta = st.tuples(st.just("delta"), st.integers(0, 10), st.booleans(), st.integers(0, 10),
                  st.integers(0, 10).map(float))
trade = st.tuples(st.just("trade"), st.integers(0, 10), st.integers(92, 108).map(float), sizes,
                  st.sampled_from([BUY, SELL]))
kinds = st.sampled_from([("market", TimeInForce.IOC, False), ("market", TimeInForce.FOK, False),
                         ("limit", TimeInForce.GTC, False), ("limit", TimeInForce.IOC, False),
                         ("limit", TimeInForce.FOK, False), ("limit", TimeInForce.GTC, True)])
order = st.tuples(st.just("order"), st.integers(0, 3), st.sampled_from([BUY, SELL]), kinds,
                  st.integers(92, 108).map(float), st.integers(1, 15).map(float))
cancel = st.tuples(st.just("cancel"), st.integers(0, 15), st.integers(0, 20))
actions = st.lists(st.one_of(delta, trade, order, order, cancel), min_size=1, max_size=40)


def make(side: Side, kind, price: float, qty: float) -> BookOrder:
    name, tif, post_only = kind
    if name == "market":
        return BookOrder.market(side, qty, tif)
    return BookOrder.limit(side, qty, price, tif, post_only)


class Replay:
    """The book after each event, and how often each level was set (its epoch)."""

    def __init__(self, bids: dict[int, float], asks: dict[int, float]) -> None:
        self.levels = {BUY: {float(k): v for k, v in asks.items()}, SELL: {float(k): v for k, v in bids.items()}}
        self.epoch: dict[tuple[Side, float], int] = defaultdict(int)
        self.states = [(0, self._copy())]  # (time, (levels taken by a BUY / SELL, epochs))

    def _copy(self):
        return {s: dict(v) for s, v in self.levels.items()}, dict(self.epoch)

    def delta(self, t: int, bid: bool, price: float, size: float) -> None:
        taker = SELL if bid else BUY  # a SELL takes bids
        self.epoch[(taker, price)] += 1
        if size == 0:
            self.levels[taker].pop(price, None)
        else:
            self.levels[taker][price] = size
        self.states.append((t, self._copy()))

    def at(self, t: int):
        """The state after every event at or before ``t``."""
        return [s for time, s in self.states if time <= t][-1]


@given(book, actions, st.sampled_from([0, 1, 5, 20]), st.sampled_from(list(QueueRule)))
def test_invariants_against_the_replayed_book(start, steps, order_ns, rule):
    bids, asks = start
    v = MatchingVenue(latency=Latency(feed_ns=3, order_ns=order_ns), queue=rule)
    v.on_snapshot(0, [[float(k), s] for k, s in bids.items()], [[float(k), s] for k, s in asks.items()])
    ref, reports, sent, t = Replay(bids, asks), [], {}, 0
    for step in steps:
        if step[0] == "delta":
            _, dt, bid, offset, size = step
            t += dt
            price = float((BID_TICKS if bid else ASK_TICKS)[offset])
            reports += v.on_delta(t, [[price, size]] if bid else [], [] if bid else [[price, size]])
            ref.delta(t, bid, price, size)
        elif step[0] == "trade":
            _, dt, price, qty, side = step
            t += dt
            reports += v.on_trade(t, price, qty, side)
        elif step[0] == "order":
            _, lag, side, kind, price, qty = step
            o = make(side, kind, price, qty)
            sent[v.submit(o, t + lag)] = (o, t + lag + order_ns)
        elif sent:
            _, lag, k = step
            oid = list(sent)[k % len(sent)]
            if oid in {o.order_id for o in v.open_orders}:
                v.cancel(oid, t + lag)
    reports += v.advance(t + 100)

    by_order = defaultdict(list)
    for r in reports:
        by_order[r.order_id].append(r)
    taken: dict[tuple[Side, float, int], float] = defaultdict(float)
    sizes_then: dict[tuple[Side, float, int], float] = {}
    for oid, (o, arrival) in sent.items():
        fills = [r for r in by_order[oid] if isinstance(r, BookFill)]
        ends = [r for r in by_order[oid] if isinstance(r, OrderClosed)]
        filled = sum(f.quantity for f in fills)
        assert len(ends) <= 1
        if ends:  # conserved: filled + unfilled = ordered
            assert ends[0].filled == pytest.approx(filled, rel=REL, abs=1e-9)
            assert ends[0].filled + ends[0].unfilled == pytest.approx(o.quantity, rel=REL)
        else:
            assert o.kind == OrderKind.LIMIT and o.tif == TimeInForce.GTC
            assert v.order(oid).filled == pytest.approx(filled, rel=REL, abs=1e-9) and filled < o.quantity
        assert all(f.time_ns >= arrival and f.received_ns == f.time_ns + 3 for f in fills)
        if o.tif == TimeInForce.FOK:
            assert filled == 0.0 or filled == pytest.approx(o.quantity, rel=REL)
        levels, epochs = ref.at(arrival)
        takers = [f for f in fills if f.liquidity == Liquidity.TAKER]
        assert not (o.post_only and takers)
        assert o.tif == TimeInForce.GTC or len(takers) == len(fills)  # only GTC rests
        for f in takers:  # at a level of the book as of arrival (not older), within the limit
            assert f.time_ns == arrival
            assert f.price in levels[o.side]
            assert o.price is None or (f.price <= o.price if o.side == BUY else f.price >= o.price)
            key = (o.side, f.price, epochs.get((o.side, f.price), 0))
            taken[key] += f.quantity
            sizes_then[key] = levels[o.side][f.price]
        prices = [f.price for f in takers]
        assert prices == sorted(prices, reverse=o.side == SELL) and len(set(prices)) == len(prices)  # best first
        for f in fills:
            if f.liquidity == Liquidity.MAKER:
                assert f.price == o.price
    for key, qty in taken.items():  # no resting size taken twice
        assert qty <= sizes_then[key] * (1 + REL)


@given(sizes, sizes, st.lists(st.tuples(sizes, st.booleans()), max_size=12), st.sampled_from(list(QueueRule)))
def test_a_resting_order_fills_with_the_volume_traded_past_its_queue(level, qty, prints, rule):
    v = MatchingVenue(queue=rule)
    v.on_snapshot(0, [[99.0, level], [98.0, 5.0]], [[101.0, 5.0]])
    oid = v.submit(BookOrder.limit(BUY, qty, 99.0), 0)
    v.advance(0)
    traded, filled = 0.0, 0.0
    for i, (q, grow) in enumerate(prints, 1):
        if grow:  # orders joining behind do not move it
            v.on_delta(i, [[99.0, level + traded + q]], [])
        out = v.on_trade(i, 99.0, q, SELL)
        traded += q
        filled += sum(f.quantity for f in out if isinstance(f, BookFill))
        assert filled == pytest.approx(min(qty, max(0.0, traded - level)), rel=REL, abs=1e-9)
