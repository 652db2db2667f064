"""The event stream: listeners, a JSON-lines file sink, and the emitter the loop calls per event."""
from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Union

from barter._core.dispatch import MarketView, Signal
from barter.decision import Decision
from barter.engine import codec
from barter.errors import DataError
from barter.engine.events import (BalanceUpdate, Event, PositionExit, PositionNew, PositionUpdate,
                                  SignalEvent)
from barter.execution.events import Fees, FillEvent, OrderEvent
from barter.portfolio.portfolio import Portfolio
from barter.portfolio.position import position_id

Listener = Callable[[Event], Any]


def as_listener(target: Any) -> Listener:
    """A callable, a queue (anything with ``put``) or a sink, as one callable."""
    if hasattr(target, "put") and not callable(target):
        return target.put
    if callable(target):
        return target
    raise TypeError(f"a listener must be callable or have put(), was {type(target).__name__}")


class JsonLinesSink:
    """Writes each event as one JSON line (``codec.dumps``); ``read_events`` reads them back."""

    def __init__(self, path: Union[str, Path]) -> None:
        self.path = Path(path)
        self._file: Optional[io.TextIOWrapper] = open(self.path, "w", encoding="utf-8")

    def __call__(self, event: Event) -> None:
        if self._file is None:
            raise ValueError(f"{self.path} is closed")
        self._file.write(codec.dumps(event))
        self._file.write("\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> JsonLinesSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncEvents:
    """A listener that is also an async iterator: ``async for event in stream`` in an asyncio task
    while the engine runs (a backtest in another thread, or a live session in the same loop).

    Create it inside the consuming event loop. Iteration ends when the engine's run ends.
    """

    _END = object()

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[Any] = asyncio.Queue()

    def __call__(self, event: Event) -> None:
        self._loop.call_soon_threadsafe(self._queue.put_nowait, event)

    def end(self) -> None:
        """Called by the engine when its run ends."""
        self._loop.call_soon_threadsafe(self._queue.put_nowait, self._END)

    def __aiter__(self) -> AsyncEvents:
        return self

    async def __anext__(self) -> Event:
        event = await self._queue.get()
        if event is self._END:
            raise StopAsyncIteration
        return event


def read_events(path: Union[str, Path]) -> Iterator[Event]:
    with open(path, encoding="utf-8") as lines:
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as e:  # e.g. the last line of a run that was killed
                raise DataError(f"{path}: line {n} is not JSON: {e}") from e
            yield codec.decode(value)


class Emitter:
    """Builds the events of each processed market event from the view and the portfolio's records.

    Called by the compiled loop only when someone listens, so the stream costs nothing otherwise.
    """

    def __init__(self, portfolio: Portfolio, listeners: list[Listener]) -> None:
        self.portfolio = portfolio
        self.listeners = listeners
        self.exits_seen = 0
        self._deferred: list[Event] = []

    def defer(self, event: Event) -> None:
        """Publish ``event`` after the fills being booked now (see ``publish_fills``)."""
        self._deferred.append(event)

    def publish(self, event: Event) -> None:
        for listener in self.listeners:
            listener(event)

    def __call__(self, view: MarketView, signal: Optional[Signal], fills_before: int) -> None:
        market, t = view.market, view.time_ns
        self.publish(view.copy())
        if signal is not None:
            self.publish(SignalEvent(t, market, signal.signals))
        update = self._marked_position(view.market_id, fills_before)
        if update is not None:
            self.publish(PositionUpdate(t, market, position_id(self.portfolio.engine_id, market),
                                        update["current_symbol_price"], update["current_value_gross"],
                                        update["unrealised_pnl"]))
        self.publish_fills(fills_before)

    def _marked_position(self, mid: int, fills_before: int) -> Optional[dict[str, Any]]:
        """The position as marked this event (core record), before any fill of the event changed it."""
        core = self.portfolio.core
        if core.n_fills > fills_before and core.n_exits > self.exits_seen:
            return core.exits_list(self.exits_seen)[0]  # its entry state holds the mark
        if core.n_fills > fills_before:
            return None  # entered (or partly exited) this event: the state before the fill is not kept
        return core.position(mid)

    def _closed_by(self, k: int) -> bool:
        """Whether fill ``k`` closed its position (else it was a partial exit)."""
        core = self.portfolio.core
        return core.n_exits > self.exits_seen and core.exits_list(self.exits_seen)[0]["fill_index"] == k

    def _publish_reduced(self, t: int, mid: int) -> None:
        """A partial exit (beyond the seed): the reduced position's state. The core keeps only its
        latest state, which is this fill's unless a later fill of the batch (one market event or
        command) changed it again; none is published when a later fill closed it."""
        p = self.portfolio.core.position(mid)
        if p is not None:
            market = self.portfolio.markets[mid]
            self.publish(PositionUpdate(t, market, position_id(self.portfolio.engine_id, market),
                                        p["current_symbol_price"], p["current_value_gross"], p["unrealised_pnl"]))

    def publish_fills(self, start: int) -> None:
        """Order, fill, position and balance events of fills ``start`` .. the latest."""
        portfolio, core = self.portfolio, self.portfolio.core
        for k in range(start, core.n_fills):
            f = core.fill_record(k)
            market, t, decision = portfolio.markets[f["market_id"]], f["time_ns"], Decision(f["decision"])
            self.publish(OrderEvent(t, market, decision, f["price"], f["quantity"]))
            self.publish(FillEvent(t, market, decision, f["price"], f["quantity"], f["fill_value_gross"],
                                   Fees(*f["fees"])))
            if decision.is_entry:
                self.publish(PositionNew(t, market, portfolio.position(market)))  # type: ignore[arg-type]
            elif self._closed_by(k):
                self.publish(PositionExit(t, market, portfolio.exited_position(self.exits_seen)))
                self.exits_seen += 1
            else:
                self._publish_reduced(t, f["market_id"])
            self.publish(BalanceUpdate(t, market, portfolio.balance))
        deferred, self._deferred = self._deferred, []
        for event in deferred:
            self.publish(event)
