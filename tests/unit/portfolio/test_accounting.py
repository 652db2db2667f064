"""The seed's portfolio accounting (SEED.md sections 1 and 4) on hand-worked examples.

Every number below is worked out in the comments from the seed's formulas:

    entry    fee_k = rate_k * |qty| * close;  enter_fees_total = sum
             available -= enter_value + enter_fees_total           (total unchanged)
    open     unrealised = ±(current_value - enter_value) - 2 * enter_fees_total
    exit     realised = ±(exit_value - enter_value) - (enter_fees_total + exit_fees_total)
             available += enter_value + realised + enter_fees_total;  total += realised
             pnl_return = realised / enter_value
    equity   total + unrealised of open positions

The same examples are run through the Fraction reference (tests/reference/seed_portfolio.py) so the
reference is checked against the hand numbers too.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import pytest

from barter import Engine, InstrumentKind, Market, Side, Trader, backtest
from barter.backtest import DEFAULT_MARKET
from barter.data import HistoricalCandles
from barter.execution import Fees, SimulatedExecution
from barter.portfolio import DefaultAllocator, DefaultRisk, Portfolio
from barter.statistic import StatisticConfig
from barter.strategy import RSI, Decision, PrecomputedSignals, RSIStrategy
from reference.seed_portfolio import SeedPortfolio, run_events

L, CL, S, CS = (d.mask for d in (Decision.LONG, Decision.CLOSE_LONG, Decision.SHORT, Decision.CLOSE_SHORT))
T0 = 1_700_000_000 * 10**9
HOUR = 3_600 * 10**9
FEES = Fees(exchange=0.01, slippage=0.005, network=0.002)  # 1%, 0.5%, 0.2%: 1.7% of each fill value
BTC = Market("binance", ("btc", "usdt", InstrumentKind.SPOT))
ETH = Market("binance", ("eth", "usdt", InstrumentKind.SPOT))


def approx(x, rel=1e-12):
    return pytest.approx(x, rel=rel, abs=1e-9)


def candles(closes: Sequence[float], start: int = T0, step: int = HOUR) -> HistoricalCandles:
    c = np.asarray(closes, dtype=float)
    t = start + step * np.arange(len(c), dtype=np.int64)
    return HistoricalCandles.from_arrays(t, c, c, c, c, np.ones(len(c)))


def run(closes, masks, *, fees=FEES, order_value=1000.0, starting_cash=10_000.0, size_decimals: Optional[int] = 4,
        strength=None):
    return backtest(candles(closes), PrecomputedSignals(np.array(masks, np.int8), strength),
                    starting_cash=starting_cash, order_value=order_value, size_decimals=size_decimals, fees=fees,
                    statistic_config=StatisticConfig(starting_equity=10_000.0))  # > 0 even when the cash is 0


def reference(closes, masks, *, fees=FEES, order_value=1000.0, starting_cash=10_000.0, size_decimals=4,
              strength=None):
    ref = SeedPortfolio(1, starting_cash, [(fees.exchange, fees.slippage, fees.network)], order_value, size_decimals)
    events = [(0, c, T0 + i * HOUR, m, 1.0 if strength is None else strength[i])
              for i, (c, m) in enumerate(zip(closes, masks))]
    return ref, run_events(ref, events)


# --------------------------------------------------------------------------------------------------
# Long round trip: closes 100, 110, 120; Long at 100, nothing at 110, CloseLong at 120
# --------------------------------------------------------------------------------------------------
LONG_CLOSES, LONG_MASKS = [100.0, 110.0, 120.0], [L, 0, CL]


def test_long_entry_fees_balances_and_unrealised():
    result = run(LONG_CLOSES[:2], LONG_MASKS[:2])
    # qty = floor(1000 / 100 * 1e4) / 1e4 = 10; enter_value = 10 * 100 = 1000
    # fees: exchange 1% = 10, slippage 0.5% = 5, network 0.2% = 2 -> enter_fees_total 17
    p = result.portfolio.position(DEFAULT_MARKET)
    assert p is not None and p.side is Side.BUY
    assert p.quantity == 10.0
    assert p.enter_value_gross == approx(1000.0)
    assert p.enter_avg_price_gross == approx(100.0)
    assert (p.enter_fees.exchange, p.enter_fees.slippage, p.enter_fees.network) == (approx(10.0), approx(5.0), approx(2.0))
    assert p.enter_fees_total == approx(17.0)
    # marked at 110: current_value = 1100; unrealised = (1100 - 1000) - 2 * 17 = 66
    assert p.current_symbol_price == 110.0
    assert p.current_value_gross == approx(1100.0)
    assert p.unrealised_profit_loss == approx(66.0)
    # available = 10000 - (1000 + 17) = 8983; total unchanged = 10000
    assert result.portfolio.balance.total == 10_000.0
    assert result.portfolio.balance.available == approx(8_983.0)
    # equity after each event: entry event 10000 - 2*17 = 9966 (not marked before it entered); 10000 + 66
    assert result.equity.tolist() == [approx(9_966.0), approx(10_066.0)]
    assert result.portfolio.equity == approx(10_066.0)


def test_long_exit_realised_pnl_return_and_balances():
    result = run(LONG_CLOSES, LONG_MASKS)
    fills = result.fills
    assert fills["decision"].tolist() == ["LONG", "CLOSE_LONG"]
    assert fills["quantity"].tolist() == [10.0, -10.0]
    assert fills["price"].tolist() == [100.0, 120.0]
    # exit: value 10 * 120 = 1200; fees 12 + 6 + 2.4 = 20.4
    assert fills["fill_value_gross"].tolist() == [approx(1000.0), approx(1200.0)]
    assert fills["fee_exchange"].tolist() == [approx(10.0), approx(12.0)]
    assert fills["fee_slippage"].tolist() == [approx(5.0), approx(6.0)]
    assert fills["fee_network"].tolist() == [approx(2.0), approx(2.4)]
    assert result.portfolio.position(DEFAULT_MARKET) is None
    [p] = result.portfolio.exited_positions()
    # realised = (1200 - 1000) - (17 + 20.4) = 162.6; pnl_return = 162.6 / 1000 = 0.1626
    assert p.exit_value_gross == approx(1200.0)
    assert p.exit_avg_price_gross == approx(120.0)
    assert p.exit_fees_total == approx(20.4)
    assert p.realised_profit_loss == approx(162.6)
    assert p.unrealised_profit_loss == approx(162.6)  # the seed sets unrealised := realised on exit
    assert p.pnl_return == approx(0.1626)
    # available = 8983 + 1000 + 162.6 + 17 = 10162.6; total = 10000 + 162.6 = 10162.6
    b = result.portfolio.balance
    assert (b.total, b.available) == (approx(10_162.6), approx(10_162.6))
    assert b.time_ns == T0 + 2 * HOUR
    assert result.equity.tolist() == [approx(9_966.0), approx(10_066.0), approx(10_162.6)]
    row = result.positions.iloc[0]
    assert (row["side"], row["realised_pnl"], row["pnl_return"]) == ("buy", approx(162.6), approx(0.1626))


# --------------------------------------------------------------------------------------------------
# Short round trip: closes 200, 180, 250; Short at 200, nothing at 180, CloseShort at 250
# --------------------------------------------------------------------------------------------------
SHORT_CLOSES, SHORT_MASKS = [200.0, 180.0, 250.0], [S, 0, CS]


def test_short_entry_and_unrealised():
    result = run(SHORT_CLOSES[:2], SHORT_MASKS[:2])
    # qty = -floor(1000 / 200 * 1e4) / 1e4 = -5; enter_value = 5 * 200 = 1000; fees 10 + 5 + 2 = 17
    p = result.portfolio.position(DEFAULT_MARKET)
    assert p is not None and p.side is Side.SELL
    assert p.quantity == -5.0
    assert p.enter_value_gross == approx(1000.0)
    assert p.enter_avg_price_gross == approx(200.0)  # |value / qty|, positive
    assert p.enter_fees_total == approx(17.0)
    # marked at 180: current_value = 5 * 180 = 900; unrealised = (1000 - 900) - 2 * 17 = 66
    assert p.current_value_gross == approx(900.0)
    assert p.unrealised_profit_loss == approx(66.0)
    # entry reserves value + fees whatever the side: available = 10000 - 1017 = 8983
    assert result.portfolio.balance.available == approx(8_983.0)
    assert result.portfolio.balance.total == 10_000.0
    assert result.equity.tolist() == [approx(9_966.0), approx(10_066.0)]


def test_short_exit_realised_loss():
    result = run(SHORT_CLOSES, SHORT_MASKS)
    assert result.fills["decision"].tolist() == ["SHORT", "CLOSE_SHORT"]
    assert result.fills["quantity"].tolist() == [-5.0, 5.0]
    [p] = result.portfolio.exited_positions()
    # exit value 5 * 250 = 1250; fees 12.5 + 6.25 + 2.5 = 21.25
    # realised = (1000 - 1250) - (17 + 21.25) = -288.25; pnl_return = -0.28825
    assert p.exit_fees_total == approx(21.25)
    assert p.realised_profit_loss == approx(-288.25)
    assert p.pnl_return == approx(-0.28825)
    # available = 8983 + 1000 - 288.25 + 17 = 9711.75 = total
    b = result.portfolio.balance
    assert (b.total, b.available) == (approx(9_711.75), approx(9_711.75))
    # equity: 9966; 10000 + 66 = 10066; 9711.75
    assert result.equity.tolist() == [approx(9_966.0), approx(10_066.0), approx(9_711.75)]


@pytest.mark.parametrize(("closes", "masks"), [(LONG_CLOSES, LONG_MASKS), (SHORT_CLOSES, SHORT_MASKS)],
                         ids=["long", "short"])
def test_reference_reproduces_the_hand_numbers(closes, masks):
    ref, equity = reference(closes, masks)
    [p] = ref.exited
    expected = {"long": (162.6, 0.1626, [9_966.0, 10_066.0, 10_162.6]),
                "short": (-288.25, -0.28825, [9_966.0, 10_066.0, 9_711.75])}["long" if masks[0] == L else "short"]
    assert float(p.realised_profit_loss) == approx(expected[0])
    assert float(p.pnl_return) == approx(expected[1])
    assert [float(e) for e in equity] == [approx(e) for e in expected[2]]
    assert float(ref.balance.total) == float(ref.balance.available) == approx(expected[2][-1])


# --------------------------------------------------------------------------------------------------
# The exit balance (the seed's PositionMeta.exit_balance)
# --------------------------------------------------------------------------------------------------
def test_exit_balance_is_the_balance_handed_to_position_exit():
    # barter 0.8 update_from_fill (EXIT): `balance.time = fill.time; position.exit(balance, fill)`
    # where exit() does `balance.total += realised; meta.exit_balance = Some(balance)` on its copy;
    # only afterwards does update_from_fill add the release to `balance.available`. So exit_balance is
    # (fill time, total + realised, available BEFORE the exit): long example -> (t2, 10162.6, 8983).
    result = run(LONG_CLOSES, LONG_MASKS)
    [p] = result.portfolio.exited_positions()
    assert p.exit_time_ns == T0 + 2 * HOUR
    assert p.exit_balance is not None
    assert p.exit_balance.time_ns == T0 + 2 * HOUR
    assert p.exit_balance.total == approx(10_162.6)
    assert p.exit_balance.available == approx(8_983.0)


# --------------------------------------------------------------------------------------------------
# generate_order: which decision acts
# --------------------------------------------------------------------------------------------------
def test_only_the_matching_close_acts_with_a_position_open():
    masks = [
        L | S,       # 0 no position, both Long and Short: nothing
        CL,          # 1 no position, a close only: nothing
        CS,          # 2 nothing
        L | CS,      # 3 no position, Long (CloseShort ignored): enter long
        L,           # 4 long open: Long again does nothing (no pyramiding)
        S | CS,      # 5 long open: Short / CloseShort do nothing (no flips)
        L | CL,      # 6 long open: CloseLong exits
        S | CL,      # 7 no position: Short enters (CloseLong ignored)
        CL | L,      # 8 short open: nothing
        L | CL | S | CS,  # 9 short open: CloseShort exits
        L | CL | S | CS,  # 10 no position, Long and Short both: nothing
    ]
    result = run([100.0] * len(masks), masks)
    fills = result.fills
    assert fills["decision"].tolist() == ["LONG", "CLOSE_LONG", "SHORT", "CLOSE_SHORT"]
    assert (fills["time"].astype("int64") - T0).floordiv(HOUR).tolist() == [3, 6, 7, 9]
    assert fills["quantity"].tolist() == [10.0, -10.0, -10.0, 10.0]


def test_strength_scales_the_entry_and_exit_closes_all():
    # Long at 100 with strength 2.5: 10 * 2.5 = 25; Short at 200 with strength 0.5: -5 * 0.5 = -2.5.
    # The exits (any strength) close the whole position.
    masks = [L, CL, S, CS]
    result = run([100.0, 100.0, 200.0, 200.0], masks, strength=np.array([2.5, 7.0, 0.5, 3.0]))
    assert result.fills["quantity"].tolist() == [25.0, -25.0, -2.5, 2.5]


@pytest.mark.parametrize(("order_value", "close", "size_decimals", "qty"), [
    (100.0, 1060.0, 4, 0.0943),        # 100 / 1060 = 0.094339.. -> 0.0943 (the seed example)
    (100.0, 3000.0, 4, 0.0333),        # 0.033333.. -> 0.0333 (floor, not round)
    (100.0, 150.0, 4, 0.6666),         # 0.666666.. -> 0.6666 (floor, not round)
    (100.0, 3000.0, 2, 0.03),
    (100.0, 3000.0, None, 100.0 / 3000.0),  # no rounding
])
def test_entry_quantity_is_floored_to_size_decimals(order_value, close, size_decimals, qty):
    result = run([close], [L], order_value=order_value, size_decimals=size_decimals)
    assert result.fills["quantity"].tolist() == [qty]
    assert result.fills["fill_value_gross"].tolist() == [approx(qty * close)]


def test_zero_size_entry_is_refused_and_counted():
    # barter difference #5: 100 / 3000 floored to 0 decimals is 0 -> no fill (the seed filled a 0-size
    # position with average price 0/0 = NaN); the refusal is counted. Balances are untouched.
    result = run([3000.0, 3000.0], [L, S], order_value=100.0, size_decimals=0)
    assert len(result.fills) == 0
    assert result.portfolio.core.n_refused == 2
    assert result.portfolio.balance.available == 10_000.0


# --------------------------------------------------------------------------------------------------
# Available cash: entries refused only at exactly 0; it may go negative
# --------------------------------------------------------------------------------------------------
def two_market_engine(starting_cash: float, btc: tuple[list[float], list[int]], eth: tuple[list[float], list[int]]):
    # BTC events at T0, T0 + 2h, ...; ETH events at T0 + 1h, T0 + 3h, ...: interleaved by time.
    traders = [
        Trader(BTC, candles(btc[0], T0, 2 * HOUR), PrecomputedSignals(np.array(btc[1], np.int8)), SimulatedExecution(FEES)),
        Trader(ETH, candles(eth[0], T0 + HOUR, 2 * HOUR), PrecomputedSignals(np.array(eth[1], np.int8)), SimulatedExecution(FEES)),
    ]
    portfolio = Portfolio(starting_cash=starting_cash, allocator=DefaultAllocator(1000.0, 4), risk=DefaultRisk(),
                          statistic_config=StatisticConfig(starting_equity=starting_cash))
    engine = Engine(traders, portfolio)
    engine.run()
    return engine, portfolio


def test_entry_refused_when_available_is_exactly_zero_then_allowed_negative():
    # Starting cash 1017.
    # T0     BTC Long at 100: qty 10, value 1000, fees 17 -> available 1017 - 1017 = 0.0 exactly
    # T0+1h  ETH Long at 50: refused (no cash: available == 0)
    # T0+2h  BTC CloseLong at 100: realised = 0 - (17 + 17) = -34; available = 0 + 1000 - 34 + 17 = 983;
    #        total = 1017 - 34 = 983
    # T0+3h  ETH Long at 50: qty 20, value 1000, fees 17 -> available 983 - 1017 = -34 (no balance check)
    engine, portfolio = two_market_engine(1017.0, ([100.0, 100.0], [L, CL]), ([50.0, 50.0], [L, L]))
    cols = portfolio.core.fills_columns()
    assert cols["market_id"].tolist() == [0, 0, 1]
    assert cols["decision"].tolist() == [Decision.LONG, Decision.CLOSE_LONG, Decision.LONG]
    assert cols["time_ns"].tolist() == [T0, T0 + 2 * HOUR, T0 + 3 * HOUR]
    assert portfolio.core.n_refused == 0  # a no-cash refusal is "no order", not a refused order
    [exited] = portfolio.exited_positions()
    assert exited.realised_profit_loss == approx(-34.0)
    eth = portfolio.position(ETH)
    assert eth is not None and eth.quantity == 20.0
    b = portfolio.balance
    assert (b.time_ns, b.total, b.available) == (T0 + 3 * HOUR, approx(983.0), approx(-34.0))
    # equity = 983 + (-2 * 17) = 949
    assert portfolio.equity == approx(949.0)
    assert engine.equity.tolist() == [approx(1017.0 - 34.0)] * 2 + [approx(983.0), approx(949.0)]


def test_negative_available_still_enters():
    # 10 cash, a 1000 order: available = 10 - 1017 = -1007 after the entry (no balance check);
    # exit at 100: realised -34; available = -1007 + 1000 - 34 + 17 = -24 = total; then a new
    # entry is allowed because available != 0: -24 - 1017 = -1041.
    result = run([100.0, 100.0, 100.0], [L, CL, S], starting_cash=10.0)
    assert result.fills["decision"].tolist() == ["LONG", "CLOSE_LONG", "SHORT"]
    b = result.portfolio.balance
    assert (b.total, b.available) == (approx(-24.0), approx(-1041.0))


def test_no_starting_cash_never_enters():
    result = run([100.0, 90.0, 110.0], [L, S, L | CS], starting_cash=0.0)
    assert len(result.fills) == 0
    assert result.portfolio.balance.available == 0.0
    assert result.equity.tolist() == [0.0, 0.0, 0.0]


# --------------------------------------------------------------------------------------------------
# The seed example (SEED.md section 8 golden check)
# --------------------------------------------------------------------------------------------------
def test_seed_example_golden():
    market = Market("binance", ("btc", "usdt", InstrumentKind.SPOT))
    closes = [1050.0, 1060.0, 1200.0, 1300.0]
    portfolio = Portfolio(starting_cash=10_000.0, allocator=DefaultAllocator(default_order_value=100.0, size_decimals=4),
                          risk=DefaultRisk(), statistic_config=StatisticConfig(starting_equity=10_000.0))
    trader = Trader(market, data=candles(closes), strategy=RSIStrategy(rsi_period=14),
                    execution=SimulatedExecution(Fees(exchange=0.1, slippage=0.05, network=0.0)))
    engine = Engine(traders=[trader], portfolio=portfolio)
    engine.run()

    # RSI(14): 50.0 (no signal), 94.2478 (> 60: {CloseLong, Short}), 99.6239, 99.7876
    rsi = RSI(14)
    assert [rsi.update(c) for c in closes] == pytest.approx([50.0, 94.2478, 99.6239, 99.7876], abs=5e-5)

    # Candle 2, no position: Short. qty = -floor(100 / 1060 * 1e4) / 1e4 = -0.0943
    # fill_value_gross = 0.0943 * 1060 = 99.958; fees: exchange 10% = 9.9958, slippage 5% = 4.9979,
    # network 0 -> total 14.9937. Candles 3 and 4: a short is open and no CloseShort comes: nothing.
    cols = portfolio.core.fills_columns()
    assert cols["decision"].tolist() == [Decision.SHORT]
    assert cols["time_ns"].tolist() == [T0 + HOUR]
    assert cols["price"].tolist() == [1060.0]
    assert cols["quantity"].tolist() == [-0.0943]
    assert cols["fill_value_gross"][0] == approx(99.958)
    assert cols["fee_exchange"][0] == approx(9.9958)
    assert cols["fee_slippage"][0] == approx(4.9979)
    assert cols["fee_network"][0] == 0.0

    p = portfolio.position(market)
    assert p is not None and p.side is Side.SELL and p.quantity == -0.0943
    assert p.enter_fees_total == approx(14.9937)
    assert p.enter_avg_price_gross == approx(1060.0)
    # marked at 1300: current value 0.0943 * 1300 = 122.59; unrealised = 99.958 - 122.59 - 2 * 14.9937 = -52.6194
    assert p.current_value_gross == approx(122.59)
    assert p.unrealised_profit_loss == approx(-52.6194)

    # available = 10000 - 99.958 - 14.9937 = 9885.0483; total 10000
    b = portfolio.balance
    assert b.total == 10_000.0
    assert b.available == approx(10_000.0 - 99.958 - 14.9937)
    assert b.available == approx(9_885.0483)
    # equity per candle: 10000; 10000 - 29.9874; 10000 + (99.958 - 113.16) - 29.9874; 10000 - 52.6194
    assert engine.equity.tolist() == [10_000.0, approx(9_970.0126), approx(9_956.8106), approx(9_947.3806)]
    assert portfolio.exited_positions() == []

    # The Fraction reference, fed RSIStrategy's masks, agrees.
    ref = SeedPortfolio(1, 10_000.0, [(0.1, 0.05, 0.0)], 100.0, 4)
    equity = run_events(ref, [(0, c, T0 + i * HOUR, m, 1.0) for i, (c, m) in enumerate(zip(closes, [0, CL | S, CL | S, CL | S]))])
    assert engine.equity.tolist() == [approx(float(e)) for e in equity]
    assert float(ref.balance.available) == approx(b.available)


# --------------------------------------------------------------------------------------------------
# backtest() builds the summary from the accounting: it must not fail on valid accounting
# --------------------------------------------------------------------------------------------------
def test_summary_of_a_large_gain_within_a_day_does_not_crash():
    # Cash 1, a Long of 100 / 1 = 100 units at 1, marked at 2 an hour later (no fees):
    # unrealised = 100 * 2 - 100 = 100 -> equity 101 after one (UTC) day of data. The accounting is
    # valid; the summary's CAGR = 101 ** (365 / 1) - 1 must not raise OverflowError (any growth
    # above ~7x within a day overflows a float power).
    result = backtest(candles([1.0, 2.0]), PrecomputedSignals(np.array([L, 0], np.int8)),
                      starting_cash=1.0, order_value=100.0, fees=Fees())  # StatisticConfig(starting_equity=1.0)
    assert result.portfolio.equity == approx(101.0)
    assert result.equity.tolist() == [1.0, approx(101.0)]
