"""A slow, exact reference for the multi-asset ledger: Fractions, dicts, one rule per line.

Positions at average cost; a fill that crosses zero closes the position (its share of the fee)
and opens the rest the other way. Balances move by base +q, quote -(q * p) - fee.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction as F


@dataclass
class RefPosition:
    quantity: F = F(0)
    avg: F = F(0)
    realised: F = F(0)
    fees: F = F(0)
    cash_flows: list[F] = field(default_factory=list)  # -q * p of each of its fills


@dataclass
class RefLedger:
    base: dict[str, str]             # market -> base asset
    quote: dict[str, str]            # market -> quote asset
    balances: dict[str, F]
    reserved: dict[str, F] = field(default_factory=dict)
    positions: dict[str, RefPosition] = field(default_factory=dict)
    closed: list[tuple[str, RefPosition]] = field(default_factory=list)
    marks: dict[str, F] = field(default_factory=dict)

    def available(self, asset: str) -> F:
        return self.balances.get(asset, F(0)) - self.reserved.get(asset, F(0))

    def shortfall(self, market: str, q: F, p: F, fee: F) -> tuple[F, F]:
        """Available base and quote after the fill (negative means short of it)."""
        return (self.available(self.base[market]) + q, self.available(self.quote[market]) - q * p - fee)

    def apply(self, market: str, q: F, p: F, fee: F) -> None:
        b, c = self.base[market], self.quote[market]
        self.balances[b] = self.balances.get(b, F(0)) + q
        self.balances[c] = self.balances.get(c, F(0)) - q * p - fee
        self.marks[market] = p
        pos = self.positions.get(market)
        if pos is None:
            self._open(market, q, p, fee)
        elif (pos.quantity > 0) == (q > 0):
            pos.avg = (abs(pos.quantity) * pos.avg + abs(q) * p) / (abs(pos.quantity) + abs(q))
            self._book(pos, q, p, fee, -fee)
        elif abs(q) <= abs(pos.quantity):
            sign = 1 if pos.quantity > 0 else -1
            self._book(pos, q, p, fee, abs(q) * (p - pos.avg) * sign - fee)
            if pos.quantity == 0:
                self._close(market)
        else:
            sign = 1 if pos.quantity > 0 else -1
            part = -pos.quantity
            f1 = fee * abs(part) / abs(q)
            self._book(pos, part, p, f1, abs(part) * (p - pos.avg) * sign - f1)
            self._close(market)
            self._open(market, q - part, p, fee - f1)

    def _open(self, market: str, q: F, p: F, fee: F) -> None:
        pos = self.positions[market] = RefPosition(avg=p)
        self._book(pos, q, p, fee, -fee)

    @staticmethod
    def _book(pos: RefPosition, q: F, p: F, fee: F, realised: F) -> None:
        pos.quantity += q
        pos.realised += realised
        pos.fees += fee
        pos.cash_flows.append(-q * p)

    def _close(self, market: str) -> None:
        self.closed.append((market, self.positions.pop(market)))

    def unrealised(self, market: str) -> F:
        pos = self.positions.get(market)
        return F(0) if pos is None else pos.quantity * (self.marks[market] - pos.avg)

    def realised(self, market: str) -> F:
        open_ = self.positions.get(market)
        return sum((p.realised for m, p in self.closed if m == market), F(0)) + (open_.realised if open_ else F(0))

    def equity(self, rates: dict[str, F]) -> F:
        return sum((v * rates[a] for a, v in self.balances.items() if v != 0), F(0))
