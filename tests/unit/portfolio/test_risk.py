"""The fixed-fraction allocator and the risk manager's limits, on real BTC minute prices through the
engine: each veto is an event with its reason, and approved orders are untouched."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from barter import Engine, Market, Trader
from barter.backtest import load
from barter.data import HistoricalCandles
from barter.engine.events import PositionExit, PositionNew
from barter.decision import Decision
from barter.errors import ConfigError
from barter.execution.events import OrderEvent
from barter.execution import SimulatedExecution
from barter.portfolio import DefaultAllocator, FixedFractionAllocator, Portfolio, RiskManager
from barter.portfolio.risk import OrderVetoed
from barter.strategy import RSIStrategy

BTC = Market("binance", ("btc", "usdt"))
ETH = Market("binance", ("eth", "usdt"))


@pytest.fixture(scope="module")
def prices(data_dir: Path):
    c = load(data_dir / "prices/crypto/btc-perp-20211231-20220201_1m.csv")
    n = 8_000  # five and a half days of minutes: dozens of round trips
    return HistoricalCandles.from_arrays(c.time_ns[:n], c.open[:n], c.high[:n], c.low[:n], c.close[:n], c.volume[:n])


def run(prices, *, markets=(BTC,), **portfolio_kw):
    events: list = []
    portfolio = Portfolio(starting_cash=10_000.0, **portfolio_kw)
    engine = Engine([Trader(m, prices, RSIStrategy(), SimulatedExecution()) for m in markets], portfolio,
                    listeners=[events.append])
    engine.run()
    return portfolio, events


def most_open(events) -> int:
    """The most positions open at once, from the event stream."""
    open_ = most = 0
    for e in events:
        open_ += isinstance(e, PositionNew) - isinstance(e, PositionExit)
        most = max(most, open_)
    return most


def test_no_limits_changes_nothing(prices) -> None:
    plain, _ = run(prices)
    limited, events = run(prices, risk=RiskManager())
    assert [p.realised_profit_loss for p in limited.exited_positions()] == \
        [p.realised_profit_loss for p in plain.exited_positions()]
    assert not limited.vetoes and not any(isinstance(e, OrderVetoed) for e in events)


def test_position_value_limit_vetoes_with_reason(prices) -> None:
    portfolio, events = run(prices, allocator=DefaultAllocator(100.0), risk=RiskManager(max_position_value=50.0))
    assert not portfolio.exited_positions() and not portfolio.open_positions()
    vetoes = [e for e in events if isinstance(e, OrderVetoed)]
    assert vetoes and vetoes == portfolio.vetoes
    assert all("max_position_value 50" in v.reason and v.market == BTC for v in vetoes)


def test_max_open_positions_across_markets(prices) -> None:
    portfolio, events = run(prices, markets=(BTC, ETH), risk=RiskManager(max_open_positions=1))
    assert most_open(events) == 1
    vetoes = [e for e in events if isinstance(e, OrderVetoed)]
    assert vetoes and all("max_open_positions 1" in v.reason for v in vetoes)


def test_gross_exposure_counts_open_positions(prices) -> None:
    portfolio, events = run(prices, markets=(BTC, ETH), allocator=DefaultAllocator(100.0),
                            risk=RiskManager(max_gross_exposure=150.0))
    assert portfolio.vetoes and all("gross exposure" in v.reason for v in portfolio.vetoes)
    assert most_open(events) == 1  # two positions of ~100 would be ~200 > 150


def test_drawdown_kill_switch_stops_every_later_entry(prices) -> None:
    portfolio, events = run(prices, allocator=DefaultAllocator(5_000.0), risk=RiskManager(max_drawdown=0.002))
    kill = next(i for i, e in enumerate(events) if isinstance(e, OrderVetoed))
    assert "drawdown kill switch" in events[kill].reason
    assert not any(isinstance(e, PositionNew) for e in events[kill:])
    assert all("drawdown" in v.reason for v in portfolio.vetoes)
    assert portfolio.risk.killed


def test_fixed_fraction_scales_by_clamped_strength() -> None:
    allocator = FixedFractionAllocator(0.5, size_decimals=3)
    allocator.bind(SimpleNamespace(equity=2_000.0))
    order = OrderEvent(0, BTC, Decision.LONG, 100.0)
    assert allocator.allocate_order(order, None, 0.25).quantity == 2.5
    assert allocator.allocate_order(order, None, 7.0).quantity == 10.0
    short = OrderEvent(0, BTC, Decision.SHORT, 300.0)
    assert allocator.allocate_order(short, None, 1.0).quantity == -3.333
    unscaled = FixedFractionAllocator(0.5, scale_by_strength=False)
    unscaled.bind(SimpleNamespace(equity=2_000.0))
    assert unscaled.allocate_order(order, None, 0.25).quantity == 10.0


def test_fixed_fraction_sizes_from_equity(prices) -> None:
    portfolio, events = run(prices, allocator=FixedFractionAllocator(0.1))
    entries = [e for e in events if isinstance(e, PositionNew)]
    first = entries[0].position
    assert abs(first.quantity) * first.enter_avg_price_gross == pytest.approx(0.1 * 10_000.0, rel=1e-12)
    later = entries[1].position
    # the second entry is sized from the equity after the first round trip
    equity_then = 10_000.0 + portfolio.exited_positions()[0].realised_profit_loss
    assert abs(later.quantity) * later.enter_avg_price_gross == pytest.approx(0.1 * equity_then, rel=1e-9)


@pytest.mark.parametrize("kwargs", [dict(max_position_value=-1), dict(max_open_positions=1.5),
                                    dict(max_drawdown=1.0), dict(max_gross_exposure=float("nan"))])
def test_bad_limits_are_config_errors(kwargs) -> None:
    with pytest.raises(ConfigError, match=next(iter(kwargs))):
        RiskManager(**kwargs)




def sized(flip: bool = False, exit_share: float = 1.0):
    """An allocator: entries of 0.001 base units of the decision's sign (the other sign with
    ``flip``), exits of ``exit_share`` of the position."""
    from dataclasses import replace

    class Sized:
        def allocate_order(self, order: OrderEvent, position, strength: float) -> OrderEvent:
            sign = (1.0 if order.decision == Decision.LONG else -1.0) * (-1.0 if flip else 1.0)
            quantity = 0.001 * sign if position is None else -position.quantity * exit_share
            return replace(order, quantity=quantity)

    return Sized()


def test_an_entry_sized_against_its_decision_is_a_config_error(prices) -> None:
    with pytest.raises(ConfigError, match="(LONG|SHORT) entry needs a quantity of its sign .+; Sized then DefaultRisk"):
        run(prices, allocator=sized(flip=True))
    portfolio, _ = run(prices, allocator=sized())
    assert portfolio.exited_positions() and all(abs(p.quantity) == 0.001 for p in portfolio.exited_positions())


def test_an_exit_not_closing_the_position_is_a_config_error(prices) -> None:
    with pytest.raises(ConfigError, match="must close the whole position.*Sized then RiskManager sized"):
        run(prices, allocator=sized(exit_share=0.5), risk=RiskManager())
