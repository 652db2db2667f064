"""Account edge cases from the user review: fills stamped before their order, unmarked markets."""
from __future__ import annotations

import pytest

from barter.errors import DataError
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
