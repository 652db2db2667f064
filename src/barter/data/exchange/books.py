"""L2 books kept from a feed's snapshot and update events, with their integrity published as events.

Each market's book follows its exchange's rules (``SEQUENCE_RULES``):

- ``binance_spot`` / ``binance_futures``: ``barter.data.book.SequencedBook`` (update ids ``U``/``u``
  /``pu``); a resync needs a REST snapshot (``barter.integration.rest``);
- ``okx``: ``prevSeqId`` equals the last ``seqId`` (when given), and the CRC32 of the top 25 levels
  matches ``checksum``;
- ``bybit``: ``u`` is the last ``u`` + 1; a snapshot (also ``u`` = 1 after a restart) replaces the book;
- ``coinbase``: the connection's ``sequence_num`` runs without a gap (the parser marks an update that
  follows one with ``prev_last_id`` = -1);
- ``kraken``: the CRC32 of the top 10 levels matches; the book is truncated to its subscribed depth.

A book that misses an update, fails its checksum or crosses turns INVALID at once: a
``BookStatusEvent`` says so with the reason, the market joins ``pending_resyncs``, and ``book()``
raises ``BookOutOfSync`` until a snapshot makes it valid again (RESYNCED). A stale book is never served:
the updates of an INVALID book are dropped (Binance's are buffered for the next snapshot), and a
reconnect (``invalidate``) marks every book of that exchange INVALID.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Optional, Sequence, Union

from barter._core.book import BookManagerBase
from barter.data.book import ASK, BID, BookStatus, DeltaResult, OrderBook, SequencedBook
from barter.data.event import MarketEvent
from barter.data.exchange.checksum import TextCache, kraken_checksum, okx_checksum
from barter.data.exchange.events import OrderBookL2Snapshot, OrderBookL2Update
from barter.errors import BookOutOfSync, ConfigError, CrossedBook, SequenceGap
from barter.instrument import Market

__all__ = ["BookCounters", "BookManager", "BookState", "BookStatusEvent", "ChecksumMismatch", "SEQUENCE_RULES",
           "StreamBook"]

SEQUENCE_RULES = ("binance_spot", "binance_futures", "okx", "bybit", "coinbase", "kraken")
_RULES_OF_EXCHANGE = {"binance": "binance_spot", "binance_futures_usd": "binance_futures", "okx": "okx",
                      "bybit_spot": "bybit", "bybit_perpetuals_usd": "bybit", "coinbase": "coinbase",
                      "kraken": "kraken"}


_VALID = BookStatus.VALID
_BUFFERED = DeltaResult.BUFFERED
_L2_KINDS = (OrderBookL2Snapshot, OrderBookL2Update)


class ChecksumMismatch(BookOutOfSync):
    """Our book's CRC32 differs from the one the exchange published with an update."""


class BookState(IntEnum):
    INVALID = 0    # gap, checksum mismatch, crossed, reconnect or no snapshot yet: not served
    RESYNCING = 1  # a new snapshot has been asked for
    RESYNCED = 2   # valid again after a snapshot


@dataclass(frozen=True, slots=True)
class BookStatusEvent:
    """A change of a book's integrity.

    Attributes
    ----------
    market : Market
    state : BookState
    reason : str
        Why (the gap, the checksums, "reconnecting"); "" on RESYNCED.
    time_ns : int
        Exchange time of the event that caused it (receive time for reconnects), UNIX epoch ns.
    """

    market: Market
    state: BookState
    reason: str
    time_ns: int


@dataclass(slots=True)
class BookCounters:
    """Per-book counters: updates applied, gaps, checksum mismatches, crossings, resyncs."""

    applied: int = 0
    gaps: int = 0
    checksum_failures: int = 0
    crossings: int = 0
    resyncs: int = 0


def _apply(book: OrderBook, bids: Sequence[tuple[float, float]], asks: Sequence[tuple[float, float]]) -> None:
    """Apply the levels in one compiled call (tuples of floats need no NumPy array)."""
    book.apply_delta(bids, asks)


