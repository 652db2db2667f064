"""Slow, obviously-right references of the L2 order book in ``barter._core.book`` and of the
Binance sequencing in ``barter.data.book`` (SEED.md section 7).

The book is two dicts ``price -> size`` sorted on every read; VWAP and cumulative sizes are exact
(``fractions.Fraction`` of the float inputs). The sequencers are the seed's rules written out as
barter-data's ``BinanceSpotBookUpdater`` / ``BinanceFuturesBookUpdater`` do them, one ``if`` per rule.
Nothing here imports ``src/``.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Iterable, Optional, Sequence

NAN = float("nan")
BID, ASK = 0, 1


class ReferenceBook:
    """Bids and asks as ``{price: size}``; a size of 0 removes the level."""

    def __init__(self) -> None:
        self.sides: tuple[dict[float, float], dict[float, float]] = ({}, {})
        self.missing_deletes = 0

    def snapshot(self, bids: Iterable[tuple[float, float]], asks: Iterable[tuple[float, float]]) -> None:
        """Replace the whole book; levels of size 0 are left out."""
        self.sides = ({p: s for p, s in bids if s != 0}, {p: s for p, s in asks if s != 0})

    def update(self, side: int, price: float, size: float) -> None:
        levels = self.sides[side]
        if size != 0:
            levels[price] = size
        elif price in levels:
            del levels[price]
        else:
            self.missing_deletes += 1

    def levels(self, side: int) -> list[tuple[float, float]]:
        """(price, size) best first: bids high to low, asks low to high."""
        return sorted(self.sides[side].items(), reverse=side == BID)

    def best(self, side: int) -> Optional[tuple[float, float]]:
        levels = self.sides[side]
        if not levels:
            return None
        price = max(levels) if side == BID else min(levels)
        return price, levels[price]

    def is_crossed(self) -> bool:
        bid, ask = self.best(BID), self.best(ASK)
        return bid is not None and ask is not None and bid[0] >= ask[0]

    def spread(self) -> float:
        bid, ask = self.best(BID), self.best(ASK)
        return ask[0] - bid[0] if bid and ask else NAN

    def mid_price(self) -> float:
        """The seed's L2 mid: one side empty gives the other side's best price; both empty: NaN."""
        return self._seed_mid(lambda b, a: (b[0] + a[0]) / 2)

    def micro_price(self) -> float:
        """The seed's ``volume_weighted_mid_price``, with the same empty-side rule."""
        return self._seed_mid(lambda b, a: (b[0] * a[1] + a[0] * b[1]) / (b[1] + a[1]))

    def _seed_mid(self, both) -> float:
        bid, ask = self.best(BID), self.best(ASK)
        if bid and ask:
            return both(bid, ask)
        if bid:
            return bid[0]
        return ask[0] if ask else NAN

    def vwap(self, side: int, quantity: float) -> tuple[float, float]:
        """(filled quantity, VWAP) walking ``side`` from the best level; VWAP is NaN if nothing fills."""
        left, filled, cost = Fraction(quantity), Fraction(0), Fraction(0)
        for price, size in self.levels(side):
            if left <= 0:
                break
            take = min(left, Fraction(size))
            filled += take
            cost += take * Fraction(price)
            left -= take
        return float(filled), float(cost / filled) if filled else NAN

    def cumulative_size(self, side: int, price: float) -> float:
        """Total size at ``price`` or better (bids >= price, asks <= price)."""
        better = (lambda p: p >= price) if side == BID else (lambda p: p <= price)
        return float(sum((Fraction(s) for p, s in self.sides[side].items() if better(p)), Fraction(0)))


class ReferenceSequencer:
    """Binance diff-depth sequencing (SEED.md section 7), on the update ids only.

    ``check(U, u, pu)`` returns "apply", "drop" (stale) or "gap". After a gap the caller must call
    ``snapshot`` again; ``check`` then answers "gap" until it does.
    """

    def __init__(self, futures: bool) -> None:
        self.futures = futures
        self.last: Optional[int] = None
        self.first = True

    def snapshot(self, last_update_id: int) -> None:
        self.last = last_update_id
        self.first = True

    def check(self, first_id: int, last_id: int, prev_last_id: Optional[int] = None) -> str:
        if self.last is None:
            return "gap"
        if self.futures:
            if last_id < self.last:
                return "drop"
            ok = first_id <= self.last <= last_id if self.first else prev_last_id == self.last
        else:
            if last_id <= self.last:
                return "drop"
            ok = first_id <= self.last + 1 <= last_id if self.first else first_id == self.last + 1
        if not ok:
            self.last = None
            return "gap"
        self.last = last_id
        self.first = False
        return "apply"


def apply_levels(book: ReferenceBook, bids: Sequence[tuple[float, float]],
                 asks: Sequence[tuple[float, float]]) -> None:
    for price, size in bids:
        book.update(BID, price, size)
    for price, size in asks:
        book.update(ASK, price, size)
