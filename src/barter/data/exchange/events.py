"""Normalised events of live exchange feeds beyond ``Trade`` and ``Candle`` (SEED.md section 7:
``OrderBookL1``, ``OrderBook`` updates, ``Liquidation``), and the error event a feed reports
instead of raising.

Each is the ``kind`` of a ``barter.data.event.MarketEvent``, except ``FeedError``, which is
yielded on its own: a frame that cannot be used never stops a stream.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

from barter._core.slots import SlotsBuilder
from barter.data.book import BookDelta, BookSnapshot
from barter.data.event import Candle, MarketEvent, Trade
from barter.instrument import Market, Side

Level = tuple[float, float]  # (price: quote per base unit, size: base units)


@dataclass(frozen=True, slots=True)
class OrderBookL1:
    """Best bid and ask.

    Attributes
    ----------
    bid_price, ask_price : float
        Quote currency per 1 base unit.
    bid_amount, ask_amount : float
        Base units available at the best bid / ask.
    update_id : int
        The exchange's book update id (Binance ``u``); 0 where it gives none.
    """

    bid_price: float
    bid_amount: float
    ask_price: float
    ask_amount: float
    update_id: int = 0

    @property
    def mid_price(self) -> float:
        """(bid + ask) / 2."""
        return (self.bid_price + self.ask_price) / 2.0

    @property
    def volume_weighted_mid_price(self) -> float:
        """The seed's ``(bid * ask_amount + ask * bid_amount) / (bid_amount + ask_amount)``; the
        mid price when both amounts are 0."""
        total = self.bid_amount + self.ask_amount
        if total == 0.0:
            return self.mid_price
        return (self.bid_price * self.ask_amount + self.ask_price * self.bid_amount) / total


@dataclass(frozen=True, slots=True)
class OrderBookL2Update:
    """Changed L2 levels between two update ids (a size of 0 deletes the level); feed them to
    ``barter.data.book.SequencedBook`` with ``to_delta()``.

    Attributes
    ----------
    first_id, last_id : int
        First and last update id in the message (Binance ``U`` and ``u``).
    prev_last_id : int or None
        The previous message's ``last_id`` (Binance futures ``pu``, OKX ``prevSeqId``); None
        where the exchange gives none.
    bids, asks : tuple of (price, size)
        Quote per base unit, base units; in the exchange's order.
    checksum : int or None
        The exchange's CRC32 of its top levels after this update (OKX, Kraken).
    """

    first_id: int
    last_id: int
    prev_last_id: Optional[int]
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    checksum: Optional[int] = None

    def to_delta(self) -> BookDelta:
        return BookDelta(self.first_id, self.last_id, self.bids or _EMPTY, self.asks or _EMPTY, self.prev_last_id)


@dataclass(frozen=True, slots=True)
class OrderBookL2Snapshot:
    """A full L2 book as of update id ``last_update_id`` (a REST depth response, or the snapshot
    message of OKX, Bybit, Kraken and Coinbase).

    Attributes
    ----------
    checksum : int or None
        The exchange's CRC32 of its top levels (OKX, Kraken).
    decimals : (int, int) or None
        Digits after the point of the exchange's price and size text, where its checksum needs them
        (Kraken).
    depth : int or None
        Levels per side the exchange keeps; deeper levels drop out after each update (Kraken).
    """

    last_update_id: int
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    checksum: Optional[int] = None
    decimals: Optional[tuple[int, int]] = None
    depth: Optional[int] = None

    def to_snapshot(self) -> BookSnapshot:
        return BookSnapshot(self.last_update_id, self.bids or _EMPTY, self.asks or _EMPTY)


@dataclass(frozen=True, slots=True)
class Liquidation:
    """A forced liquidation order. ``price`` quote per base unit, ``quantity`` base units;
    ``side`` is the liquidation order's side (SELL closes a long)."""

    side: Side
    price: float
    quantity: float


@dataclass(frozen=True, slots=True)
class FeedError:
    """A frame a feed could not use; the stream goes on.

    Attributes
    ----------
    exchange : str
    reason : str
        What was wrong, naming the bad field or value.
    raw : str
        The frame as received (binary frames decoded with backslash escapes).
    received_ns : int
        Local receive time, UNIX epoch ns (UTC).
    """

    exchange: str
    reason: str
    raw: str
    received_ns: int


_EMPTY: tuple[Level, ...] = ()

Kind = Union[Trade, Candle, OrderBookL1, OrderBookL2Update, OrderBookL2Snapshot, Liquidation]

# ``MarketEvent.kind`` is annotated with the engine's kinds (Candle | Trade); a feed's events also
# carry the kinds above, so they are built through this alias.
market_event: Callable[[int, Market, Any], MarketEvent] = MarketEvent


def raw_text(raw: Union[str, bytes, bytearray, memoryview]) -> str:
    """``raw`` as text for a ``FeedError``."""
    if isinstance(raw, str):
        return raw
    return bytes(raw).decode("utf-8", "backslashreplace")


def finite_positive(value: float) -> bool:
    return 0.0 < value < math.inf


def finite_non_negative(value: float) -> bool:
    return 0.0 <= value < math.inf


def slots_constructor(cls: type) -> Callable[..., Any]:
    """A function building ``cls`` (a frozen slots dataclass) from all its fields in order, several
    times faster than ``cls(...)``: the compiled ``SlotsBuilder`` writes the slots directly, where the
    generated ``__init__`` calls ``object.__setattr__`` per field. For the parsers' hot paths.

    Returns ``cls`` itself when skipping ``__init__`` could change the result: a ``__post_init__``
    (checks that must run), a hand-written ``__init__``, or a field that is not a slot of ``cls``.
    """
    init = getattr(cls.__dict__.get("__init__"), "__code__", None)
    generated = dataclasses.is_dataclass(cls) and init is not None and init.co_filename == "<string>"
    names = tuple(f.name for f in dataclasses.fields(cls)) if generated else ()
    if not names or hasattr(cls, "__post_init__") or names != tuple(cls.__dict__.get("__slots__", ())):
        return cls
    return SlotsBuilder(cls, names).new