@dataclass(slots=True)
class StreamBook:
    """A book fed by the exchange's own snapshot messages and sequenced, checksummed updates.

    ``snapshot`` and ``update`` raise ``BookOutOfSync`` (``SequenceGap``, ``ChecksumMismatch``,
    ``CrossedBook``) and leave the book INVALID; updates to an INVALID book are ignored.
    """

    rules: str
    name: str = ""
    book: OrderBook = field(default_factory=OrderBook)
    valid: bool = False
    reason: str = "no snapshot yet"
    last_id: Optional[int] = None
    decimals: Optional[tuple[int, int]] = None
    depth: Optional[int] = None
    counters: BookCounters = field(default_factory=BookCounters)
    # Checksum text of each price and size seen (prices, sizes: Kraken's decimals differ per kind).
    _texts: tuple[TextCache, TextCache] = field(default_factory=lambda: ({}, {}))

    def snapshot(self, snap: OrderBookL2Snapshot) -> None:
        self.book.clear()
        _apply(self.book, snap.bids, snap.asks)
        self.last_id = snap.last_update_id
        if snap.decimals and snap.decimals != self.decimals:
            self._texts = ({}, {})
        self.decimals = snap.decimals or self.decimals
        self.depth = snap.depth or self.depth
        self.valid, self.reason = True, ""
        self._check(snap.checksum, f"snapshot {snap.last_update_id}")

    def update(self, u: OrderBookL2Update) -> bool:
        """Apply ``u``; False if the book is INVALID (``u`` ignored)."""
        if not self.valid:
            return False
        if not self._follows(u):
            self.counters.gaps += 1
            raise self._invalid(SequenceGap(f"{self.name}: update {u.first_id} (prev {u.prev_last_id}) does not "
                                            f"follow {self.last_id} ({self.rules} rules)"))
        _apply(self.book, u.bids, u.asks)
        if self.depth is not None:
            self.book.truncate(BID, self.depth)
            self.book.truncate(ASK, self.depth)
        self.last_id = u.last_id
        self.counters.applied += 1
        self._check(u.checksum, f"update {u.last_id}")
        return True

    def _follows(self, u: OrderBookL2Update) -> bool:
        last, rules = self.last_id, self.rules
        if rules == "okx":
            return u.prev_last_id is None or u.prev_last_id == last
        if rules == "bybit":
            return last is None or u.first_id == last + 1
        if rules == "coinbase":
            return u.prev_last_id == u.first_id - 1
        return True

    def _check(self, checksum: Optional[int], what: str) -> None:
        book = self.book
        if book.is_crossed:
            self.counters.crossings += 1
            raise self._invalid(CrossedBook(f"{self.name}: {what} crossed the book: best bid {book.bid_price!r} "
                                            f">= best ask {book.ask_price!r}"))
        if checksum is None:
            return
        if self.rules == "okx":
            ours = okx_checksum(book, self._texts[0])
        elif self.rules == "kraken" and self.decimals is not None:
            ours = kraken_checksum(book, *self.decimals, cache=self._texts)
        else:
            return
        if ours != checksum:
            self.counters.checksum_failures += 1
            raise self._invalid(ChecksumMismatch(f"{self.name}: {what}: checksum {ours} != exchange's {checksum}"))

    def _invalid(self, error: BookOutOfSync) -> BookOutOfSync:
        self.valid, self.reason = False, str(error)
        return error


class _BinanceBook:
    """``SequencedBook`` behind the ``StreamBook`` interface."""

    def __init__(self, rules: str, name: str) -> None:
        self.seq = SequencedBook("spot" if rules == "binance_spot" else "futures", name)
        self.rules, self.name = rules, name
        self._counters = BookCounters()

    @property
    def counters(self) -> BookCounters:
        """The counters, brought up to date from the ``SequencedBook`` when read (not per update)."""
        c, s = self._counters, self.seq
        c.applied, c.gaps, c.crossings = s.applied, s.gaps, s.crossings
        return c

    @property
    def book(self) -> OrderBook:
        return self.seq.book

    @property
    def valid(self) -> bool:
        return self.seq.status == _VALID

    @property
    def reason(self) -> str:
        return self.seq.reason

    def snapshot(self, snap: OrderBookL2Snapshot) -> None:
        self.seq.snapshot(snap)  # its tuples of float levels go to the book without NumPy

    def update(self, u: OrderBookL2Update) -> bool:
        # its tuples of float levels go to the book without NumPy; BUFFERED while INVALID
        return self.seq.delta(u) != _BUFFERED


AnyBook = Union[StreamBook, _BinanceBook]


