"""Historic L2 order books for backtests: the exchange's messages as columns, replayed in the core.

A ``HistoricalBook`` holds one market's book messages in time order (snapshots and deltas that
already passed the exchange's sequence rules) and, per message, the top of the book after it. The
engine applies each message to the market's compiled ``OrderBook`` as the event is processed, so a
strategy sees ``view.book`` as it stood then, and book-walking execution (``BookExecution``) fills
against it. Messages after which a side is empty cannot price anything: they are folded into the
next message (same final book), so every row a strategy sees has a bid and an ask.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Union

import numpy as np
import numpy.typing as npt

from barter._core.book import OrderBook
from barter.data.event import MarketEvent, Trade
from barter.data.historic import HistoricalTrades
from barter.errors import DataError
from barter.instrument import Market

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]


@dataclass(frozen=True, slots=True, eq=False)
class HistoricalBook:
    """One market's L2 book messages in time order, validated and replayed once on construction.

    Attributes
    ----------
    time_ns : numpy.ndarray of int64
        Message time, UNIX epoch ns (UTC); never decreasing.
    start : numpy.ndarray of int64
        The level updates of message ``i`` are rows ``start[i]:start[i + 1]`` (length n + 1).
    snapshot : numpy.ndarray of int8
        1 where the message replaces the whole book.
    side, price, size : numpy.ndarray
        Level updates: side 0 bid / 1 ask (``BookSide``), price quote per base unit, size base
        units (0 deletes the level).
    bid_price, bid_amount, ask_price, ask_amount, mid_price : numpy.ndarray of float64
        The top of the book after each message; ``mid_price`` is the seed's volume-weighted mid
        (what marks positions).
    source : str
    trades : HistoricalTrades or None
        The market's public trades over the same time, if known: they do not drive the strategy,
        but ``BookExecution`` feeds them to its venue, where resting limit orders move up their
        queues and fill as volume trades at their price.
    """

    time_ns: I64
    start: I64
    snapshot: I8
    side: I8
    price: F64
    size: F64
    bid_price: F64 = field(init=False)
    bid_amount: F64 = field(init=False)
    ask_price: F64 = field(init=False)
    ask_amount: F64 = field(init=False)
    mid_price: F64 = field(init=False)
    source: str = "arrays"
    trades: Optional[HistoricalTrades] = None

    def __post_init__(self) -> None:
        if self.trades is not None and not isinstance(self.trades, HistoricalTrades):
            raise DataError(f"{self.source}: trades must be HistoricalTrades, was {type(self.trades).__name__}")
        cols = _checked(self.time_ns, self.start, self.snapshot, self.side, self.price, self.size, self.source)
        top = _replay(*cols[1:], self.source)
        cols, top = _fold_one_sided(cols, top)
        for name, values in zip(("time_ns", "start", "snapshot", "side", "price", "size"), cols):
            object.__setattr__(self, name, values)
        for j, name in enumerate(("bid_price", "bid_amount", "ask_price", "ask_amount", "mid_price")):
            object.__setattr__(self, name, np.ascontiguousarray(top[:, j]))

    def __len__(self) -> int:
        return int(self.time_ns.shape[0])

    def __repr__(self) -> str:
        return f"HistoricalBook({len(self)} messages, {self.price.shape[0]} level updates, source={self.source!r})"

    def levels(self, i: int) -> tuple[bool, I8, F64, F64]:
        """Message ``i``: (is a snapshot, sides, prices, sizes), views of the columns."""
        lo, hi = int(self.start[i]), int(self.start[i + 1])
        return bool(self.snapshot[i]), self.side[lo:hi], self.price[lo:hi], self.size[lo:hi]

    @classmethod
    def from_events(cls, events: Iterable[MarketEvent], market: Optional[Market] = None, *,
                    source: str = "events") -> HistoricalBook:
        """From L2 snapshot and update events (``OrderBookL2Snapshot``/``OrderBookL2Update``, e.g. a
        recording) of one market, run through the exchange's sequence rules and checksums
        (``BookManager``): each row is the book a live session would have served after the event.
        Messages of a book that is not valid (before the first snapshot, after a gap until the next
        one) are left out, as a live session never shows them. An update is kept as its levels; a
        snapshot, the first update after a resync, and an update after which the exchange's book
        differs from the levels alone (Binance's buffered diffs, Kraken's depth limit) are kept as
        the whole book. Trade events become ``trades``; other kinds are skipped; another market's
        events raise ``DataError``.

        L2 messages are ordered by their update ids (the order the exchange's rules apply them),
        not by their stamps, which may come from different clocks: a REST snapshot stamped on
        receipt (local time) can look newer than the exchange-stamped diff applied after it. As a
        live session runs every L2 message at its trader's clock, a row stamped before the row
        before it takes that row's time, so ``time_ns`` never decreases."""
        from barter.data.exchange.books import BookManager, BookState, BookStatusEvent
        from barter.data.exchange.events import OrderBookL2Snapshot, OrderBookL2Update

        manager, rows, mirror, synced = BookManager(), _Rows(), OrderBook(), False
        trades: list[tuple[int, float, float, int, Market]] = []
        for event in events:
            kind = event.kind
            if isinstance(kind, Trade):
                trades.append((event.exchange_time_ns, kind.price, kind.amount, int(kind.side or 0), event.market))
            if not isinstance(kind, (OrderBookL2Snapshot, OrderBookL2Update)):
                continue
            if market is None:
                market = event.market
            elif event.market != market:
                raise DataError(f"{source}: an event of {event.market} among the book of {market}")
            if not manager.markets:
                manager.add(market)
            out = manager.process(event)
            if any(isinstance(e, BookStatusEvent) and e.state == BookState.INVALID for e in out):
                synced = False
            if not any(isinstance(e, MarketEvent) for e in out):
                continue
            book = manager.book(market)
            if synced and isinstance(kind, OrderBookL2Update):
                mirror.apply_delta(kind.bids, kind.asks)
                if (mirror.n_bids, mirror.n_asks) == (book.n_bids, book.n_asks):
                    rows.add(event.exchange_time_ns, False, kind.bids, kind.asks)
                    continue
            bids, asks = (np.column_stack(book.depth(s)) for s in (0, 1))
            mirror.apply_snapshot(bids, asks)
            rows.add(event.exchange_time_ns, True, bids, asks)
            synced = True
        if market is None:
            raise DataError(f"{source}: no L2 book events")
        tape, trades = None, [x for x in trades if x[4] == market]
        if trades:
            t, price, amount, side, _ = zip(*sorted(trades, key=lambda x: x[0]))
            tape = HistoricalTrades.from_arrays(np.array(t, np.int64), price, amount, np.array(side, np.int8),
                                                source=source)
        return cls(*rows.columns(), source=source, trades=tape)

    @classmethod
    def from_recording(cls, path: Union[str, Path], market: Market) -> HistoricalBook:
        """From a recording of ``barter.data.exchange.EventRecorder`` (JSON lines or Parquet)."""
        from barter.data.exchange.recorder import read_events

        events = (e for e in read_events(path) if isinstance(e, MarketEvent) and e.market == market)
        return cls.from_events(events, market, source=str(path))


class _Rows:
    """Messages collected one at a time, as columns."""

    def __init__(self) -> None:
        self.time_ns: list[int] = []
        self.snapshot: list[bool] = []
        self.counts: list[int] = []
        self.sides: list[np.ndarray] = []
        self.levels: list[np.ndarray] = []

    def add(self, time_ns: int, snapshot: bool, bids: object, asks: object) -> None:
        """A message at ``time_ns``, or at the previous message's time when stamped before it
        (the book's clock never goes back; see ``HistoricalBook.from_events``)."""
        b = np.asarray(bids, dtype=np.float64).reshape(-1, 2)
        a = np.asarray(asks, dtype=np.float64).reshape(-1, 2)
        self.time_ns.append(max(time_ns, self.time_ns[-1]) if self.time_ns else time_ns)
        self.snapshot.append(snapshot)
        self.counts.append(len(b) + len(a))
        self.sides.append(np.repeat(np.array([0, 1], dtype=np.int8), [len(b), len(a)]))
        self.levels.append(np.concatenate([b, a]))

    def columns(self) -> tuple[I64, I64, I8, I8, F64, F64]:
        levels = np.concatenate(self.levels) if self.levels else np.empty((0, 2))
        start = np.concatenate([[0], np.cumsum(self.counts, dtype=np.int64)]).astype(np.int64)
        sides = np.concatenate(self.sides) if self.sides else np.empty(0, np.int8)
        return (np.asarray(self.time_ns, dtype=np.int64), start, np.asarray(self.snapshot, dtype=np.int8),
                sides, np.ascontiguousarray(levels[:, 0]), np.ascontiguousarray(levels[:, 1]))


def _checked(time_ns: npt.ArrayLike, start: npt.ArrayLike, snapshot: npt.ArrayLike, side: npt.ArrayLike,
             price: npt.ArrayLike, size: npt.ArrayLike, source: str) -> tuple[I64, I64, I8, I8, F64, F64]:
    """The columns as C-contiguous arrays of their types; shapes and time order checked (the
    level values are checked by the book's replay, which names the bad update)."""
    for name, values in (("time_ns", time_ns), ("start", start), ("side", side)):
        raw = np.asarray(values)
        if raw.size and raw.dtype.kind not in "iub":  # casting would truncate 1.5 to 1 silently
            raise DataError(f"{source}: {name} must be integers, was {raw.dtype} (first {raw.ravel()[0].item()!r})")
    flags = np.asarray(snapshot)
    odd = np.flatnonzero((flags != 0) & (flags != 1)) if flags.ndim == 1 else np.empty(0, np.int64)
    if odd.size:
        raise DataError(f"{source}: message {int(odd[0])}: snapshot must be 0 or 1, was {flags[odd[0]].item()!r}")
    t = np.ascontiguousarray(time_ns, dtype=np.int64)
    s = np.ascontiguousarray(start, dtype=np.int64)
    cols = (t, s, np.ascontiguousarray(snapshot, dtype=np.int8), np.ascontiguousarray(side, dtype=np.int8),
            np.ascontiguousarray(price, dtype=np.float64), np.ascontiguousarray(size, dtype=np.float64))
    if any(c.ndim != 1 for c in cols):
        raise DataError(f"{source}: every column must be 1-D")
    if s.shape[0] != t.shape[0] + 1 or cols[2].shape[0] != t.shape[0]:
        raise DataError(f"{source}: {t.shape[0]} messages need {t.shape[0] + 1} starts and {t.shape[0]} snapshot "
                        f"flags, got {s.shape[0]} and {cols[2].shape[0]}")
    if not cols[3].shape[0] == cols[4].shape[0] == cols[5].shape[0]:
        raise DataError(f"{source}: side, price and size must have one row per level update")
    if t.shape[0] and (s[0] != 0 or s[-1] != cols[3].shape[0] or np.any(np.diff(s) < 0)):
        raise DataError(f"{source}: starts must rise from 0 to the {cols[3].shape[0]} level updates")
    late = np.flatnonzero(np.diff(t) < 0)
    if late.size:
        i = int(late[0]) + 1
        raise DataError(f"{source}: message {i} at {int(t[i])} is older than message {i - 1} at {int(t[i - 1])}")
    # the book takes price 0 (deleting is harmless) but a level there would price the market at 0
    zero = np.flatnonzero((cols[4] == 0) & (cols[5] > 0))
    if zero.size:
        k = int(zero[0])
        raise DataError(f"{source}: update {k} (message {int(np.searchsorted(s, k, 'right')) - 1}): a level at "
                        f"price 0 must have size 0, was {float(cols[5][k])!r}")
    return cols  # type: ignore[return-value]


def _replay(start: I64, snapshot: I8, side: I8, price: F64, size: F64, source: str) -> F64:
    """The top of the book after each message; a crossed book is bad data."""
    top = np.empty((snapshot.shape[0], 5))
    try:
        crossed = OrderBook().replay_messages(start, snapshot, side, price, size, top)
    except (DataError, ValueError) as exc:
        raise DataError(f"{source}: {exc}") from exc
    if crossed >= 0:
        raise DataError(f"{source}: the book is crossed after message {crossed} "
                        f"(best bid {top[crossed, 0]!r} >= best ask {top[crossed, 2]!r})")
    return top


def _fold_one_sided(cols: tuple, top: F64) -> tuple[tuple, F64]:
    """Merge each message after which a side is empty into the next message, which then carries
    its updates first (dropped when the next one is a snapshot) and its snapshot flag; trailing
    such messages are dropped. The book after each kept message is unchanged."""
    t, start, snapshot, side, price, size = cols
    shown = ~(np.isnan(top[:, 0]) | np.isnan(top[:, 2]))
    if shown.all():
        return cols, top
    kept = np.flatnonzero(shown)
    owner = np.searchsorted(kept, np.arange(t.shape[0]))  # the kept message each message folds into
    live = owner < kept.shape[0]
    # a message's updates are dropped when a later snapshot in the same group replaces them
    group_snapshot = np.zeros(kept.shape[0] + 1, dtype=np.int64) - 1
    np.maximum.at(group_snapshot, owner, np.where(snapshot.astype(bool), np.arange(t.shape[0]), -1))
    keep_msg = live & (np.arange(t.shape[0]) >= group_snapshot[owner])
    counts = np.diff(start)
    keep_level = np.repeat(keep_msg, counts)
    new_counts = np.bincount(owner[keep_msg], weights=counts[keep_msg], minlength=kept.shape[0]).astype(np.int64)
    new_snapshot = (group_snapshot[:kept.shape[0]] >= 0).astype(np.int8)
    new_start = np.concatenate([[0], np.cumsum(new_counts)]).astype(np.int64)
    folded = (t[kept], new_start, new_snapshot, side[keep_level], price[keep_level], size[keep_level])
    return tuple(np.ascontiguousarray(c) for c in folded), np.ascontiguousarray(top[kept])
