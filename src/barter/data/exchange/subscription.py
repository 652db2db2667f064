"""What a feed subscribes to: a market and a kind of data (the seed's ``Subscription``)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from barter.errors import ConfigError
from barter.instrument import Market


class SubKind(IntEnum):
    """Kinds of market data; ``str()`` gives the seed's names."""

    PUBLIC_TRADES = 0
    L1 = 1
    L2 = 2
    CANDLES = 3
    LIQUIDATIONS = 4

    def __str__(self) -> str:
        return _NAMES[self]


_NAMES = {SubKind.PUBLIC_TRADES: "public_trades", SubKind.L1: "l1", SubKind.L2: "l2",
          SubKind.CANDLES: "candles", SubKind.LIQUIDATIONS: "liquidations"}
_BY_NAME = {name: kind for kind, name in _NAMES.items()}


@dataclass(frozen=True, slots=True)
class Subscription:
    """``kind`` data of ``market``: ``Subscription(Market("binance", ("btc", "usdt")), SubKind.L2)``;
    ``kind`` may also be given by its seed name (``"l2"``)."""

    market: Market
    kind: SubKind

    def __post_init__(self) -> None:
        if not isinstance(self.market, Market):
            raise ConfigError(f"subscription market must be a Market, was {self.market!r}")
        kind = self.kind
        try:
            kind = _BY_NAME[kind] if isinstance(kind, str) else SubKind(kind)
            object.__setattr__(self, "kind", kind)
        except (KeyError, ValueError):
            raise ConfigError(f"unknown subscription kind {self.kind!r}") from None

    def __str__(self) -> str:
        return f"{self.market} {self.kind}"
