"""The seed's portfolio (barter 0.8 ``MetaPortfolio``, SEED.md sections 1 and 4) in exact arithmetic.

Slow and obviously right: every amount is a ``Fraction`` (the exact value of the float given), one
dict entry per open position, one list append per fill. Nothing here is shared with ``src/``.

The rules, as the seed has them:

generate_order(signal)
    with a position open only the matching Close decision acts (CloseLong for a long, CloseShort
    for a short); without one exactly one of Long / Short must be present (both or neither: no
    order); a new entry is refused only when ``available == 0`` exactly (no other balance check,
    so available may go negative).
DefaultAllocator
    entry quantity = floor(order_value / close * 10**d) / 10**d * strength, negative for Short;
    exit quantity = -position quantity.
SimulatedExecution
    fills at the event's close; fill_value_gross = |qty| * close; each fee = rate * fill_value.
Entry
    enter_fees_total = exchange + slippage + network; enter_avg_price = |value / qty|;
    current price = avg price; unrealised = -2 * enter_fees_total;
    available -= enter_value + enter_fees_total (total unchanged).
Mark to market (before the signal of the same event)
    current_value = price * |qty|; unrealised = ±(current_value - enter_value) - 2 * enter_fees_total.
Exit
    realised = ±(exit_value - enter_value) - (enter_fees_total + exit_fees_total);
    unrealised := realised; exit_balance = the balance handed to ``Position::exit``: time = fill
    time, total = total + realised, available = available *before* the exit's release;
    then available += enter_value + realised + enter_fees_total; total += realised.
    The position's current price/value are not touched by the exit. PnL return = realised / enter_value.
Force exit (SignalForceExit)
    bypasses allocator and risk: an exit at the position's last marked price.

barter's deliberate differences (docs/seed-differences.md) that apply here: fill time = the market
event's time (#1, #6); an entry whose floored quantity is 0 is refused and counted (#5).

Partial exits (beyond the seed, #21; only recorded fills, ``book``, make them)
    a close fill of |q| < |Q| (1 - 1e-12) reduces the position at average cost: r = |q| / |Q| of the
    entry value and of each entry fee is released; leg realised = ±(exit value - r enter_value)
    - (r enter_fees_total + exit fees); available += r enter_value + leg + r enter_fees_total;
    total += leg; the rest keeps (1 - r) of the entry value and fees and is re-marked at its current
    price. The final exit books its own leg the same way (the seed's exit on the rest), and the
    exited position reports the whole trade: the entry as it was opened, exit value and fees summed
    over the legs, exit avg price = Σ exit value / Σ |q|, realised = Σ legs, PnL return = that
    realised / the opened entry value. A close fill of the wrong side, sign, or larger than
    |Q| (1 + 1e-12), and an entry fill with a position open (or a close without), are refused.

The one step that is not exact is the allocator's flooring to ``size_decimals``: the seed computes
``(order_value / close * 10000.0).floor() / 10000.0`` in f64, and which lot an exact-boundary ratio
lands on is defined by that f64 expression, so ``lot_floor`` evaluates the same IEEE-754 operations
(Python floats are doubles) and checks the result is within one lot of the exact floor.
The other discontinuity, "refuse an entry when available == 0", is decided exactly here; when the
exact available is within rounding of 0 the decision is counted in ``float_dependent``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable, Mapping, Optional, Sequence

LONG, CLOSE_LONG, SHORT, CLOSE_SHORT = 0, 1, 2, 3
DECISIONS = (LONG, CLOSE_LONG, SHORT, CLOSE_SHORT)
ZERO = Fraction(0)
FULL_EXIT_REL = Fraction(1, 10**12)  # a close fill this near the position's size closes all of it
ZERO_BAND = Fraction(1, 10**9)  # |available| <= ZERO_BAND * magnitude: "is it 0?" depends on float rounding


def mask_signals(mask: int, strength: float = 1.0) -> dict[int, float]:
    """The signals of a precomputed bit mask (1 Long, 2 CloseLong, 4 Short, 8 CloseShort)."""
    return {d: strength for d in DECISIONS if mask & (1 << d)}


def lot_floor(order_value: float, close: float, size_decimals: Optional[int]) -> Fraction:
    """The DefaultAllocator's unsigned entry size before strength, as the seed computes it in f64."""
    size = order_value / close
    if size_decimals is not None:
        scale = 10.0 ** size_decimals
        lots = math.floor(size * scale)  # compared as whole lots: lots / scale is not exact in f64
        size = lots / scale
        exact_lots = math.floor(Fraction(order_value) / Fraction(close) * 10 ** size_decimals)
        assert abs(lots - exact_lots) <= 1, (order_value, close, size)
    return Fraction(size)


