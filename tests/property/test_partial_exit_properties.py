"""Hypothesis: partial exits in the compiled portfolio against the Fraction reference.

Random sequences of recorded fills (``PortfolioCore.apply_fill``, with fee amounts) on one or two
markets: an entry, marks, partial closes of 1 % .. 99 % of what is open, and a final close, with
refused fills (too large, wrong sign, wrong decision) mixed in. After every step the balances, the
open positions (quantity, entry value and fees, realised so far), every exited trade and the trade
statistics are compared with ``reference.seed_portfolio.SeedPortfolio.book``.

Tolerance: rel 1e-9 of max(|expected|, scale), scale the largest money amount the reference has seen
(realised PnL and balances are differences of large operands). Partial fractions stay far from 1,
so the 1e-12 "equal means full" band never decides differently in floats and exactly.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any

from hypothesis import event, given, note
from hypothesis import strategies as st

from barter._core.position import PortfolioCore
from reference.seed_portfolio import CLOSE_LONG, CLOSE_SHORT, LONG, SHORT, RefPosition, SeedPortfolio

REL = 1e-9
T0 = 1_700_000_000 * 10**9
CASH = 100_000.0


def assert_near(what: str, actual: float, expected: Fraction, scale: Fraction | float = 0.0) -> None:
    e = float(expected)
    assert abs(actual - e) <= REL * max(abs(e), float(scale)), f"{what}: core {actual!r}, reference {e!r}"


def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


rates_st = st.sampled_from([0.0, 0.001, 0.05]) | floats(0.0, 0.1)
actions_st = st.sampled_from(["partial", "partial", "partial", "full", "mark",
                              "too_large", "wrong_sign", "wrong_decision", "entry_again"])


def assert_open(tag: str, d: dict[str, Any], p: RefPosition, scale: Fraction) -> None:
    assert_near(f"{tag} quantity", d["quantity"], p.quantity)
    assert_near(f"{tag} enter_value_gross", d["enter_value_gross"], p.enter_value_gross)
    assert_near(f"{tag} enter_avg_price_gross", d["enter_avg_price_gross"], p.enter_avg_price_gross)
    for k, name in enumerate(("exchange", "slippage", "network")):
        assert_near(f"{tag} enter fee {name}", d["enter_fees"][k], getattr(p.enter_fees, name), p.enter_value_gross)
    assert_near(f"{tag} enter_fees_total", d["enter_fees_total"], p.enter_fees_total, p.enter_value_gross)
    assert_near(f"{tag} current_value_gross", d["current_value_gross"], p.current_value_gross)
    assert_near(f"{tag} unrealised", d["unrealised_pnl"], p.unrealised_profit_loss, scale)
    assert_near(f"{tag} realised so far", d["realised_pnl"], p.realised_profit_loss, scale)
    assert_near(f"{tag} exit_value_gross", d["exit_value_gross"], p.exit_value_gross)
    assert_near(f"{tag} exit_fees_total", d["exit_fees_total"], p.exit_fees_total, p.exit_value_gross)


def assert_trade(tag: str, d: dict[str, Any], p: RefPosition, scale: Fraction) -> None:
    assert d["side"] == p.side and d["exit_time_ns"] == p.exit_time_ns, tag
    assert_near(f"{tag} quantity (whole)", d["quantity"], p.quantity)
    assert_near(f"{tag} enter_value_gross (whole)", d["enter_value_gross"], p.enter_value_gross)
    assert_near(f"{tag} enter_fees_total (whole)", d["enter_fees_total"], p.enter_fees_total, p.enter_value_gross)
    assert_near(f"{tag} exit_value_gross", d["exit_value_gross"], p.exit_value_gross)
    for k, name in enumerate(("exchange", "slippage", "network")):
        assert_near(f"{tag} exit fee {name}", d["exit_fees"][k], getattr(p.exit_fees, name), p.exit_value_gross)
    assert_near(f"{tag} exit_avg_price_gross", d["exit_avg_price_gross"], p.exit_avg_price_gross)
    assert_near(f"{tag} realised (Σ legs)", d["realised_pnl"], p.realised_profit_loss, scale)
    assert p.exit_balance is not None
    assert_near(f"{tag} exit balance total", d["exit_balance"][1], p.exit_balance.total, scale)
    assert_near(f"{tag} exit balance available", d["exit_balance"][2], p.exit_balance.available, scale)


def assert_state(core: PortfolioCore, ref: SeedPortfolio, tag: str) -> None:
    scale = ref.magnitude
    t, total, available = core.balance
    assert t == ref.balance.time_ns, tag
    assert_near(f"{tag} balance.total", total, ref.balance.total, scale)
    assert_near(f"{tag} balance.available", available, ref.balance.available, scale)
    assert_near(f"{tag} equity", core.equity_value, ref.equity, scale)
    assert core.n_fills == len(ref.fills), tag
    for mid in range(ref.n_markets):
        d, p = core.position(mid), ref.position(mid)
        assert (d is None) == (p is None), f"{tag} market {mid} open: core {d is not None}, reference {p is not None}"
        if p is not None:
            assert_open(f"{tag} open {mid}", d, p, scale)
    exits = core.exits_list()
    assert len(exits) == len(ref.exited), tag
    for i, (d, p) in enumerate(zip(exits, ref.exited)):
        assert_trade(f"{tag} trade {i}", d, p, scale)
    # one trade per position, its return over the opened entry value
    returns = core.total_statistics()["trades"]["returns"]
    assert returns["count"] == len(ref.exited), tag
    if ref.exited:
        want = [p.pnl_return for p in ref.exited]
        assert_near(f"{tag} Σ trade returns", returns["sum"], sum(want, Fraction(0)),
                    sum((scale / p.enter_value_gross for p in ref.exited), Fraction(0)))
        assert_near(f"{tag} lowest trade return", returns["low"], min(want), scale / min(p.enter_value_gross for p in ref.exited))


@given(st.data())
def test_partial_exits_equal_the_fraction_reference(data: Any) -> None:
    n_markets = data.draw(st.integers(1, 2), label="markets")
    rates = [data.draw(st.tuples(rates_st, rates_st, rates_st), label=f"fee rates {m}") for m in range(n_markets)]
    core = PortfolioCore(n_markets, CASH, [(0.0, 0.0, 0.0)] * n_markets, 1000.0, None, CASH)
    ref = SeedPortfolio(n_markets, CASH, [(0.0, 0.0, 0.0)] * n_markets, 1000.0, None)
    t = T0
    legs = 0
    for step in range(data.draw(st.integers(2, 16), label="steps")):
        t += 60 * 10**9
        mid = data.draw(st.integers(0, n_markets - 1))
        price = data.draw(floats(0.5, 5e4), label="price")
        open_ = core.position(mid)

        def book(decision: int, quantity: float) -> bool:
            value = abs(quantity) * price
            fees = tuple(rate * value for rate in rates[mid])
            ok = ref.book(mid, decision, quantity, price, t, fees)  # type: ignore[arg-type]
            try:
                core.apply_fill(mid, decision, quantity, price, t, fees)
            except RuntimeError:
                assert not ok, f"step {step}: core refused a fill the reference booked"
                return False
            assert ok, f"step {step}: core booked a fill the reference refused"
            return True

        if open_ is None:
            decision = data.draw(st.sampled_from([LONG, SHORT]))
            size = data.draw(floats(1e-3, 1e3), label="size")
            assert book(decision, size if decision == LONG else -size)
        else:
            q, close = open_["quantity"], CLOSE_LONG if open_["side"] > 0 else CLOSE_SHORT
            action = data.draw(actions_st, label="action")
            if action == "mark":
                core.mark(mid, price, t)
                ref.mark(mid, price, t)
            elif action == "partial":
                assert book(close, -q * data.draw(floats(0.01, 0.99), label="fraction"))
                legs += 1
            elif action == "full":
                assert book(close, -q)
            else:
                before = (core.balance, core.position(mid), core.n_fills, core.exits_list())
                bad = {"too_large": (close, -q * data.draw(floats(1.001, 3.0))), "wrong_sign": (close, 0.5 * q),
                       "wrong_decision": (CLOSE_SHORT if close == CLOSE_LONG else CLOSE_LONG, -q),
                       "entry_again": (LONG if q > 0 else SHORT, q)}[action]
                assert not book(*bad)
                assert (core.balance, core.position(mid), core.n_fills, core.exits_list()) == before
        assert_state(core, ref, f"step {step}")
    note(f"fills {len(ref.fills)}, partial legs {legs}, trades {len(ref.exited)}")
    event(f"partial legs: {min(legs, 3)}{'+' if legs >= 3 else ''}, trades: {min(len(ref.exited), 2)}")
