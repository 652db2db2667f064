"""Account edge cases from the user review: fills stamped before their order, unmarked markets."""
from __future__ import annotations

import pytest

from barter.errors import DataError, InsufficientBalance
from barter.instrument import Market
from barter.portfolio.account import Account

BTC = Market("binance", ("btc", "usdt"))
ETH = Market("binance", ("eth", "usdt"))


def test_a_fill_before_its_order_was_submitted_is_refused_and_changes_nothing() -> None:
    a = Account([BTC], {"usdt": 10_000.0}, "usdt")
    order = a.submit(BTC, 0.2, 30_000.0, time_ns=100)
    before = a.state()
    with pytest.raises(DataError, match="before the order was submitted at 100"):
        a.fill(order, 0.1, 30_000.0, fee=0.0, time_ns=50)
    assert a.state() == before
    a.fill(order, 0.1, 30_000.0, fee=0.0, time_ns=100)  # at the submit time is fine
    assert a.position(BTC) is not None


def test_submit_time_survives_a_restore() -> None:
    a = Account([BTC], {"usdt": 10_000.0}, "usdt")
    order = a.submit(BTC, 0.2, 30_000.0, time_ns=100)
    b = Account([BTC], {"usdt": 10_000.0}, "usdt")
    b.restore(a.state())
    with pytest.raises(DataError, match="before the order was submitted"):
        b.fill(order, 0.1, 30_000.0, fee=0.0, time_ns=50)


def test_state_with_an_unmarked_market_equals_itself() -> None:
    a = Account([BTC, ETH], {"usdt": 10_000.0}, "usdt")
    assert a.state() == a.state()
    order = a.submit(BTC, 0.1, 30_000.0, time_ns=1)
    a.fill(order, 0.1, 30_000.0, fee=0.0, time_ns=2)  # BTC is marked by its fill, ETH never
    assert a.state() == a.state()
    b = Account([BTC, ETH], {"usdt": 10_000.0}, "usdt")
    b.restore(a.state())
    assert b.state() == a.state()
    assert a.state()["ledger"]["holdings"][1]["mark"] is None


def test_an_order_before_the_markets_last_time_is_refused_and_changes_nothing() -> None:
    # docs/portfolio.md: "a time before the market's last one (DataError)"; submit accepted it.
    a = Account([BTC, ETH], {"usdt": 10_000.0}, "usdt")
    order = a.submit(BTC, 0.1, 100.0, time_ns=100)
    a.fill(order, 0.1, 100.0, fee=0.0, time_ns=200)
    before = a.state()
    with pytest.raises(DataError, match=r"binance_btc_usdt_spot: order time_ns 50 is before the market's last time 200"):
        a.submit(BTC, 0.1, 100.0, time_ns=50)
    assert a.state() == before and a.next_order_id == 1
    a.mark(ETH, 10.0, 300)
    with pytest.raises(DataError, match="binance_eth_usdt_spot"):  # a mark moves the market's time too
        a.submit(ETH, 1.0, 10.0, time_ns=299)
    assert a.submit(BTC, 0.1, 100.0, time_ns=200) == 1  # at the last time is fine
    assert a.submit(ETH, 1.0, 10.0, time_ns=300) == 2


def test_errors_name_the_asset_and_the_market_not_their_indices() -> None:
    a = Account([BTC], {"usdt": 100.0}, "usdt")
    with pytest.raises(InsufficientBalance, match=r"cannot reserve 1000.0 of usdt: 100.0 available"):
        a.submit(BTC, 10.0, 100.0, time_ns=1)
    order = a.submit(BTC, 0.5, 100.0, time_ns=1)
    a.fill(order, 0.25, 100.0, fee=0.0, time_ns=5)
    with pytest.raises(DataError, match=r"^binance_btc_usdt_spot: fill time 3 is before its last time 5$"):
        a.ledger.apply(0, 3, 0.25, 100.0)
    with pytest.raises(DataError, match=r"^binance_btc_usdt_spot: mark time 4 is before"):
        a.mark(BTC, 100.0, 4)
    with pytest.raises(InsufficientBalance, match=r"binance_btc_usdt_spot: fill of -1.0 .* needs more btc than"):
        a.ledger.apply(0, 6, -1.0, 100.0)