@dataclass(frozen=True)
class RefFees:
    exchange: Fraction = ZERO
    slippage: Fraction = ZERO
    network: Fraction = ZERO

    @property
    def total(self) -> Fraction:
        return self.exchange + self.slippage + self.network

    def __add__(self, other: RefFees) -> RefFees:
        return RefFees(self.exchange + other.exchange, self.slippage + other.slippage, self.network + other.network)

    def scaled(self, r: Fraction) -> RefFees:
        return RefFees(r * self.exchange, r * self.slippage, r * self.network)


@dataclass(frozen=True)
class RefBalance:
    time_ns: int
    total: Fraction
    available: Fraction


@dataclass(frozen=True)
class RefFill:
    market_id: int
    decision: int
    time_ns: int
    price: Fraction
    quantity: Fraction
    fill_value_gross: Fraction
    fees: RefFees


@dataclass
class RefPosition:
    market_id: int
    side: int  # +1 buy (long), -1 sell (short)
    quantity: Fraction
    enter_time_ns: int
    update_time_ns: int
    enter_fees: RefFees
    enter_fees_total: Fraction
    enter_avg_price_gross: Fraction
    enter_value_gross: Fraction
    current_symbol_price: Fraction
    current_value_gross: Fraction
    unrealised_profit_loss: Fraction
    realised_profit_loss: Fraction = ZERO
    exit_fees: RefFees = field(default_factory=RefFees)
    exit_fees_total: Fraction = ZERO
    exit_avg_price_gross: Fraction = ZERO
    exit_value_gross: Fraction = ZERO
    exit_time_ns: Optional[int] = None
    exit_balance: Optional[RefBalance] = None
    # partial exits: the entry as opened, the |quantity| closed so far, each leg's realised PnL
    opened: Optional[tuple[Fraction, Fraction, RefFees]] = None
    exited_quantity: Fraction = ZERO
    legs: list[Fraction] = field(default_factory=list)

    @property
    def pnl_return(self) -> Fraction:
        return self.realised_profit_loss / self.enter_value_gross


