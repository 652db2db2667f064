"""The compiled ledger: each bad input is its own error with nothing changed; batches stop at the bad
row; a flip is two fills; equity converts through the markets' last prices."""
from __future__ import annotations

import math

import numpy as np
import pytest

from barter._core.ledger import Ledger
from barter.errors import DataError, InsufficientBalance, UnknownMarket

USDT, BTC, ETH = 0, 1, 2


def ledger(margin: bool = False) -> Ledger:
    # markets: 0 btc/usdt, 1 eth/btc
    return Ledger([BTC, ETH], [USDT, BTC], [10_000.0, 0.5, 0.0], USDT, margin)


def snapshot(led: Ledger) -> str:
    return repr(led.state())  # NaN marks compare equal as text


@pytest.mark.parametrize("args, error, words", [
    ((0, 1, math.nan, 100.0, 0.0), DataError, "quantity"),
    ((0, 1, 0.0, 100.0, 0.0), DataError, "quantity"),
    ((0, 1, 1.0, -100.0, 0.0), DataError, "price"),
    ((0, 1, 1.0, 0.0, 0.0), DataError, "price"),
    ((0, 1, 1.0, math.inf, 0.0), DataError, "price"),
    ((0, 1, 1.0, 100.0, -0.1), DataError, "fee"),
    ((0, 1, 1.0, 100.0, math.nan), DataError, "fee"),
    ((5, 1, 1.0, 100.0, 0.0), UnknownMarket, "market id 5"),
    ((-1, 1, 1.0, 100.0, 0.0), UnknownMarket, "market id -1"),
    ((0, 1, 200.0, 100.0, 0.0), InsufficientBalance, "asset 0"),  # 20,000 usdt > 10,000
    ((0, 1, -1.0, 100.0, 0.0), InsufficientBalance, "asset 1"),   # sells 1 btc, holds 0.5
])
def test_bad_fill_is_refused_with_nothing_changed(args, error, words) -> None:
    led = ledger()
    led.apply(0, 0, 0.1, 100.0, 0.01)
    before = snapshot(led)
    with pytest.raises(error, match=words):
        led.apply(*args)
    assert snapshot(led) == before


def test_time_going_backwards_is_refused() -> None:
    led = ledger()
    led.apply(0, 10, 0.1, 100.0, 0.0)
    before = snapshot(led)
    with pytest.raises(DataError, match="before its last time 10"):
        led.apply(0, 9, 0.1, 100.0, 0.0)
    with pytest.raises(DataError, match="before its last time"):
        led.mark(0, 101.0, 5)
    assert snapshot(led) == before
    led.apply(1, 9, 1.0, 0.05, 0.0)  # another market keeps its own clock


def test_margin_lets_balances_go_negative() -> None:
    led = ledger(margin=True)
    led.apply(0, 0, -2.0, 100.0, 0.0)  # short 2 btc holding 0.5
    assert led.total(BTC) == -1.5 and led.holding(0)["quantity"] == -2.0


def test_batch_stops_at_the_bad_row() -> None:
    led = ledger()
    mid = np.array([0, 0, 0, 0], np.int32)
    t = np.arange(4, dtype=np.int64)
    qty = np.array([0.1, 0.1, np.nan, 0.1])
    price = np.full(4, 100.0)
    fee = np.zeros(4)
    with pytest.raises(DataError, match="row 2: fill quantity"):
        led.apply_many(mid, t, qty, price, fee)
    assert led.n_fills == 2 and led.holding(0)["quantity"] == pytest.approx(0.2)


def test_flip_is_two_fills_with_the_fee_split() -> None:
    led = ledger(margin=True)
    led.apply(0, 0, 1.0, 100.0, 1.0)
    realised = led.apply(0, 1, -3.0, 110.0, 3.0)
    closing, opening = led.fill(1), led.fill(2)
    assert (closing["quantity"], closing["fee"]) == (-1.0, 1.0)
    assert (opening["quantity"], opening["fee"]) == (-2.0, 2.0)
    assert closing["realised"] == 10.0 - 1.0 and realised == 9.0 - 2.0
    (closed,) = [led.closed(0)]
    assert closed["realised"] == 10.0 - 2.0 and closed["side"] == 1
    h = led.holding(0)
    assert h["quantity"] == -2.0 and h["avg_price"] == 110.0 and h["position_id"] == 1


def test_equity_converts_through_chained_markets() -> None:
    led = ledger()
    assert math.isnan(led.equity())  # 0.5 btc has no price yet
    led.mark(0, 30_000.0, 1)
    led.apply(1, 2, 2.0, 0.05, 0.0)  # 2 eth for 0.1 btc
    assert led.rates() == [1.0, 30_000.0, 1_500.0]
    assert led.equity() == pytest.approx(10_000.0 + 0.4 * 30_000.0 + 2.0 * 1_500.0)


def test_reservations_limit_what_fills_may_spend() -> None:
    led = ledger()
    led.reserve(USDT, 9_000.0)
    with pytest.raises(InsufficientBalance):
        led.apply(0, 0, 20.0, 100.0, 0.0)  # 2,000 > 1,000 available
    with pytest.raises(DataError, match="only 9000.0 reserved"):
        led.reserve(USDT, -9_500.0)
    led.reserve(USDT, -9_000.0)
    led.apply(0, 0, 20.0, 100.0, 0.0)
    assert led.available(USDT) == 8_000.0
