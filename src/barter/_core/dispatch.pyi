from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np
import numpy.typing as npt

from barter.data.event import MarketEvent
from barter.decision import Decision
from barter._core.book import OrderBook
from barter._core.position import PortfolioCore

class Signal:
    """Advisory decisions with strengths (the seed's ``Signal.signals`` map)."""
    def __init__(self, signals: Mapping[Decision | int, float], order: Optional[Any] = None) -> None: ...
    @property
    def order(self) -> Optional[Any]:
        """How to place the order (``barter.execution.LimitOrder``, BookExecution only); None: market."""
    @staticmethod
    def long(strength: float = 1.0, order: Optional[Any] = None) -> Signal: ...
    @staticmethod
    def close_long(strength: float = 1.0, order: Optional[Any] = None) -> Signal: ...
    @staticmethod
    def short(strength: float = 1.0, order: Optional[Any] = None) -> Signal: ...
    @staticmethod
    def close_short(strength: float = 1.0, order: Optional[Any] = None) -> Signal: ...
    @property
    def signals(self) -> dict[Decision, float]: ...

class MarketView:
    """Read-only view of the event being processed; valid only during the strategy call."""
    @property
    def time_ns(self) -> int: ...
    @property
    def market_id(self) -> int: ...
    @property
    def kind(self) -> int: ...
    @property
    def market(self) -> Any: ...
    @property
    def open(self) -> float: ...
    @property
    def high(self) -> float: ...
    @property
    def low(self) -> float: ...
    @property
    def close(self) -> float: ...
    @property
    def volume(self) -> float: ...
    @property
    def side(self) -> int: ...
    @property
    def price(self) -> float: ...
    @property
    def amount(self) -> float: ...
    @property
    def bid_price(self) -> float: ...
    @property
    def ask_price(self) -> float: ...
    @property
    def bid_amount(self) -> float: ...
    @property
    def ask_amount(self) -> float: ...
    book: Any
    def copy(self) -> MarketEvent: ...

class Tape:
    """Columnar events of one or more markets, merged by time (ties: lower market id) as processed."""
    n_markets: int
    length: int
    markets: list[Any]
    def __init__(self, markets: list[Any], kinds: Sequence[int],
                 columns: list[tuple[Any, Any, Any, Any, Any, Any, Optional[Any]]],
                 decisions: Optional[list[Any]] = None, strength: Optional[list[Any]] = None,
                 books: Optional[list[Optional[tuple[Any, Any, Any, Any, Any]]]] = None) -> None: ...
    def rewind(self) -> None: ...
    def merged_times(self, n: int) -> npt.NDArray[np.int64]:
        """The times of the first ``n`` events in merge order; the tape's position is kept."""
    def next_row(self, m: int) -> int:
        """Market ``m``'s next row to process (its rows processed so far)."""
    def book(self, m: int) -> Optional[OrderBook]:
        """Market ``m``'s ``OrderBook`` (book feeds), or None."""
    def set_hook(self, m: int, hook: Optional[Callable[[int], Any]]) -> None:
        """``hook(row)`` takes market ``m``'s book rows while the market is active, and applies each
        itself (``apply_row``)."""
    def set_active(self, m: int, flag: bool, watched: Optional[list[tuple[int, float]]] = None) -> None:
        """Hand market ``m``'s rows to its hook while ``flag``; ``watched`` (up to 8 (side, price))
        says the hook needs only the rows that touch one of them."""
    def apply_row(self, m: int, row: int) -> None:
        """Apply market ``m``'s book row ``row`` to its book."""

class Dispatcher:
    """The loop's per-event work for events arriving one at a time (live and paper trading)."""
    callbacks: list[Any]  # per market: generate_signal(view) -> Signal | None, or None
    view: MarketView
    def __init__(self, pf: PortfolioCore, callbacks: list[Any],
                 markets: list[Any], emit: Optional[Callable[[MarketView, Optional[Signal], int], None]] = None) -> None: ...
    def process(self, mid: int, time_ns: int, kind: int, open: float, high: float, low: float, close: float,
                volume: float, side: int = 0) -> float: ...

def run_strategies(tape: Tape, pf: PortfolioCore, callbacks: list[Any],
                   equity: Optional[npt.NDArray[np.float64]] = None,
                   times: Optional[npt.NDArray[np.int64]] = None,
                   emit: Optional[Callable[[MarketView, Optional[Signal], int], None]] = None,
                   drain: Optional[Callable[[int], bool]] = None,
                   progress: Optional[Callable[[int], Any]] = None, progress_every: int = 65536) -> tuple[int, int]: ...
def run_decisions(tape: Tape, pf: PortfolioCore, equity: Optional[npt.NDArray[np.float64]] = None,
                  times: Optional[npt.NDArray[np.int64]] = None,
                  drain: Optional[Callable[[int], bool]] = None,
                  progress: Optional[Callable[[int], Any]] = None, progress_every: int = 65536) -> tuple[int, int]: ...
