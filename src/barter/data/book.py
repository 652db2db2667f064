"""L2 order books kept in step with an exchange's diff-depth stream, over the compiled ``OrderBook``.

Binance's procedure (SEED.md section 7): open the stream and buffer its deltas, fetch a REST snapshot,
drop the deltas the snapshot already holds, then apply the rest in order. Each delta carries the
ids of its first and last change, ``U`` and ``u``; futures add ``pu``, the previous delta's ``u``.
With ``last`` the snapshot's ``lastUpdateId``, then the ``u`` of each applied delta:

- spot: drop a delta with ``u <= last``; the first applied needs ``U <= last + 1 <= u``, the next
  ones ``U == last + 1``;
- futures: drop a delta with ``u < last``; the first applied needs ``U <= last <= u``, the next
  ones ``pu == last``.

Anything else is a gap (a missed or out-of-order delta): the book turns INVALID, raises
``SequenceGap`` and buffers the deltas that follow, and the next snapshot replays them. A snapshot
or delta that leaves the book crossed turns it INVALID as well (``CrossedBook``). Both errors are
``BookOutOfSync``: catch that, fetch a new snapshot and pass it to ``snapshot``.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Literal, Mapping, Optional, Protocol, Sequence, Union

import numpy as np
import numpy.typing as npt

from barter._core.book import BookSide, BookStatus, DeltaResult, OrderBook, SequencedBookBase
from barter.errors import BookOutOfSync, ConfigError, CrossedBook, DataError, SequenceGap

BID, ASK = BookSide.BID, BookSide.ASK

__all__ = ["ASK", "BID", "BookDelta", "BookSide", "BookSnapshot", "BookStatus", "DeltaLike", "DeltaResult",
           "OrderBook", "SequencedBook", "SnapshotLike"]


# BookStatus (compiled with the book's sequencing hot path):
#   VALID = 0    the book follows the exchange's
#   INVALID = 1  it needs a new snapshot: none yet, a sequence gap, or a crossed book
# DeltaResult:
#   APPLIED = 0
#   STALE = 1     the snapshot already holds it: dropped
#   BUFFERED = 2  the book is INVALID: kept for the next snapshot to replay
_INVALID = BookStatus.INVALID
_APPLIED, _STALE, _BUFFERED = DeltaResult.APPLIED, DeltaResult.STALE, DeltaResult.BUFFERED


def _levels(rows: npt.ArrayLike, name: str) -> npt.NDArray[np.float64]:
    """``rows`` (e.g. Binance's ``[["0.35", "672.0"], ...]``) as an (n, 2) float64 array of
    [price, size], every value finite and >= 0."""
    a = np.ascontiguousarray(rows, dtype=np.float64)
    if a.size == 0:
        return a.reshape(0, 2)
    if a.ndim != 2 or a.shape[1] != 2:
        raise DataError(f"{name} must be [price, size] rows, got shape {a.shape}")
    bad = np.argwhere(~(np.isfinite(a) & (a >= 0.0)))
    if bad.size:
        i, j = bad[0]
        raise DataError(f"{name}[{i}] {('price', 'size')[j]} must be finite and >= 0, was {float(a[i, j])!r}")
    return a


@dataclass(frozen=True, slots=True, eq=False, init=False)
class BookSnapshot:
    """A full book as of update id ``last_update_id``.

    Attributes
    ----------
    last_update_id : int
        Binance ``lastUpdateId``.
    bids, asks : numpy.ndarray
        (n, 2) float64 rows of [price (quote per base unit), size (base units)], any order; made
        from any array-like of rows.
    """

    last_update_id: int
    bids: npt.NDArray[np.float64]
    asks: npt.NDArray[np.float64]

    def __init__(self, last_update_id: int, bids: npt.ArrayLike, asks: npt.ArrayLike) -> None:
        object.__setattr__(self, "last_update_id", int(last_update_id))
        object.__setattr__(self, "bids", _levels(bids, "bids"))
        object.__setattr__(self, "asks", _levels(asks, "asks"))

    @classmethod
    def from_binance(cls, body: Mapping[str, Any]) -> BookSnapshot:
        """From a ``GET /api/v3/depth`` (spot) or ``/fapi/v1/depth`` (futures) response body."""
        return cls(body["lastUpdateId"], body["bids"], body["asks"])


@dataclass(frozen=True, slots=True, eq=False, init=False)
class BookDelta:
    """The changed levels between two update ids; a size of 0 deletes the level.

    Attributes
    ----------
    first_id, last_id : int
        Binance ``U`` and ``u``: the first and last update id in this delta.
    bids, asks : numpy.ndarray
        (n, 2) float64 rows of [price, size], applied in order, bids first.
    prev_last_id : int or None
        Binance futures ``pu``: the previous delta's ``u``. Spot deltas have none.
    """

    first_id: int
    last_id: int
    bids: npt.NDArray[np.float64]
    asks: npt.NDArray[np.float64]
    prev_last_id: Optional[int]

    def __init__(self, first_id: int, last_id: int, bids: npt.ArrayLike, asks: npt.ArrayLike,
                 prev_last_id: Optional[int] = None) -> None:
        if first_id > last_id:
            raise DataError(f"first update id {first_id} is after last update id {last_id}")
        object.__setattr__(self, "first_id", int(first_id))
        object.__setattr__(self, "last_id", int(last_id))
        object.__setattr__(self, "bids", _levels(bids, "bids"))
        object.__setattr__(self, "asks", _levels(asks, "asks"))
        object.__setattr__(self, "prev_last_id", None if prev_last_id is None else int(prev_last_id))

    @classmethod
    def from_binance(cls, data: Mapping[str, Any]) -> BookDelta:
        """From a ``depthUpdate`` event (the ``data`` of a combined-stream message)."""
        return cls(data["U"], data["u"], data["b"], data["a"], data.get("pu"))


class DeltaLike(Protocol):
    """What ``SequencedBook.delta`` reads: a ``BookDelta``, or a feed's ``OrderBookL2Update`` whose
    levels are tuples of ``(price, size)`` floats (applied without building NumPy arrays)."""

    @property
    def first_id(self) -> int: ...
    @property
    def last_id(self) -> int: ...
    @property
    def prev_last_id(self) -> Optional[int]: ...
    @property
    def bids(self) -> Union[npt.NDArray[np.float64], Sequence[tuple[float, float]]]: ...
    @property
    def asks(self) -> Union[npt.NDArray[np.float64], Sequence[tuple[float, float]]]: ...


class SnapshotLike(Protocol):
    """What ``SequencedBook.snapshot`` reads: a ``BookSnapshot``, or a feed's ``OrderBookL2Snapshot``
    whose levels are tuples of ``(price, size)`` floats (loaded without building NumPy arrays)."""

    @property
    def last_update_id(self) -> int: ...
    @property
    def bids(self) -> Union[npt.NDArray[np.float64], Sequence[tuple[float, float]]]: ...
    @property
    def asks(self) -> Union[npt.NDArray[np.float64], Sequence[tuple[float, float]]]: ...


class SequencedBook(SequencedBookBase):
    """An ``OrderBook`` fed by snapshots and sequenced deltas, with Binance's rules.

    ``delta`` is compiled (``barter._core.book.SequencedBookBase``) for the usual case, a delta
    that follows or is stale; ``_delta`` states the rules in Python and takes every other case.

    Parameters
    ----------
    rules : "spot" or "futures"
        Binance spot (``U``/``u``) or USD-M futures (``U``/``u``/``pu``) sequencing.
    name : str
        Named in error messages, e.g. the symbol.
    max_buffered : int
        Deltas kept while INVALID; beyond it the oldest are dropped (and counted in ``overflowed``).

    Attributes
    ----------
    book : OrderBook
        The levels, for queries. Current only while ``status`` is VALID.
    status : BookStatus
    reason : str
        Why the book is INVALID ("" while VALID).
    last_update_id : int or None
        The snapshot's ``lastUpdateId``, then the ``u`` of each applied delta.
    applied, stale, gaps, crossings, overflowed : int
        Deltas applied, dropped as stale, gaps seen, crossed books seen, buffered deltas dropped.
    """

    def __init__(self, rules: Literal["spot", "futures"] = "spot", name: str = "",
                 max_buffered: int = 10_000) -> None:
        if rules not in ("spot", "futures"):
            raise ConfigError(f"rules must be 'spot' or 'futures', was {rules!r}")
        self.rules = rules
        self._spot = rules == "spot"
        self.name = name
        self.book = OrderBook()
        self.status = BookStatus.INVALID
        self.reason = "no snapshot yet"
        self.last_update_id: Optional[int] = None
        self.applied = self.stale = self.gaps = self.crossings = self.overflowed = 0
        self._first = True  # the next delta is the first after a snapshot
        self._buffer: deque[DeltaLike] = deque(maxlen=max_buffered)

    @property
    def is_valid(self) -> bool:
        return self.status == BookStatus.VALID

    def snapshot(self, snapshot: SnapshotLike) -> None:
        """Load ``snapshot`` (the book turns VALID), then replay the buffered deltas.

        ``snapshot`` is a ``BookSnapshot`` or anything with its attributes, such as a feed's
        ``OrderBookL2Snapshot`` (its levels are checked by ``OrderBook.apply_snapshot``).

        Raises ``CrossedBook`` or ``SequenceGap`` if the snapshot or the replay leaves the book
        INVALID again; the deltas after a failed one stay buffered for the next snapshot.
        """
        crossed = self.book.apply_snapshot(snapshot.bids, snapshot.asks)
        self.last_update_id = snapshot.last_update_id
        self._first = True
        self.status, self.reason = BookStatus.VALID, ""
        if crossed:  # the buffered deltas wait for the next snapshot
            raise self._crossed(f"snapshot {snapshot.last_update_id}")
        pending = list(self._buffer)
        self._buffer.clear()
        error: Optional[BookOutOfSync] = None
        for delta in pending:
            try:
                self.delta(delta)
            except BookOutOfSync as e:  # the deltas after it are buffered again
                error = error or e
        if error is not None:
            raise error

    def _delta(self, delta: DeltaLike) -> DeltaResult:
        """``delta``'s rules in Python (the compiled ``delta`` does the same for the usual case):
        apply ``delta`` if it is next in sequence; drop it if stale; buffer it while INVALID.

        ``delta`` is a ``BookDelta`` or anything with its attributes, such as a feed's
        ``OrderBookL2Update`` (its levels are checked by ``OrderBook.apply_delta``).

        Raises ``SequenceGap`` (the delta does not follow; it is buffered) or ``CrossedBook`` (it
        was applied and crossed the book); either leaves the book INVALID.
        """
        if self.status == _INVALID:
            self._keep(delta)
            return _BUFFERED
        last, first_id, last_id = self.last_update_id, delta.first_id, delta.last_id
        assert last is not None  # VALID means a snapshot was loaded
        # The rules of the module docstring, written out here: this runs for every delta.
        if self._spot:
            stale = last_id <= last
            follows = first_id <= last + 1 <= last_id if self._first else first_id == last + 1
        else:
            stale = last_id < last
            follows = first_id <= last <= last_id if self._first else delta.prev_last_id == last
        if stale:
            self.stale += 1
            return _STALE
        if not follows:
            self.gaps += 1
            error = SequenceGap(self._gap_message(delta))
            self._invalidate(str(error))
            self._keep(delta)  # it may follow the next snapshot
            raise error
        crossed = self.book.apply_delta(delta.bids, delta.asks)
        self.last_update_id = last_id
        self._first = False
        self.applied += 1
        if crossed:
            raise self._crossed(f"delta {first_id}..{last_id}")
        return _APPLIED

    # -- errors ------------------------------------------------------------------------------------

    def _gap_message(self, d: DeltaLike) -> str:
        last = self.last_update_id
        if self._first:
            want = f"U <= {last} + 1 <= u" if self.rules == "spot" else f"U <= {last} <= u"
            want += " (the first delta after a snapshot)"
        else:
            want = f"U == {last} + 1" if self.rules == "spot" else f"pu == {last}"
        pu = "" if d.prev_last_id is None else f" pu={d.prev_last_id}"
        return f"{self._label()}delta U={d.first_id} u={d.last_id}{pu} does not follow: need {want}"

    # -- state -------------------------------------------------------------------------------------

    def _invalidate(self, reason: str) -> None:
        self.status, self.reason = BookStatus.INVALID, reason

    def _keep(self, delta: DeltaLike) -> None:
        if len(self._buffer) == self._buffer.maxlen:
            self.overflowed += 1
        self._buffer.append(delta)

    def _crossed(self, what: str) -> CrossedBook:
        self.crossings += 1
        error = CrossedBook(f"{self._label()}{what} crossed the book: best bid {self.book.bid_price!r} "
                            f">= best ask {self.book.ask_price!r}")
        self._invalidate(str(error))
        return error

    def _label(self) -> str:
        return f"{self.name}: " if self.name else ""
