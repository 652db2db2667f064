"""Partial exits (beyond the seed): a close fill smaller than the position reduces it at average cost.

Hand-worked with the rules in docs/portfolio.md ("Partial exits"):

    leg      r = |q| / |Q|;  realised = ±(exit value - r * enter_value) - (r * enter_fees_total + exit fees)
             available += r * enter_value + realised + r * enter_fees_total;  total += realised
    rest     quantity Q + q; enter value and fees * (1 - r); re-marked at its current price
    trade    at the final exit: the whole entry, exit value and fees summed over the legs,
             realised = Σ legs, return = realised / the whole entry value

Fills are booked with ``PortfolioCore.apply_fill(mid, decision, quantity, price, time_ns, fees)``.
"""
from __future__ import annotations

import re

import pytest

from barter import InstrumentKind, Market
from barter.portfolio import Portfolio
from barter.strategy import Decision

BTC = Market("binance", ("btc", "usdt", InstrumentKind.SPOT))
ETH = Market("binance", ("eth", "usdt", InstrumentKind.SPOT))
LONG, CLOSE_LONG, SHORT, CLOSE_SHORT = (int(d) for d in (Decision.LONG, Decision.CLOSE_LONG, Decision.SHORT,
                                                         Decision.CLOSE_SHORT))
NO_FEES = (0.0, 0.0, 0.0)


def approx(x):
    return pytest.approx(x, rel=1e-12, abs=1e-9)


def portfolio(n_markets=1):
    p = Portfolio(starting_cash=10_000.0, engine_id="t")
    p.bind([BTC, ETH][:n_markets], [NO_FEES] * n_markets)
    return p


def test_reduce_a_long():
    pf = portfolio()
    core = pf.core
    core.apply_fill(0, LONG, 10.0, 100.0, 1, (1.0, 0.5, 0.0))  # value 1000, fees 1.5; available 8998.5
    core.mark(0, 110.0, 2)
    core.apply_fill(0, CLOSE_LONG, -4.0, 120.0, 3, (0.4, 0.0, 0.0))
    # r = 0.4: releases value 400, fees 0.6; realised = (480 - 400) - (0.6 + 0.4) = 79
    # available = 8998.5 + 400 + 79 + 0.6 = 9478.1; total = 10079
    assert pf.balance.total == approx(10_079.0) and pf.balance.available == approx(9_478.1)
    p = pf.position(BTC)
    assert p is not None and p.is_open
    assert p.quantity == 6.0
    assert p.enter_value_gross == approx(600.0) and p.enter_avg_price_gross == 100.0
    assert (p.enter_fees.exchange, p.enter_fees.slippage, p.enter_fees.network) == (approx(0.6), approx(0.3), 0.0)
    assert p.enter_fees_total == approx(0.9)
    # re-marked at its current price 110: (660 - 600) - 2 * 0.9 = 58.2
    assert p.current_symbol_price == 110.0 and p.current_value_gross == approx(660.0)
    assert p.unrealised_profit_loss == approx(58.2)
    assert p.update_time_ns == 3
    assert p.realised_profit_loss == approx(79.0)
    assert p.exit_value_gross == approx(480.0) and p.exit_avg_price_gross == approx(120.0)
    assert p.exit_fees.exchange == approx(0.4) and p.exit_fees_total == approx(0.4)
    assert pf.equity == approx(10_079.0 + 58.2)
    assert core.n_exits == 0 and core.n_open == 1
    assert core.total_statistics()["trades"]["returns"]["count"] == 0  # no trade until the position closes


