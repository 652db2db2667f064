from enum import IntEnum
from typing import Any, Optional

import numpy as np
import numpy.typing as npt

class BookSide(IntEnum):
    """A side of the book: BID (resting buy orders) = 0, ASK (resting sell orders) = 1."""
    BID = 0
    ASK = 1

class BookStatus(IntEnum):
    """A sequenced book's integrity (re-exported by ``barter.data.book``)."""
    VALID = 0
    INVALID = 1

class DeltaResult(IntEnum):
    """What became of a delta (re-exported by ``barter.data.book``)."""
    APPLIED = 0
    STALE = 1
    BUFFERED = 2

class OrderBook:
    """An L2 order book for one instrument: price levels per side, a snapshot then deltas.

    Prices are quote currency per base unit, sizes base units. A size of 0 deletes a level;
    deleting a missing level changes nothing and is counted in ``missing_deletes``. NaN, infinite
    or negative prices and sizes raise ``DataError`` before anything changes. Crossing (best bid
    >= best ask) is reported by every update and by ``is_crossed``; the book keeps what it was told.

    Parameters
    ----------
    bids, asks : array-like of shape (n, 2), optional
        A first snapshot as ``[price, size]`` rows in any order (see ``apply_snapshot``).
    """

    updates: int
    """Level updates applied since the book was made (snapshots not counted)."""
    missing_deletes: int
    """Deletes of levels that were not in the book (no-ops)."""

    def __init__(self, bids: Optional[npt.ArrayLike] = None, asks: Optional[npt.ArrayLike] = None) -> None: ...
    def apply_snapshot(self, bids: npt.ArrayLike, asks: npt.ArrayLike) -> bool:
        """Replace the whole book with ``[price, size]`` rows (any order; size-0 rows left out).

        Raises ``DataError`` for a NaN/inf/negative value or a price given twice on a side, and
        then changes nothing. Returns True if the new book is crossed. Tuples or lists of
        ``(float, float)`` tuples (what the feed parsers give) are read without a NumPy array.
        """
    def apply_delta(self, bids: npt.ArrayLike, asks: npt.ArrayLike) -> bool:
        """Apply one exchange message's ``[price, size]`` rows, bids first. Every row is checked
        before any is applied. Returns True if the book is crossed afterwards. Tuples or lists of
        ``(float, float)`` tuples (what the feed parsers give) are read without a NumPy array."""
    def update(self, side: int, price: float, size: float) -> bool:
        """Set the level at ``price`` on ``side`` to ``size`` (0 deletes it). Returns True if the
        book is crossed afterwards."""
    def update_many(self, sides: npt.NDArray[np.int8], prices: npt.NDArray[np.float64],
                    sizes: npt.NDArray[np.float64], best_bid: Optional[npt.NDArray[np.float64]] = None,
                    best_ask: Optional[npt.NDArray[np.float64]] = None) -> int:
        """Apply ``n`` updates (``update`` each) in one call without the GIL, so no other thread
        may use this book meanwhile. ``sides`` is int8 (0 bid, 1 ask). Every update is checked
        first; on a bad one nothing is applied. If given, ``best_bid[i]``/``best_ask[i]`` receive
        the best prices after update ``i`` (NaN while a side is empty). Returns the number of
        updates after which the book was crossed."""
    def replay_messages(self, start: npt.NDArray[np.int64], snapshot: npt.NDArray[np.int8],
                        sides: npt.NDArray[np.int8], prices: npt.NDArray[np.float64],
                        sizes: npt.NDArray[np.float64], top: npt.NDArray[np.float64]) -> int:
        """Apply messages in order without the GIL: message ``i`` is the updates
        ``start[i]:start[i + 1]`` (a snapshot when ``snapshot[i]``, which replaces the book first).
        ``top[i]`` receives (best bid, bid size, best ask, ask size, micro-price) after message ``i``
        (NaN prices while a side is empty). Every update is checked first. Returns the first
        message after which the book was crossed, or -1; the messages after it are not applied."""
    def truncate(self, side: int, depth: int) -> int:
        """Drop the levels of ``side`` beyond the best ``depth``. Returns the number dropped."""
    def clear(self) -> None:
        """Remove every level; the counters are kept."""
    @property
    def bid_price(self) -> float:
        """Best bid price; NaN when there are no bids."""
    @property
    def ask_price(self) -> float:
        """Best ask price; NaN when there are no asks."""
    @property
    def bid_size(self) -> float:
        """Size at the best bid; 0.0 when there are no bids."""
    @property
    def ask_size(self) -> float:
        """Size at the best ask; 0.0 when there are no asks."""
    @property
    def best_bid(self) -> Optional[tuple[float, float]]:
        """(price, size) of the best bid, or None."""
    @property
    def best_ask(self) -> Optional[tuple[float, float]]:
        """(price, size) of the best ask, or None."""
    @property
    def is_crossed(self) -> bool:
        """Best bid >= best ask (False while a side is empty)."""
    @property
    def n_bids(self) -> int:
        """Number of bid levels."""
    @property
    def n_asks(self) -> int:
        """Number of ask levels."""
    @property
    def spread(self) -> float:
        """Best ask - best bid; NaN if a side is empty."""
    @property
    def mid_price(self) -> float:
        """(bid + ask) / 2. The seed's rule when a side is empty: the other side's best price;
        NaN when both are."""
    @property
    def micro_price(self) -> float:
        """(bid * ask_size + ask * bid_size) / (bid_size + ask_size), the seed's
        ``volume_weighted_mid_price``; empty sides as in ``mid_price``."""
    def depth(self, side: int, n: Optional[int] = None) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """(prices, sizes) of the best ``n`` levels of ``side`` (all if None), best first."""
    def vwap(self, side: int, quantity: float) -> tuple[float, float]:
        """Walk ``side`` from its best level to fill ``quantity`` (ASK for a buy, BID for a sell).

        Returns (filled quantity, volume-weighted average price): filled < quantity when the side
        runs out, and the price is NaN when nothing fills.
        """
    def cumulative_size(self, side: int, price: float) -> float:
        """Total size at ``price`` or better on ``side`` (bids >= price, asks <= price)."""

