"""Stateful test: random orders, partial fills, increases, reductions, flips, cancels, marks and bad
input across three markets and three assets, checked after every step against the exact reference
ledger (tests/reference/ledger.py). In CI: 200 runs x 500 steps = 10^5 steps."""
from __future__ import annotations

import math
import os
from fractions import Fraction as F

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from barter.errors import DataError, InsufficientBalance, UnknownMarket, UnknownOrder
from barter.instrument import Market
from barter.portfolio.account import Account
from tests.reference.ledger import RefLedger

BTC = Market("binance", ("btc", "usdt"))
ETH = Market("binance", ("eth", "usdt"))
ETHBTC = Market("binance", ("eth", "btc"))
MARKETS = [BTC, ETH, ETHBTC]
PRICE = {BTC: (20_000, 40_000), ETH: (1_000, 3_000), ETHBTC: (0.03, 0.1)}
START = {"usdt": 100_000.0, "btc": 1.0, "eth": 0.0}

CI = os.environ.get("HYPOTHESIS_PROFILE") == "ci"
STEPS = 500 if CI else 60
RUNS = 200 if CI else 25


def close(a: float, b: F) -> bool:
    return math.isclose(a, float(b), rel_tol=1e-9, abs_tol=1e-7)


def prices(market: Market) -> st.SearchStrategy[float]:
    lo, hi = PRICE[market]
    return st.integers(0, 1000).map(lambda k: round(lo + (hi - lo) * k / 1000, 6))