def test_reduce_a_short():
    pf = portfolio()
    core = pf.core
    core.apply_fill(0, SHORT, -5.0, 200.0, 1, (2.0, 0.0, 0.0))  # value 1000, fees 2; available 8998
    core.apply_fill(0, CLOSE_SHORT, 2.0, 180.0, 2, (0.36, 0.0, 0.0))
    # r = 0.4: value 400, fees 0.8; realised = -(360 - 400) - (0.8 + 0.36) = 38.84
    assert pf.balance.total == approx(10_038.84) and pf.balance.available == approx(8_998.0 + 400.0 + 38.84 + 0.8)
    p = pf.position(BTC)
    assert p is not None
    assert p.quantity == -3.0 and p.enter_value_gross == approx(600.0) and p.enter_fees_total == approx(1.2)
    # never marked: its current price is the entry's 200; (600 - 600) - 2 * 1.2
    assert p.current_value_gross == approx(600.0) and p.unrealised_profit_loss == approx(-2.4)
    assert p.realised_profit_loss == approx(38.84)


def test_legs_then_final_exit_make_one_trade():
    pf = portfolio()
    core = pf.core
    core.apply_fill(0, LONG, 10.0, 100.0, 1, (10.0, 0.0, 0.0))  # available 10000 - 1010 = 8990
    core.apply_fill(0, CLOSE_LONG, -2.0, 110.0, 2, (2.2, 0.0, 0.0))
    # r = 0.2: realised (220 - 200) - (2 + 2.2) = 15.8; available + 200 + 15.8 + 2 = 9207.8
    core.apply_fill(0, CLOSE_LONG, -3.0, 90.0, 3, (2.7, 0.0, 0.0))
    # r = 3/8 of (8, 800, 8): realised (270 - 300) - (3 + 2.7) = -35.7; available + 300 - 35.7 + 3 = 9475.1
    assert pf.position(BTC).realised_profit_loss == approx(15.8 - 35.7)
    assert pf.balance.available == approx(9_475.1)
    core.apply_fill(0, CLOSE_LONG, -5.0, 120.0, 4, (6.0, 0.0, 0.0))
    # final leg on (5, 500, 5): realised (600 - 500) - (5 + 6) = 89
    assert pf.position(BTC) is None and core.n_open == 0
    assert pf.balance.total == approx(10_069.1) and pf.balance.available == approx(10_069.1)
    [trade] = pf.exited_positions()
    assert trade == pf.exited_position(0)
    # the whole trade: entry 10 @ 100 (fees 10), exits 220 + 270 + 600 = 1090 (fees 10.9)
    assert trade.quantity == 10.0 and trade.enter_value_gross == 1000.0 and trade.enter_fees_total == 10.0
    assert trade.exit_value_gross == approx(1090.0) and trade.exit_avg_price_gross == approx(109.0)
    assert trade.exit_fees.exchange == approx(10.9) and trade.exit_fees_total == approx(10.9)
    assert trade.realised_profit_loss == approx(69.1)  # 1090 - 1000 - 20.9 = 15.8 - 35.7 + 89
    assert trade.unrealised_profit_loss == trade.realised_profit_loss
    assert trade.pnl_return == approx(0.0691)
    # the seed's exit balance for the final leg: total after it, available before its release
    assert trade.exit_balance.total == approx(10_069.1) and trade.exit_balance.available == approx(9_475.1)
    assert trade.exit_time_ns == 4 and trade.enter_time_ns == 1
    # counted once, at its final exit
    trades = core.total_statistics()["trades"]
    assert trades["returns"]["count"] == 1 and trades["returns"]["mean"] == approx(0.0691)
    assert trades["pnl"]["sum"] == approx(69.1) and trades["holding_ns"] == 3
    assert core.exits_list()[0]["fill_index"] == 3


def test_a_new_trade_after_a_partly_closed_one_starts_clean():
    pf = portfolio()
    core = pf.core
    core.apply_fill(0, LONG, 10.0, 100.0, 1, NO_FEES)
    core.apply_fill(0, CLOSE_LONG, -5.0, 110.0, 2, NO_FEES)
    core.apply_fill(0, CLOSE_LONG, -5.0, 120.0, 3, NO_FEES)
    core.apply_fill(0, SHORT, -1.0, 100.0, 4, NO_FEES)
    p = pf.position(BTC)
    assert p.realised_profit_loss == 0.0 and p.exit_value_gross == 0.0 and p.exit_fees_total == 0.0
    core.apply_fill(0, CLOSE_SHORT, 1.0, 90.0, 5, NO_FEES)
    second = pf.exited_position(1)
    assert second.quantity == -1.0 and second.exit_value_gross == 90.0 and second.realised_profit_loss == 10.0
    assert pf.exited_position(0).realised_profit_loss == approx(50.0 + 100.0)


