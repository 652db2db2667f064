"""A multi-asset account past the seed: orders, partial fills, average-cost positions that increase,
reduce and flip, balances per asset, and equity in one account asset.

The accounting is the compiled ``Ledger``; this module names its assets and markets, tracks the
orders that fills must belong to, and persists every change to a repository when one is given.
"""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from contextlib import contextmanager
from typing import Any, Iterator, Mapping, Optional, Sequence

from barter._core.ledger import Ledger
from barter.errors import ConfigError, DataError, UnknownMarket, UnknownOrder
from barter.instrument import Market
from barter.portfolio.position import position_id


@dataclass(frozen=True, slots=True)
class AssetBalance:
    """One asset's balance: ``total`` held and ``available`` (total less what open orders reserve)."""

    asset: str
    total: float
    available: float


@dataclass(frozen=True, slots=True)
class AccountFill:
    """A fill as booked. Money in the market's quote asset; ``quantity`` signed base units.

    ``realised`` is the PnL this fill realised against the position's average cost, its fee
    taken off (so an opening or increasing fill realises ``-fee``).
    """

    index: int
    market: Market
    time_ns: int
    quantity: float
    price: float
    fee: float
    realised: float
    position_serial: int


@dataclass(frozen=True, slots=True)
class LedgerPosition:
    """A position at average cost, open (``close_time_ns`` None) or exited.

    Attributes
    ----------
    position_id : str
        The seed's key ``{engine_id}_{exchange}_{instrument}_position``; ``serial`` tells apart the
        positions one market had over time.
    quantity : float
        Signed base units now (0 once exited).
    avg_price : float
        Quote per base unit, the average cost of the open quantity (0 once exited).
    realised : float
        Realised PnL so far, fees taken off, quote asset.
    unrealised : float
        quantity * (mark - avg_price), quote asset; 0 once exited.
    """

    position_id: str
    serial: int
    market: Market
    side: int
    quantity: float
    avg_price: float
    max_quantity: float
    realised: float
    unrealised: float
    fees: float
    open_time_ns: int
    update_time_ns: int
    close_time_ns: Optional[int]
    fills: tuple[AccountFill, ...]


@dataclass(slots=True)
class Order:
    """An order sent and not yet complete: fills must name it and may not exceed it."""

    order_id: int
    market: Market
    quantity: float
    price: float
    reserved: float
    reserved_asset: int
    filled: float = 0.0
    fills: list[int] = field(default_factory=list)
    time_ns: int = -2**63  # when it was submitted; no fill may come earlier

    @property
    def remaining(self) -> float:
        return self.quantity - self.filled