class SequencedBookBase:
    """The compiled hot path of ``barter.data.book.SequencedBook``: a delta to a VALID book with
    plain int ids is checked, and applied when it follows; every other case goes to ``_delta``."""
    book: OrderBook
    status: BookStatus
    last_update_id: Optional[int]
    applied: int
    stale: int
    _first: bool
    _spot: bool
    def delta(self, delta: Any) -> DeltaResult:
        """Apply ``delta`` if it is next in sequence; drop it if stale; buffer it while INVALID.

        ``delta`` is a ``BookDelta`` or anything with its attributes, such as a feed's
        ``OrderBookL2Update`` (its levels are checked by ``OrderBook.apply_delta``).

        Raises ``SequenceGap`` (the delta does not follow; it is buffered) or ``CrossedBook`` (it
        was applied and crossed the book); either leaves the book INVALID.
        """
    def _delta(self, delta: Any) -> DeltaResult: ...
    def _crossed(self, what: str) -> Exception: ...

class BookManagerBase:
    """The compiled hot path of ``barter.data.exchange.books.BookManager.process``: an update for a
    market whose Binance book is in the id cache goes straight to its book; every other event, and
    every error, goes to ``_process`` / ``_out_of_sync``."""
    _by_id: dict[int, Any]
    _update_type: type
    def process(self, event: Any) -> list[Any]:
        """``[event]`` while its book is valid (see ``BookManager``)."""
    def _process(self, event: Any) -> list[Any]: ...
    def _out_of_sync(self, market: Any, error: Any, event: Any) -> list[Any]: ...
