"""The engine (the seed's Engine): traders, one per market, sharing a portfolio.

A backtest merges every trader's events by time and runs them on one thread in the compiled loop,
so the same inputs always give the same fills. The per-event order is the seed's (SEED.md §6).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np

from barter._core.dispatch import Signal, run_decisions, run_strategies
from barter.engine.tape import build_tape
from barter.errors import ConfigError
from barter.execution.simulated import SimulatedExecution
from barter.instrument import Market
from barter.portfolio.portfolio import Portfolio
from barter.statistic.summary import SummaryTable
from barter.strategy.base import PrecomputedSignals, Strategy
from barter.decision import Decision


@dataclass
class Trader:
    """One market: its historic data, its strategy and its execution."""

    market: Market
    data: Any
    strategy: Strategy
    execution: SimulatedExecution = field(default_factory=SimulatedExecution)

    def __post_init__(self) -> None:
        if not isinstance(self.market, Market):
            raise ConfigError(f"trader market must be a Market, was {self.market!r}")
        if isinstance(self.strategy, PrecomputedSignals) and len(self.strategy.decisions) != len(self.data.time_ns):
            raise ConfigError(f"{self.market}: {len(self.strategy.decisions)} precomputed decisions "
                              f"for {len(self.data.time_ns)} events")
        if not isinstance(self.strategy, PrecomputedSignals) and not callable(
                getattr(self.strategy, "generate_signal", None)):
            raise ConfigError(f"{self.market}: strategy needs a generate_signal(market) method")


class Engine:
    """Runs traders over a shared portfolio.

    Parameters
    ----------
    traders : sequence of Trader
        One per market.
    portfolio : Portfolio
    record_equity : bool
        Keep the portfolio equity after every event (``equity`` after ``run``).
    """

    def __init__(self, traders: Sequence[Trader], portfolio: Portfolio, *, record_equity: bool = True) -> None:
        if not traders:
            raise ConfigError("an engine needs at least one trader")
        self.traders = list(traders)
        self.portfolio = portfolio
        self.record_equity = record_equity
        self.engine_id = portfolio.engine_id
        self.time_ns: Optional[np.ndarray] = None
        self.equity: Optional[np.ndarray] = None
        self.events = 0
        self.elapsed_s = 0.0

    @property
    def markets(self) -> list[Market]:
        return [t.market for t in self.traders]

    def run(self) -> None:
        """Backtest: process every event of every trader, merged by time; returns when all end."""
        if self.equity is not None:
            raise ConfigError("this engine has already run; build a new one")
        core = self.portfolio.bind(self.markets, [t.execution.rates() for t in self.traders])
        tape, order, self.time_ns = build_tape([t.data for t in self.traders], self.markets)
        equity = np.empty(tape.length) if self.record_equity else None
        started = time.perf_counter()
        if all(isinstance(t.strategy, PrecomputedSignals) for t in self.traders):
            decisions, strength = _merged_decisions(self.traders, order)
            run_decisions(tape, core, decisions, strength, equity)
        else:
            run_strategies(tape, core, [_callback(t.strategy) for t in self.traders], equity)
        self.elapsed_s = time.perf_counter() - started
        self.events = tape.length
        self.equity = equity if equity is not None else np.empty(0)

    def summary(self) -> SummaryTable:
        """The seed's table: one row per market and a ``Total`` row."""
        return self.portfolio.summary()


def _merged_decisions(traders: Sequence[Trader], order: Optional[np.ndarray]):
    strategies = [t.strategy for t in traders]
    decisions = np.concatenate([s.decisions for s in strategies])  # type: ignore[attr-defined]
    strength = None
    if any(s.strength is not None for s in strategies):  # type: ignore[attr-defined]
        strength = np.concatenate([s.strength if s.strength is not None else np.ones(len(s.decisions))  # type: ignore
                                   for s in strategies])
    if order is not None:
        decisions = decisions[order]
        strength = None if strength is None else strength[order]
    return np.ascontiguousarray(decisions), strength


_MASK_SIGNALS = [None] + [Signal({d: 1.0 for d in Decision if code & d.mask}) for code in range(1, 16)]


def _callback(strategy: Any) -> Callable:
    """The bound method the loop calls per event; precomputed decisions mixed with Python
    strategies are replayed one event at a time."""
    if not isinstance(strategy, PrecomputedSignals):
        return strategy.generate_signal
    codes, strength = strategy.decisions.tolist(), strategy.strength
    position = iter(range(len(codes)))

    def replay(_market: Any) -> Optional[Signal]:
        i = next(position)
        code = codes[i]
        if not code or strength is None:
            return _MASK_SIGNALS[code]
        return Signal({d: float(strength[i]) for d in Decision if code & d.mask})

    return replay