class Account:
    """Balances per asset and one average-cost position per market.

    Parameters
    ----------
    markets : sequence of Market
    balances : mapping of asset -> float
        Starting totals; assets of the markets not named start at 0.
    account_asset : str
        The asset equity is reported in; every held asset must link to it through the markets.
    allow_margin : bool
        Let balances go below zero (shorting spot, borrowing quote); otherwise such orders and
        fills are refused with ``InsufficientBalance`` and nothing changes.
    engine_id : str, optional
    repository : InMemoryRepository or RedisRepository, optional
        Receives every change (positions, fills, balances, orders) as it is booked.
    """

    def __init__(self, markets: Sequence[Market], balances: Mapping[str, float], account_asset: str, *,
                 allow_margin: bool = False, engine_id: Optional[str] = None,
                 repository: Optional[Any] = None) -> None:
        if len(set(markets)) != len(markets) or not markets:
            raise ConfigError(f"markets must be distinct and non-empty, got {[str(m) for m in markets]}")
        self.markets = list(markets)
        self.engine_id = engine_id or str(uuid.uuid4())
        names = [a.lower() for a in balances]
        for m in self.markets:
            names += [m.instrument.base, m.instrument.quote]
        self.assets = list(dict.fromkeys(names))
        self._asset = {a: i for i, a in enumerate(self.assets)}
        if account_asset.lower() not in self._asset:
            raise ConfigError(f"account_asset {account_asset!r} is neither a balance nor a market's asset")
        self.account_asset = account_asset.lower()
        start = [0.0] * len(self.assets)
        for a, v in balances.items():
            start[self._asset[a.lower()]] = _finite(f"balance of {a}", v)
        self._mid = {m: i for i, m in enumerate(self.markets)}
        self.ledger = Ledger([self._asset[m.instrument.base] for m in self.markets],
                             [self._asset[m.instrument.quote] for m in self.markets],
                             start, self._asset[self.account_asset], allow_margin,
                             asset_names=self.assets, market_names=[str(m) for m in self.markets])
        self.orders: dict[int, Order] = {}
        self.next_order_id = 0
        self.repository = repository
        if repository is not None:
            repository.bind(self)

    # -- orders and fills ---------------------------------------------------------------------------

    def submit(self, market: Market, quantity: float, price: float, time_ns: int, fee_rate: float = 0.0) -> int:
        """Send an order of ``quantity`` signed base units expected near ``price``; returns its id.

        What it may spend is reserved (quote for a buy, base for a sell, with ``fee_rate`` of the
        notional for fees), so two orders cannot both count the same balance. Raises with nothing
        changed: ``DataError`` for a bad value or a ``time_ns`` before the market's last time (its
        last fill or mark), ``InsufficientBalance`` when the reservation does not fit.
        """
        mid = self.market_id(market)
        quantity = _finite("order quantity", quantity)
        price = _finite("order price", price)
        if quantity == 0 or price <= 0 or not 0 <= fee_rate < 1:
            raise DataError(f"order needs quantity != 0, price > 0 and fee_rate in [0, 1), "
                            f"was {quantity!r}, {price!r}, {fee_rate!r}")
        last_ns = self.ledger.holding(mid)["update_time_ns"]
        if time_ns < last_ns:
            raise DataError(f"{market}: order time_ns {time_ns!r} is before the market's last time {last_ns}")
        i = market.instrument
        asset = self._asset[i.quote] if quantity > 0 else self._asset[i.base]
        amount = quantity * price * (1 + fee_rate) if quantity > 0 else -quantity
        if self.ledger.allow_margin:
            amount = 0.0
        self.ledger.reserve(asset, amount)
        order = Order(self.next_order_id, market, quantity, price, amount, asset, time_ns=time_ns)
        self.orders[order.order_id] = order
        self.next_order_id += 1
        self._saved(mid)
        return order.order_id

    def fill(self, order_id: int, quantity: float, price: float, fee: float, time_ns: int) -> list[AccountFill]:
        """Book (part of) an order's fill; returns the booked fills (two when it flips a position).

        Raises with nothing changed: ``UnknownOrder`` for an order never sent or already complete,
        ``DataError`` for a bad value, more than the order's remaining quantity or a ``time_ns``
        before the order was submitted, ``InsufficientBalance`` when an available balance would go
        below zero.
        """
        order = self.orders.get(order_id)
        if order is None:
            raise UnknownOrder(f"fill for order {order_id!r}, which was never sent or is complete")
        if time_ns < order.time_ns:
            raise DataError(f"fill of order {order_id} at time_ns {time_ns!r} is before the order was "
                            f"submitted at {order.time_ns}")
        quantity = _finite("fill quantity", quantity)
        if quantity == 0 or (quantity > 0) != (order.quantity > 0) or abs(quantity) > abs(order.remaining) * (1 + 1e-9):
            raise DataError(f"fill of {quantity!r} does not fit order {order_id} "
                            f"({order.remaining!r} of {order.quantity!r} remaining)")
        release = order.reserved * quantity / order.remaining
        self.ledger.reserve(order.reserved_asset, -release)
        first = self.ledger.n_fills
        try:
            self.ledger.apply(self._mid[order.market], time_ns, quantity, price, fee)
        except Exception:
            self.ledger.reserve(order.reserved_asset, release)  # undo: the ledger did not change
            raise
        order.reserved -= release
        order.filled += quantity
        order.fills.extend(range(first, self.ledger.n_fills))
        if abs(order.remaining) <= abs(order.quantity) * 1e-9:
            self._finish(order)
        self._saved(self._mid[order.market])
        return [self._fill(k) for k in range(first, self.ledger.n_fills)]

    def cancel(self, order_id: int) -> None:
        """Cancel what is left of an order, releasing its reservation."""
        order = self.orders.get(order_id)
        if order is None:
            raise UnknownOrder(f"cancel of order {order_id!r}, which was never sent or is complete")
        self._finish(order)
        self._saved(self._mid[order.market])

    def _finish(self, order: Order) -> None:
        self.ledger.reserve(order.reserved_asset, -order.reserved)
        del self.orders[order.order_id]

    def mark(self, market: Market, price: float, time_ns: int) -> None:
        """Revalue ``market`` at ``price`` (quote per base)."""
        self.ledger.mark(self.market_id(market), price, time_ns)

    # -- reading ------------------------------------------------------------------------------------

    def market_id(self, market: Market) -> int:
        try:
            return self._mid[market]
        except KeyError:
            raise UnknownMarket(f"unknown market {market}; known: {[str(m) for m in self.markets]}") from None

    def balance(self, asset: str) -> AssetBalance:
        a = self._asset.get(asset.lower())
        if a is None:
            raise ConfigError(f"unknown asset {asset!r}; known: {self.assets}")
        return AssetBalance(self.assets[a], self.ledger.total(a), self.ledger.available(a))

    def balances(self) -> dict[str, AssetBalance]:
        return {a: self.balance(a) for a in self.assets}

    @property
    def equity(self) -> float:
        """Every asset's total in the account asset at the last prices."""
        value = self.ledger.equity()
        if math.isnan(value):
            unpriced = [a for a, r in zip(self.assets, self.ledger.rates())
                        if math.isnan(r) and self.ledger.total(self._asset[a]) != 0]
            raise DataError(f"equity needs a price for {unpriced} in {self.account_asset}: mark their markets")
        return value

    def position(self, market: Market) -> Optional[LedgerPosition]:
        """The open position of ``market``, or None when flat."""
        h = self.ledger.holding(self.market_id(market))
        if h["position_id"] < 0:
            return None
        return self._position(market, h["position_id"], int(h["quantity"] > 0) * 2 - 1, h, None)

    def open_positions(self) -> list[LedgerPosition]:
        return [p for p in map(self.position, self.markets) if p is not None]

    def exited_positions(self) -> list[LedgerPosition]:
        """Every exited position, in exit order (a flip exits one position and opens the next)."""
        return [self.exited_position(k) for k in range(self.ledger.n_closed)]

    def exited_position(self, k: int) -> LedgerPosition:
        """Exited position ``k`` (0-based, in exit order)."""
        c = self.ledger.closed(k)
        return self._position(self.markets[c["market_id"]], c["position_id"], c["side"], c, c["close_time_ns"])

    def _position(self, market: Market, serial: int, side: int, d: dict[str, Any],
                  close_time_ns: Optional[int]) -> LedgerPosition:
        fills = tuple(self._fill(k) for k in self.ledger.position_fills(d["last_fill"]))
        open_ = close_time_ns is None
        return LedgerPosition(
            position_id=position_id(self.engine_id, market), serial=serial, market=market, side=side,
            quantity=d["quantity"] if open_ else 0.0, avg_price=d["avg_price"] if open_ else 0.0,
            max_quantity=d["max_quantity"], realised=d["realised"],
            unrealised=self.ledger.unrealised(self._mid[market]) if open_ else 0.0, fees=d["fees"],
            open_time_ns=d["open_time_ns"], update_time_ns=fills[-1].time_ns if fills else d["open_time_ns"],
            close_time_ns=close_time_ns, fills=fills)

    def _fill(self, k: int) -> AccountFill:
        f = self.ledger.fill(k)
        return AccountFill(k, self.markets[f["market_id"]], f["time_ns"], f["quantity"], f["price"], f["fee"],
                           f["realised"], f["position_id"])

    def realised_pnl(self, market: Optional[Market] = None) -> float:
        """Realised PnL (quote asset of the market; of every market summed when None: only
        meaningful when they share a quote)."""
        fills = self.ledger.fills_array()
        if market is not None:
            fills = fills[fills["market_id"] == self.market_id(market)]
        return float(fills["realised"].sum())

    # -- persistence --------------------------------------------------------------------------------

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Store every change made inside the block in one transaction at its end (see
        ``Repository.batch``); without a repository it does nothing."""
        if self.repository is None:
            yield
            return
        with self.repository.batch():
            yield

    def _saved(self, mid: int) -> None:
        if self.repository is not None:
            self.repository.record(self, mid)

    def state(self) -> dict[str, Any]:
        """The account as plain values (JSON-able), for repositories.

        A market never marked has mark None, not the ledger's NaN: NaN != NaN, so a state holding
        one would never equal itself (or its restored copy).
        """
        ledger = self.ledger.state()
        ledger["holdings"] = [{**h, "mark": None if math.isnan(h["mark"]) else h["mark"]}
                              for h in ledger["holdings"]]
        return {"ledger": ledger, "next_order_id": self.next_order_id,
                "orders": [self._order_state(o) for o in self.orders.values()]}

    def _order_state(self, o: Order) -> dict[str, Any]:
        return {"order_id": o.order_id, "market_id": self._mid[o.market], "quantity": o.quantity,
                "price": o.price, "reserved": o.reserved, "reserved_asset": o.reserved_asset,
                "filled": o.filled, "fills": o.fills, "time_ns": o.time_ns}

    def restore(self, state: Mapping[str, Any]) -> None:
        """Load ``state()`` into this freshly built account (same markets and assets)."""
        ledger = dict(state["ledger"])
        ledger["holdings"] = [{**h, "mark": math.nan if h["mark"] is None else h["mark"]}
                              for h in ledger["holdings"]]
        self.ledger.restore(ledger)
        self.next_order_id = state["next_order_id"]
        for o in state["orders"]:
            market = self.markets[o["market_id"]]
            self.orders[o["order_id"]] = Order(o["order_id"], market, o["quantity"], o["price"], o["reserved"],
                                               o["reserved_asset"], o["filled"], list(o["fills"]),
                                               o.get("time_ns", -2**63))  # states before submit times


def _finite(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DataError(f"{name} must be a finite number, was {value!r}")
    return float(value)
