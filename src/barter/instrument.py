"""Markets: an exchange and an instrument (base, quote, kind), with the seed's identifiers.

The seed (barter-integration 0.5) displays an instrument as ``(btc_usdt, spot)`` and identifies a market
as the lower-case ``{exchange}_{base}_{quote}_{kind}`` (``binance_btc_usdt_spot``); both are kept.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Union

from barter.errors import ConfigError


class InstrumentKind(IntEnum):
    """What is traded. Values match the compiled core's codes."""

    SPOT = 0
    PERPETUAL = 1
    FUTURE = 2
    OPTION = 3

    def __str__(self) -> str:
        return self.name.lower()


class Side(IntEnum):
    """Side of a trade or position: +1 buy, -1 sell (0 where the source does not say)."""

    BUY = 1
    SELL = -1

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Exchange:
    """An exchange, by name (``"binance"``); lower-cased as the seed's ids, so ``"Binance"`` is the
    same exchange."""

    name: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"exchange name must be a non-empty str, was {self.name!r}")
        object.__setattr__(self, "name", self.name.lower())

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Instrument:
    """A base/quote pair of one kind; symbols are lower-cased as in the seed."""

    base: str
    quote: str
    kind: InstrumentKind = InstrumentKind.SPOT

    def __post_init__(self) -> None:
        for name in ("base", "quote"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ConfigError(f"instrument {name} must be a non-empty str, was {value!r}")
            object.__setattr__(self, name, value.lower())
        object.__setattr__(self, "kind", _kind(self.kind))

    def __str__(self) -> str:
        return f"({self.base}_{self.quote}, {self.kind})"


def _kind(kind: object) -> InstrumentKind:
    if isinstance(kind, str):
        try:
            return InstrumentKind[kind.upper()]
        except KeyError:
            raise ConfigError(f"unknown instrument kind {kind!r}") from None
    try:
        return InstrumentKind(kind)  # type: ignore[arg-type]
    except ValueError:
        raise ConfigError(f"unknown instrument kind {kind!r}") from None


InstrumentLike = Union[Instrument, "tuple[str, str, InstrumentKind | str]", "tuple[str, str]"]


@dataclass(frozen=True, init=False)
class Market:
    """An instrument on an exchange: ``Market("binance", ("btc", "usdt", InstrumentKind.SPOT))``."""

    # The fields' slots written out to add one for the hash, computed once: markets key the books
    # and maps looked up per event, where the generated hash ran four Python __hash__ methods.
    __slots__ = ("exchange", "instrument", "_hash")

    exchange: Exchange
    instrument: Instrument

    def __init__(self, exchange: Exchange | str, instrument: InstrumentLike) -> None:
        if not isinstance(exchange, Exchange):
            exchange = Exchange(exchange)
        if not isinstance(instrument, Instrument):
            instrument = Instrument(*instrument)
        object.__setattr__(self, "exchange", exchange)
        object.__setattr__(self, "instrument", instrument)
        object.__setattr__(self, "_hash", hash((exchange, instrument)))  # the generated hash's value

    def __hash__(self) -> int:
        return self._hash  # type: ignore[attr-defined]  # a slot, not a field

    def __reduce__(self) -> tuple[type[Market], tuple[Exchange, Instrument]]:
        # rebuilt through __init__: a str's hash differs from process to process
        return Market, (self.exchange, self.instrument)

    @property
    def market_id(self) -> str:
        """The seed's ``MarketId``: lower-case ``{exchange}_{base}_{quote}_{kind}``."""
        i = self.instrument
        return f"{self.exchange}_{i.base}_{i.quote}_{i.kind}".lower()

    def __str__(self) -> str:
        return self.market_id

    def __repr__(self) -> str:
        i = self.instrument
        return f"Market({self.exchange.name!r}, ({i.base!r}, {i.quote!r}, InstrumentKind.{i.kind.name}))"
