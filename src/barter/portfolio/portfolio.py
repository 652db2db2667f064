"""The portfolio shared by every trader of an engine (the seed's MetaPortfolio)."""
from __future__ import annotations

import math
import uuid
from typing import Any, Callable, Optional, Sequence

from barter._core.position import PortfolioCore
from barter.errors import BarterError, ConfigError, UnknownMarket
from barter.execution.events import OrderEvent
from barter.instrument import Market
from barter.portfolio.allocator import DefaultAllocator
from barter.portfolio.position import Balance, Position
from barter.portfolio.risk import DefaultRisk, OrderVetoed
from barter.statistic.summary import StatisticConfig, SummaryTable, TradingSummary
from barter.decision import Decision


class Portfolio:
    """Balances, one position per market, allocation, risk and statistics.

    The accounting runs in the compiled core once the engine binds the portfolio to its markets.
    With the default allocator and risk manager (exactly these classes) orders are sized in C too;
    any other allocator or risk object is called from the core, in Python, only when a signal
    would create an order.

    Parameters
    ----------
    starting_cash : float
        Quote currency.
    allocator : DefaultAllocator or object with ``allocate_order(order, position, strength)``
    risk : DefaultRisk or object with ``evaluate_order(order) -> OrderEvent | None``
    statistic_config : StatisticConfig
    engine_id : str, optional
        Prefix of position ids; a UUID4 by default, as the seed.
    """

    def __init__(self, starting_cash: float = 10_000.0, allocator: Optional[object] = None,
                 risk: Optional[object] = None, statistic_config: Optional[StatisticConfig] = None,
                 engine_id: Optional[str] = None) -> None:
        if not (isinstance(starting_cash, (int, float)) and math.isfinite(starting_cash) and starting_cash >= 0):
            raise ConfigError(f"starting_cash must be finite and >= 0, was {starting_cash!r}")
        self.starting_cash = float(starting_cash)
        self.allocator = allocator if allocator is not None else DefaultAllocator()
        self.risk = risk if risk is not None else DefaultRisk()
        # checked here: the core calls them only when a signal makes an order, deep into a run
        if not callable(getattr(self.allocator, "allocate_order", None)):
            raise ConfigError(f"allocator needs an allocate_order(order, position, strength) method, "
                              f"was {self.allocator!r}")
        if not callable(getattr(self.risk, "evaluate_order", None)):
            raise ConfigError(f"risk needs an evaluate_order(order) method, was {self.risk!r}")
        self.statistic_config = statistic_config or StatisticConfig(starting_equity=self.starting_cash)
        self.engine_id = engine_id or str(uuid.uuid4())
        self.markets: list[Market] = []
        self._ids: dict[Market, int] = {}
        self._core: Optional[PortfolioCore] = None
        self.vetoes: list[OrderVetoed] = []
        self.on_event: Optional[Callable[[Any], None]] = None  # the engine's stream, when it has listeners

    # -- binding ------------------------------------------------------------------------------

    def bind(self, markets: Sequence[Market], fee_rates: Sequence[tuple[float, float, float]]) -> PortfolioCore:
        """Create the compiled accounting for ``markets`` (ids are their positions in the list)."""
        if self._core is not None:
            raise BarterError("this portfolio is already bound to an engine's markets")
        if len(set(markets)) != len(markets):
            raise ConfigError(f"markets must be distinct, got {[str(m) for m in markets]}")
        fast = type(self.allocator) is DefaultAllocator and type(self.risk) is DefaultRisk
        alloc = self.allocator if isinstance(self.allocator, DefaultAllocator) else DefaultAllocator()
        self.markets = list(markets)
        self._ids = {m: i for i, m in enumerate(self.markets)}
        self._core = PortfolioCore(len(markets), self.starting_cash, list(fee_rates),
                                   alloc.default_order_value, alloc.size_decimals,
                                   self.statistic_config.starting_equity,
                                   self.statistic_config.risk_free_return,
                                   order_hook=None if fast else self._order_quantity)
        for part in (self.allocator, self.risk):
            bind = getattr(part, "bind", None)
            if callable(bind):
                bind(self)
        return self._core

    @property
    def core(self) -> PortfolioCore:
        if self._core is None:
            raise BarterError("the portfolio is not bound to markets yet: run an engine with it")
        return self._core

    def market_id(self, market: Market) -> int:
        try:
            return self._ids[market]
        except KeyError:
            raise UnknownMarket(f"unknown market {market}; known: {[str(m) for m in self.markets]}") from None

    def _order_quantity(self, mid: int, decision: int, strength: float, price: float,
                        time_ns: int) -> Optional[float]:
        """Core hook: the Python allocator then risk manager size or veto one order."""
        market = self.markets[mid]
        position = self.position(market)
        order = OrderEvent(time_ns, market, Decision(decision), price)
        order = self.allocator.allocate_order(order, position, strength)  # type: ignore[attr-defined]
        approved = self.risk.evaluate_order(order)  # type: ignore[attr-defined]
        if approved is None:
            reason = getattr(self.risk, "last_veto", None) or f"vetoed by {type(self.risk).__name__}"
            self._vetoed(OrderVetoed(time_ns, market, order.decision, order.quantity, reason))
            return None
        order = approved
        sized = f"{type(self.allocator).__name__} then {type(self.risk).__name__} sized {order.quantity}"
        if position is not None and order.quantity != -position.quantity:
            raise ConfigError(f"{market}: an exit order must close the whole position "
                              f"({-position.quantity}); {sized}")
        if position is None and order.quantity * (1.0 if decision == Decision.LONG else -1.0) < 0.0:
            raise ConfigError(f"{market}: a {Decision(decision).name} entry needs a quantity of its sign "
                              f"({'+' if decision == Decision.LONG else '-'}); {sized}")
        return order.quantity

    def _vetoed(self, veto: OrderVetoed) -> None:
        self.vetoes.append(veto)
        if self.on_event is not None:
            self.on_event(veto)

    # -- state --------------------------------------------------------------------------------

    @property
    def balance(self) -> Balance:
        return Balance(*self.core.balance)

    @property
    def equity(self) -> float:
        """Total balance + unrealised PnL of open positions (quote currency)."""
        return self.core.equity_value

    def position(self, market: Market) -> Optional[Position]:
        d = self.core.position(self.market_id(market))
        return None if d is None else Position.from_core(self.engine_id, market, d)

    def open_positions(self) -> list[Position]:
        return [p for p in (self.position(m) for m in self.markets) if p is not None]

    def exited_position(self, k: int) -> Position:
        """Exited position ``k`` (0-based, in exit order)."""
        records = self.core.exits_list(k)
        if k < 0 or not records:
            raise IndexError(f"exited position {k} of {self.core.n_exits}")
        return Position.from_core(self.engine_id, self.markets[records[0]["market_id"]], records[0])

    def exited_positions(self) -> list[Position]:
        """Every exited position, in exit order."""
        return [Position.from_core(self.engine_id, self.markets[d["market_id"]], d)
                for d in self.core.exits_list()]

    def statistics(self, market: Optional[Market] = None) -> TradingSummary:
        """The trading summary of one market, or of every market (``Total``) when None."""
        if market is None:
            return TradingSummary.from_state("Total", self.core.total_statistics(), self.statistic_config)
        state = self.core.market_statistics(self.market_id(market))
        return TradingSummary.from_state(market.market_id, state, self.statistic_config)

    def summary(self) -> SummaryTable:
        """The seed's session table: a row per market and a ``Total`` row."""
        return SummaryTable([*(self.statistics(m) for m in self.markets), self.statistics()])