class BookManager(BookManagerBase):
    """The L2 books of many markets, each with its exchange's rules, publishing their integrity.

    ``process(event)`` takes every market event: L2 snapshots and updates go to their market's
    book and come back (with any ``BookStatusEvent``) only while the book is valid; other events pass
    through unchanged.
    """

    def __init__(self) -> None:
        self._books: dict[Market, AnyBook] = {}
        # id(market) -> (market, book, its SequencedBook for Binance): a parser hands out the
        # same Market objects, and hashing a Market runs three generated __hash__ methods. The
        # market is kept so its id stays its own.
        self._by_id: dict[int, tuple[Market, AnyBook, Optional[SequencedBook]]] = {}
        self._update_type = OrderBookL2Update
        self.pending_resyncs: dict[Market, str] = {}

    def add(self, market: Market, rules: Optional[str] = None) -> None:
        """Keep a book for ``market`` (rules from its exchange when not given)."""
        rules = rules or _RULES_OF_EXCHANGE.get(market.exchange.name)
        if rules not in SEQUENCE_RULES:
            raise ConfigError(f"no L2 sequence rules for {market}; give one of {SEQUENCE_RULES}, was {rules!r}")
        name = str(market)
        self._books[market] = _BinanceBook(rules, name) if rules.startswith("binance") else StreamBook(rules, name)
        self._by_id.clear()  # an equal market added again replaces its book
        self.pending_resyncs[market] = "no snapshot yet"

    @property
    def markets(self) -> list[Market]:
        return list(self._books)

    def book(self, market: Market) -> OrderBook:
        """``market``'s book; raises ``BookOutOfSync`` while it is not valid (never a stale book)."""
        entry = self._entry(market)
        if not entry.valid:
            raise BookOutOfSync(f"{market}: book not valid: {entry.reason}")
        return entry.book

    def is_valid(self, market: Market) -> bool:
        return self._entry(market).valid

    def counters(self, market: Market) -> BookCounters:
        return self._entry(market).counters

    # process(event): compiled (BookManagerBase) for an update to a Binance book in the id cache;
    # every other event comes here.

    def _process(self, event: MarketEvent) -> list[Union[MarketEvent, BookStatusEvent]]:
        kind, market = event.kind, event.market
        if not isinstance(kind, _L2_KINDS):
            return [event]
        entry = self._lookup(market)
        if entry is None:
            return [event]
        was_valid = True  # an update is applied only to a valid book (else it returns False)
        try:
            if isinstance(kind, OrderBookL2Snapshot):
                was_valid = entry.valid
                entry.snapshot(kind)
            elif not entry.update(kind):
                return []
        except BookOutOfSync as e:
            return self._out_of_sync(market, e, event)
        if was_valid:
            return [event]
        self.pending_resyncs.pop(market, None)
        entry.counters.resyncs += 1
        return [BookStatusEvent(market, BookState.RESYNCED, "", event.exchange_time_ns), event]

    def _out_of_sync(self, market: Market, error: BookOutOfSync, event: MarketEvent) -> list[BookStatusEvent]:
        self.pending_resyncs[market] = str(error)
        return [BookStatusEvent(market, BookState.INVALID, str(error), event.exchange_time_ns)]

    def invalidate(self, exchange: str, reason: str, time_ns: int) -> list[BookStatusEvent]:
        """Mark every valid book of ``exchange`` INVALID (e.g. its connection dropped)."""
        out = []
        for market, entry in self._books.items():
            if market.exchange.name == exchange and entry.valid:
                self._mark_invalid(entry, reason)
                self.pending_resyncs[market] = reason
                out.append(BookStatusEvent(market, BookState.INVALID, reason, time_ns))
        return out

    def resyncing(self, market: Market, time_ns: int) -> BookStatusEvent:
        """Note that a snapshot for ``market`` has been asked for."""
        self.pending_resyncs.pop(market, None)
        return BookStatusEvent(market, BookState.RESYNCING, "", time_ns)

    def _lookup(self, market: Market) -> Optional[AnyBook]:
        cached = self._by_id.get(id(market))
        if cached is not None and cached[0] is market:
            return cached[1]
        entry = self._books.get(market)
        if entry is not None:
            if len(self._by_id) > 4 * len(self._books) + 64:  # many distinct but equal Market objects
                self._by_id.clear()
            # A Binance book's updates go straight to its (compiled) SequencedBook.
            seq = entry.seq if isinstance(entry, _BinanceBook) else None
            self._by_id[id(market)] = (market, entry, seq)
        return entry

    def _entry(self, market: Market) -> AnyBook:
        try:
            return self._books[market]
        except KeyError:
            raise ConfigError(f"no book kept for {market}") from None

    @staticmethod
    def _mark_invalid(entry: AnyBook, reason: str) -> None:
        if isinstance(entry, StreamBook):
            entry.valid, entry.reason = False, reason
        else:
            entry.seq._invalidate(reason)