def test_within_the_tolerance_a_close_is_a_full_exit():
    for quantity in (-10.0 * (1 - 1e-13), -10.0 * (1 + 1e-13)):
        pf = portfolio()
        pf.core.apply_fill(0, LONG, 10.0, 100.0, 1, NO_FEES)
        pf.core.apply_fill(0, CLOSE_LONG, quantity, 100.0, 2, NO_FEES)
        assert pf.position(BTC) is None and pf.exited_position(0).quantity == 10.0


def state(pf):
    core = pf.core
    return (core.balance, core.position(0), core.n_fills, core.n_exits, core.exits_list(), core.equity_value,
            core.total_statistics(), {k: v.tolist() for k, v in core.fills_columns().items()})


@pytest.mark.parametrize("decision, quantity, match", [
    (CLOSE_LONG, -6.5, "must not exceed its position quantity 6.0, was -6.5"),
    (CLOSE_LONG, 2.0, "must have the opposite sign of its position quantity 6.0, was 2.0"),
    (CLOSE_SHORT, 2.0, "decision CloseShort does not match the long position of market 0"),
    (CLOSE_SHORT, -2.0, "decision CloseShort does not match the long position of market 0"),
    (LONG, 1.0, "decision Long does not match the position of market 0 (open)"),
    (SHORT, -1.0, "decision Short does not match the position of market 0 (open)"),
])
def test_bad_close_fills_are_refused_and_change_nothing(decision, quantity, match):
    pf = portfolio()
    pf.core.apply_fill(0, LONG, 10.0, 100.0, 1, (1.0, 0.0, 0.0))
    pf.core.apply_fill(0, CLOSE_LONG, -4.0, 120.0, 2, (0.5, 0.0, 0.0))
    before = state(pf)
    with pytest.raises(RuntimeError, match=re.escape(match)):
        pf.core.apply_fill(0, decision, quantity, 130.0, 3, (0.1, 0.0, 0.0))
    assert state(pf) == before


def test_a_short_refuses_a_close_larger_than_it():
    pf = portfolio()
    pf.core.apply_fill(0, SHORT, -2.0, 100.0, 1, NO_FEES)
    before = state(pf)
    with pytest.raises(RuntimeError, match="must not exceed its position quantity -2.0, was 2.5"):
        pf.core.apply_fill(0, CLOSE_SHORT, 2.5, 100.0, 2, NO_FEES)
    assert state(pf) == before


def test_a_partial_exit_moves_the_market_equity_curve_and_the_total():
    pf = portfolio(n_markets=2)  # two markets: each has its own equity curve
    core = pf.core
    core.apply_fill(0, LONG, 10.0, 100.0, 1, NO_FEES)
    core.observe(0, 1, True)
    core.mark(0, 110.0, 2)
    core.apply_fill(0, CLOSE_LONG, -4.0, 120.0, 2, NO_FEES)  # realised 80; the rest 6 @ 110: unrealised 60
    equity = core.observe(0, 2, True)
    assert equity == approx(10_000.0 + 80.0 + 60.0)
    market = core.market_statistics(0)["equity"]["daily"]
    assert market["last"] == approx(10_000.0 + 80.0 + 60.0) and market["last_ns"] == 2
    assert core.total_statistics()["equity"]["daily"]["last"] == approx(equity)
    # the other market's curve is untouched by this market's realised PnL
    core.observe(1, 3)
    assert core.market_statistics(1)["equity"]["daily"]["last"] == 10_000.0
