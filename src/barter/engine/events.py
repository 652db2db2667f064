"""Events the engine streams to listeners (the seed's ``Event``), in the order they happen.

Per market event, as the seed's trader (SEED.md §6): the ``MarketEvent``; a ``SignalEvent`` if the
strategy advised; a ``PositionUpdate`` if a position was open when marked; then for a fill the
``OrderEvent``, ``FillEvent``, ``PositionNew`` or ``PositionExit``, and ``BalanceUpdate``. Commands
add ``SignalForceExit`` (then the same order/fill events) and ``CommandReply``. With book
execution each order ends in an ``OrderResult``: after its fill events when it filled at the event
that caused it, before them when it filled later (latency). The stream starts with
``SessionStart``, which carries what a replay needs. Times are UNIX ns UTC.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional, Union

from barter.data.event import MarketEvent
from barter.decision import Decision
from barter.execution.events import FillEvent, OrderEvent
from barter.instrument import Market
from barter.portfolio.position import Balance, Position
from barter.portfolio.risk import OrderVetoed
from barter.statistic.summary import StatisticConfig
from barter.strategy.base import SignalForceExit

if TYPE_CHECKING:
    from barter.data.exchange.books import BookStatusEvent


@dataclass(frozen=True, slots=True)
class SessionStart:
    """First event of a stream: the portfolio's configuration and its markets (ids by position)."""

    time_ns: int
    engine_id: str
    markets: tuple[Market, ...]
    starting_cash: float
    statistic_config: StatisticConfig


@dataclass(frozen=True, slots=True)
class SignalEvent:
    """The strategy's advice for ``market``: ``{Decision: strength}``."""

    time_ns: int
    market: Market
    signals: dict[Decision, float]


@dataclass(frozen=True, slots=True)
class PositionUpdate:
    """An open position marked to market (money in quote currency)."""

    time_ns: int
    market: Market
    position_id: str
    current_symbol_price: float
    current_value_gross: float
    unrealised_profit_loss: float


@dataclass(frozen=True, slots=True)
class PositionNew:
    time_ns: int
    market: Market
    position: Position


@dataclass(frozen=True, slots=True)
class PositionExit:
    time_ns: int
    market: Market
    position: Position


@dataclass(frozen=True, slots=True)
class BalanceUpdate:
    """The balance after a fill on ``market``."""

    time_ns: int
    market: Market
    balance: Balance


@dataclass(frozen=True, slots=True)
class CommandReply:
    """The answer to a command: ``result`` (e.g. open positions) or ``error`` (a message)."""

    time_ns: int
    command: str
    market: Optional[Market] = None
    result: Any = None
    error: Optional[str] = None


@dataclass(frozen=True, slots=True)
class EngineError:
    """A trader's strategy failed; ``policy`` says what the engine did ("stop" or "skip")."""

    time_ns: int
    market: Market
    error: str
    policy: str


@dataclass(frozen=True, slots=True)
class OrderResult:
    """How a market order ended at its simulated venue (``BookExecution``).

    ``quantity`` was ordered and ``filled`` filled (signed base units: + buys), at ``price``, the
    volume-weighted price over the levels taken (None when nothing filled). It was decided at
    ``decided_ns`` and reached the venue at ``arrival_ns``. ``in_step``: it ended in the step of the
    event that caused it (no latency), and its fill events come before this one; otherwise it was
    booked at ``time_ns`` (the first book message after its arrival for a market order; the print,
    book message or cancel that ended a limit order) and its fill events follow. Its fill's time
    is when the venue ended it.
    ``status`` is the venue's (``filled``, ``expired``...) with its ``reason``.
    """

    time_ns: int
    market: Market
    decision: Decision
    quantity: float
    filled: float
    price: Optional[float]
    decided_ns: int
    arrival_ns: int
    in_step: bool
    status: str
    reason: str = ""


Event = Union[SessionStart, MarketEvent, SignalEvent, SignalForceExit, PositionUpdate, OrderEvent, FillEvent,
              PositionNew, PositionExit, BalanceUpdate, CommandReply, EngineError, OrderVetoed, OrderResult,
              "BookStatusEvent"]