class SeedPortfolio:
    """One engine's portfolio over markets ``0 .. n_markets - 1``.

    Parameters
    ----------
    fee_rates : sequence of (exchange, slippage, network)
        Per market, fractions of the fill value.
    """

    def __init__(self, n_markets: int, starting_cash: float,
                 fee_rates: Sequence[tuple[float, float, float]], order_value: float,
                 size_decimals: Optional[int] = 4) -> None:
        assert len(fee_rates) == n_markets
        self.n_markets = n_markets
        self.starting_cash = Fraction(starting_cash)
        self.fee_rates = [RefFees(*map(Fraction, rates)) for rates in fee_rates]
        self.order_value = float(order_value)
        self.size_decimals = size_decimals
        self.balance = RefBalance(0, self.starting_cash, self.starting_cash)
        self.open: dict[int, RefPosition] = {}
        self.fills: list[RefFill] = []
        self.exited: list[RefPosition] = []
        self.refused = 0
        self.float_dependent = 0
        # Largest money amount involved so far: the scale of the rounding a float core may carry.
        self.magnitude = abs(self.starting_cash)

    # -- the seed's MetaPortfolio ---------------------------------------------------------------

    def mark(self, mid: int, price: float, time_ns: int) -> None:
        """update_from_market: revalue the open position of ``mid`` (if any) at ``price``."""
        p = self.open.get(mid)
        if p is None:
            return
        p.update_time_ns = time_ns
        p.current_symbol_price = Fraction(price)
        p.current_value_gross = Fraction(price) * abs(p.quantity)
        gross = p.current_value_gross - p.enter_value_gross
        p.unrealised_profit_loss = p.side * gross - 2 * p.enter_fees_total
        self.magnitude = max(self.magnitude, p.current_value_gross)

    def generate_order(self, mid: int, signals: Mapping[int, float], close: float) -> Optional[tuple[int, Fraction]]:
        """(decision, signed quantity) of the order a signal makes, or None."""
        position = self.open.get(mid)
        if position is None and (LONG in signals) != (SHORT in signals) and self.fills \
                and abs(self.balance.available) <= ZERO_BAND * self.magnitude:
            # An entry hinges on "available == 0" while the exact available is within float rounding
            # of 0: a float core may decide either way (e.g. cash 1.0, 10 * 0.1 bought: exactly
            # -5.6e-17, in f64 0.0). Counted so a test can set such cases aside.
            self.float_dependent += 1
        if position is None and self.balance.available == 0:
            return None
        if position is not None:
            if position.side > 0 and CLOSE_LONG in signals:
                return CLOSE_LONG, -position.quantity
            if position.side < 0 and CLOSE_SHORT in signals:
                return CLOSE_SHORT, -position.quantity
            return None
        if (LONG in signals) == (SHORT in signals):
            return None
        decision = LONG if LONG in signals else SHORT
        size = lot_floor(self.order_value, close, self.size_decimals) * Fraction(signals[decision])
        return decision, (size if decision == LONG else -size)

    def signal(self, mid: int, signals: Mapping[int, float], price: float, time_ns: int) -> bool:
        """Signal -> order -> simulated fill -> update_from_fill. True when it filled."""
        order = self.generate_order(mid, signals, price)
        if order is None:
            return False
        decision, quantity = order
        if quantity == 0:  # barter difference #5: a zero-size entry is refused, not filled
            self.refused += 1
            return False
        self.fill(mid, decision, quantity, Fraction(price), time_ns)
        return True

    def force_exit(self, mid: int, time_ns: Optional[int] = None) -> bool:
        """generate_exit_order: exit at the last marked price, stamped with the last update time
        unless ``time_ns`` is given."""
        p = self.open.get(mid)
        if p is None:
            return False
        decision = CLOSE_LONG if p.side > 0 else CLOSE_SHORT
        self.fill(mid, decision, -p.quantity, p.current_symbol_price,
                  p.update_time_ns if time_ns is None else time_ns)
        return True

    def fill(self, mid: int, decision: int, quantity: Fraction, price: Fraction, time_ns: int) -> None:
        value = abs(quantity) * price
        rate = self.fee_rates[mid]
        fees = RefFees(rate.exchange * value, rate.slippage * value, rate.network * value)
        self._record(RefFill(mid, decision, time_ns, price, quantity, value, fees))

    def book(self, mid: int, decision: int, quantity: float, price: float, time_ns: int,
             fees: tuple[float, float, float]) -> bool:
        """A recorded fill with its fee amounts (``PortfolioCore.apply_fill``); False when refused."""
        q, px = Fraction(quantity), Fraction(price)
        p = self.open.get(mid)
        if (decision in (CLOSE_LONG, CLOSE_SHORT)) != (p is not None):
            return False
        if p is not None and ((decision == CLOSE_LONG) != (p.side > 0) or (q > 0) == (p.quantity > 0)
                              or abs(q) > abs(p.quantity) * (1 + FULL_EXIT_REL)):
            return False
        self._record(RefFill(mid, decision, time_ns, px, q, abs(q) * px, RefFees(*map(Fraction, fees))))
        return True

    def _record(self, f: RefFill) -> None:
        self.fills.append(f)
        self.magnitude = max(self.magnitude, f.fill_value_gross + f.fees.total)
        p = self.open.get(f.market_id)
        if p is None:
            self._enter(f)
        elif abs(f.quantity) < abs(p.quantity) * (1 - FULL_EXIT_REL):
            self._reduce(p, f)
        else:
            self._exit(f)

    def _enter(self, f: RefFill) -> None:
        assert f.decision in (LONG, SHORT), "an entry fill must be Long or Short"
        side = 1 if f.decision == LONG else -1
        assert (f.quantity > 0) == (side > 0)
        avg = abs(f.fill_value_gross / f.quantity)
        p = RefPosition(
            market_id=f.market_id, side=side, quantity=f.quantity,
            enter_time_ns=f.time_ns, update_time_ns=f.time_ns,
            enter_fees=f.fees, enter_fees_total=f.fees.total,
            enter_avg_price_gross=avg, enter_value_gross=f.fill_value_gross,
            current_symbol_price=avg, current_value_gross=f.fill_value_gross,
            unrealised_profit_loss=-2 * f.fees.total,
            opened=(f.quantity, f.fill_value_gross, f.fees),
        )
        self.open[f.market_id] = p
        b = self.balance
        self.balance = RefBalance(f.time_ns, b.total, b.available - p.enter_value_gross - p.enter_fees_total)

    def _close_leg(self, p: RefPosition, f: RefFill, r: Fraction) -> Fraction:
        """Close r of what is open (the seed's exit rule on that part); the leg's realised PnL."""
        value, fees = r * p.enter_value_gross, r * p.enter_fees_total
        leg = p.side * (f.fill_value_gross - value) - (fees + f.fees.total)
        b = self.balance
        self.balance = RefBalance(f.time_ns, b.total + leg, b.available + value + leg + fees)
        p.exit_fees = p.exit_fees + f.fees
        p.exit_fees_total += f.fees.total
        p.exit_value_gross += f.fill_value_gross
        p.exited_quantity += abs(f.quantity)
        p.exit_avg_price_gross = p.exit_value_gross / p.exited_quantity
        p.realised_profit_loss += leg
        p.legs.append(leg)
        p.update_time_ns = f.time_ns
        return leg

    def _reduce(self, p: RefPosition, f: RefFill) -> None:
        assert f.decision in (CLOSE_LONG, CLOSE_SHORT), "an exit fill must be a Close decision"
        r = abs(f.quantity) / abs(p.quantity)
        self._close_leg(p, f, r)
        p.quantity += f.quantity
        p.enter_value_gross *= 1 - r
        p.enter_fees = p.enter_fees.scaled(1 - r)
        p.enter_fees_total *= 1 - r
        self.mark(f.market_id, p.current_symbol_price, f.time_ns)  # type: ignore[arg-type]

    def _exit(self, f: RefFill) -> None:
        assert f.decision in (CLOSE_LONG, CLOSE_SHORT), "an exit fill must be a Close decision"
        p = self.open.pop(f.market_id)
        b = self.balance
        leg = self._close_leg(p, f, Fraction(1))
        assert p.opened is not None
        p.quantity, p.enter_value_gross, p.enter_fees = p.opened  # the whole trade
        p.enter_fees_total = p.enter_fees.total
        p.unrealised_profit_loss = p.realised_profit_loss
        p.exit_time_ns = f.time_ns
        p.exit_balance = RefBalance(f.time_ns, b.total + leg, b.available)
        self.exited.append(p)

    # -- the engine's per-event order -----------------------------------------------------------

    def on_event(self, mid: int, price: float, time_ns: int,
                 signals: Optional[Mapping[int, float]] = None) -> bool:
        """One market event: (the strategy has seen it), mark the open position, then the signal."""
        self.mark(mid, price, time_ns)
        if signals is None:
            return False
        return self.signal(mid, signals, price, time_ns)

    @property
    def equity(self) -> Fraction:
        """Total balance + unrealised PnL of the open positions."""
        return self.balance.total + sum((p.unrealised_profit_loss for p in self.open.values()), ZERO)

    def position(self, mid: int) -> Optional[RefPosition]:
        return self.open.get(mid)


def run_events(portfolio: SeedPortfolio, events: Iterable[tuple[int, float, int, int, float]]) -> list[Fraction]:
    """Feed ``(market_id, close, time_ns, mask, strength)`` events in order; the equity after each."""
    equity = []
    for mid, close, t, mask, strength in events:
        portfolio.on_event(mid, close, t, mask_signals(mask, strength) if mask else None)
        equity.append(portfolio.equity)
    return equity