class AccountMachine(RuleBasedStateMachine):
    """Drives an ``Account`` and a ``RefLedger`` with the same operations."""

    @initialize(margin=st.booleans())
    def start(self, margin: bool) -> None:
        self.account = Account(MARKETS, START, "usdt", allow_margin=margin, engine_id="test")
        self.ref = RefLedger({str(m): m.instrument.base for m in MARKETS},
                             {str(m): m.instrument.quote for m in MARKETS},
                             {a: F(v) for a, v in START.items()})
        self.margin = margin
        self.checked = 0  # exited positions already compared (each is compared once)
        self.closed_realised = {str(m): (0.0, F(0)) for m in MARKETS}  # core, reference
        self.orders: dict[int, tuple[Market, F, F]] = {}  # id -> market, remaining, reserved per unit
        self.time = 0

    # -- orders ---------------------------------------------------------------------------------

    @rule(market=st.sampled_from(MARKETS), lots=st.integers(-40, 40).filter(bool), data=st.data())
    def submit(self, market: Market, lots: int, data: st.DataObject) -> None:
        price = data.draw(prices(market))
        exact = lots * (F(1, 1000) if market is not ETHBTC else F(1, 20))  # decimal lots: dust-free
        quantity = float(exact)
        asset = market.instrument.quote if quantity > 0 else market.instrument.base
        need = F(0) if self.margin else (exact * F(str(price)) * F("1.01") if quantity > 0 else -exact)
        if abs(self.ref.available(asset) - need) < F(1, 10**6):
            return  # too close to call in floating point
        if not self.margin and self.ref.available(asset) < need:
            with pytest.raises(InsufficientBalance):
                self.account.submit(market, quantity, price, self.time, fee_rate=0.01)
            return
        oid = self.account.submit(market, quantity, price, self.time, fee_rate=0.01)
        self.ref.reserved[asset] = self.ref.reserved.get(asset, F(0)) + need
        self.orders[oid] = (market, exact, need / abs(exact))

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), share=st.sampled_from([F(1, 4), F(1, 2), F(1)]), fee_bp=st.integers(0, 30))
    def fill(self, data: st.DataObject, share: F, fee_bp: int) -> None:
        oid = data.draw(st.sampled_from(sorted(self.orders)))
        market, remaining, per_unit = self.orders[oid]
        q = remaining * share
        price = F(str(data.draw(prices(market))))
        fee = abs(q) * price * fee_bp / 10_000
        asset = market.instrument.quote if q > 0 else market.instrument.base
        self.time += 1
        release = per_unit * abs(q)
        self.ref.reserved[asset] = self.ref.reserved.get(asset, F(0)) - release
        base_after, quote_after = self.ref.shortfall(str(market), q, price, fee)
        if not self.margin and min(base_after, quote_after) < F(1, 10**6):
            self.ref.reserved[asset] += release
            if min(base_after, quote_after) > -F(1, 10**6):
                return  # too close to call
            with pytest.raises(InsufficientBalance):
                self.account.fill(oid, float(q), float(price), float(fee), self.time)
            return
        self.account.fill(oid, float(q), float(price), float(fee), self.time)
        self.ref.apply(str(market), q, price, fee)
        remaining -= q
        if remaining == 0:
            del self.orders[oid]
        else:
            self.orders[oid] = (market, remaining, per_unit)

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        oid = data.draw(st.sampled_from(sorted(self.orders)))
        market, remaining, per_unit = self.orders.pop(oid)
        asset = market.instrument.quote if remaining > 0 else market.instrument.base
        self.ref.reserved[asset] -= per_unit * abs(remaining)
        self.account.cancel(oid)

    @rule(market=st.sampled_from(MARKETS), data=st.data())
    def mark(self, market: Market, data: st.DataObject) -> None:
        price = data.draw(prices(market))
        self.time += 1
        self.account.mark(market, price, self.time)
        self.ref.marks[str(market)] = F(str(price))

    # -- bad input: a specific error and no change ------------------------------------------------

    @rule(bad=st.sampled_from(["nan", "negative_price", "zero", "unknown_order", "unknown_market",
                               "past", "overfill"]))
    def bad_input(self, bad: str) -> None:
        if bad == "past":  # a time is only in the past once the market has one
            self.time += 1
            self.account.mark(BTC, 30_000.0, self.time)
            self.ref.marks[str(BTC)] = F(30_000)
        before = self._summary()
        oid = next(iter(self.orders), None)
        if bad == "overfill" and oid is None:
            bad = "unknown_order"
        with pytest.raises((DataError, UnknownOrder, UnknownMarket)) as info:
            if bad == "nan":
                self.account.submit(BTC, math.nan, 30_000.0, self.time)
            elif bad == "negative_price":
                self.account.mark(ETH, -1.0, self.time)
            elif bad == "zero":
                self.account.submit(ETH, 0.0, 2_000.0, self.time)
            elif bad == "unknown_order":
                self.account.fill(10**9, 0.001, 30_000.0, 0.0, self.time)
            elif bad == "unknown_market":
                self.account.mark(Market("kraken", ("xbt", "usd")), 1.0, self.time)
            elif bad == "past":
                self.account.mark(BTC, 30_000.0, self.time - 1)
            else:
                market, remaining, _ = self.orders[oid]
                self.account.fill(oid, float(remaining * 2), 1.0, 0.0, self.time)
        assert info.type in {"nan": (DataError,), "negative_price": (DataError,), "zero": (DataError,),
                             "unknown_order": (UnknownOrder,), "unknown_market": (UnknownMarket,),
                             "past": (DataError,), "overfill": (DataError,)}[bad]
        assert self._summary() == before

    def _summary(self) -> str:
        """Everything a refused input could have changed (balances, reservations, positions, marks,
        counts, orders), as text so NaN marks compare equal."""
        led = self.account.ledger
        return repr((self.account.balances(), [led.holding(i) for i in range(led.n_markets)], led.n_fills,
                     led.n_closed, self.account.next_order_id, self.account.orders))

    # -- checked after every step -------------------------------------------------------------------

    @invariant()
    def balances_match(self) -> None:
        if not hasattr(self, "ref"):
            return
        for asset, b in self.account.balances().items():
            assert close(b.total, self.ref.balances.get(asset, F(0))), asset
            assert close(b.available, self.ref.available(asset)), asset
            if not self.margin:
                assert b.available >= -1e-7, asset

    @invariant()
    def pnl_matches(self) -> None:
        if not hasattr(self, "ref"):
            return
        self._compare_new_exits()
        for m in MARKETS:
            pos = self.account.position(m)
            ref = self.ref.positions.get(str(m))
            assert (pos is None) == (ref is None), (m, pos, ref)
            got, want = self.closed_realised[str(m)]
            if pos is not None:
                assert close(pos.quantity, ref.quantity) and close(pos.avg_price, ref.avg)
                assert close(pos.unrealised, self.ref.unrealised(str(m)))
                got, want = got + pos.realised, want + ref.realised
            assert close(got, want), m

    def _compare_new_exits(self) -> None:
        assert self.account.ledger.n_closed == len(self.ref.closed)
        for k in range(self.checked, len(self.ref.closed)):
            got, (market, want) = self.account.exited_position(k), self.ref.closed[k]
            # a flat position's realised PnL is its fills' cash flows less its fees, exactly
            assert want.realised == sum(want.cash_flows) - want.fees
            assert got.market == Market_of(market) and close(got.realised, want.realised)
            assert close(sum(-f.quantity * f.price for f in got.fills) - got.fees, want.realised)
            core, ref = self.closed_realised[market]
            self.closed_realised[market] = (core + got.realised, ref + want.realised)
        self.checked = len(self.ref.closed)

    def teardown(self) -> None:
        if hasattr(self, "ref"):  # the account's own sums agree with the reference at the end
            for m in MARKETS:
                assert close(self.account.realised_pnl(m), self.ref.realised(str(m))), m

    @invariant()
    def equity_matches(self) -> None:
        if not hasattr(self, "ref") or len(self.ref.marks) < len(MARKETS):
            return
        rates = {"usdt": F(1), "btc": self.ref.marks[str(BTC)], "eth": self.ref.marks[str(ETH)]}
        assert close(self.account.equity, self.ref.equity(rates))


def Market_of(name: str) -> Market:
    return next(m for m in MARKETS if str(m) == name)


AccountMachine.TestCase.settings = settings(max_examples=RUNS, stateful_step_count=STEPS, deadline=None,
                                            report_multiple_bugs=False)
TestAccount = AccountMachine.TestCase
