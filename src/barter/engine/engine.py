"""The engine (the seed's Engine): traders, one per market, sharing a portfolio.

A backtest merges every trader's events by time and runs them on one thread in the compiled loop,
so the same inputs always give the same fills. The per-event order is the seed's (SEED.md §6).
"""
from __future__ import annotations

import queue
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Sequence, Union

import numpy as np

from barter._core.dispatch import Signal, run_decisions, run_strategies
from barter.data.historic_book import HistoricalBook
from barter.engine.commands import Command, ExitAllPositions, ExitPosition, FetchOpenPositions, Terminate
from barter.engine.events import CommandReply, EngineError, SessionStart
from barter.engine.desk import backtest_desks
from barter.engine.stream import Emitter, as_listener
from barter.engine.tape import build_tape
from barter.errors import ConfigError, ConfigWarning, EngineStopped, StrategyError, UnknownMarket
from barter.execution.book_execution import BookExecution
from barter.execution.simulated import SimulatedExecution
from barter.instrument import Market
from barter.portfolio.portfolio import Portfolio
from barter.statistic.summary import SummaryTable
from barter.decision import Decision
from barter.strategy.base import PrecomputedSignals, SignalForceExit, Strategy


PROGRESS_EVERY = 65_536  # events between progress calls: negligible next to the loop's own work


@dataclass
class Trader:
    """One market: its data, its strategy and its execution.

    ``data``: ``HistoricalCandles``/``HistoricalTrades``/``HistoricalQuotes``/``HistoricalBook``, a DataFrame or a
    CSV/Parquet/JSON path (loaded as candles), or an async iterable of ``MarketEvent`` (a live feed).
    ``execution``: ``SimulatedExecution`` (fills at the event's price) or, for L2 book data,
    ``BookExecution`` (orders walk the book).
    """

    market: Market
    data: Any
    strategy: Strategy
    execution: Union[SimulatedExecution, BookExecution] = field(default_factory=SimulatedExecution)

    def __post_init__(self) -> None:
        if not isinstance(self.market, Market):
            raise ConfigError(f"trader market must be a Market, was {self.market!r}")
        if not hasattr(self.data, "__aiter__"):  # a DataFrame or a file path becomes historic candles
            from barter.backtest import load

            self.data = load(self.data)
        check_strategy_instance(self.strategy, f"{self.market}: ")
        if isinstance(self.strategy, PrecomputedSignals) and len(self.strategy.decisions) != len(self.data.time_ns):
            raise ConfigError(f"{self.market}: {len(self.strategy.decisions)} precomputed decisions "
                              f"for {len(self.data.time_ns)} events")
        if not isinstance(self.strategy, PrecomputedSignals) and not callable(
                getattr(self.strategy, "generate_signal", None)):
            raise ConfigError(f"{self.market}: strategy needs a generate_signal(market) method")
        if not isinstance(self.execution, (SimulatedExecution, BookExecution)):
            raise ConfigError(f"{self.market}: execution must be SimulatedExecution or BookExecution, "
                              f"was {type(self.execution).__name__}")
        if isinstance(self.execution, BookExecution) and not (
                hasattr(self.data, "__aiter__") or isinstance(self.data, HistoricalBook)):
            raise ConfigError(f"{self.market}: BookExecution needs an L2 book (HistoricalBook or a live feed), "
                              f"got {type(self.data).__name__}")


def check_strategy_instance(strategy: Any, where: str = "") -> None:
    """A strategy class instead of an instance (its generate_signal would want ``self``) is a
    ConfigError naming the fix; ``where`` prefixes the message."""
    if isinstance(strategy, type):
        name = strategy.__name__
        raise ConfigError(f"{where}strategy must be an instance, e.g. {name}(), was the class {name}")


def _check_traders(traders: list[Trader]) -> None:
    """Traders, each with its own strategy object; warns when quote currencies differ (the
    portfolio adds every market's PnL as one currency)."""
    seen: dict[int, Market] = {}
    for trader in traders:
        if not isinstance(trader, Trader):
            raise ConfigError(f"traders must be barter.Trader objects, got {type(trader).__name__}")
        first = seen.setdefault(id(trader.strategy), trader.market)
        if first != trader.market and not isinstance(trader.strategy, PrecomputedSignals):
            warnings.warn(f"{first} and {trader.market} share one {type(trader.strategy).__name__} object: its "
                          "state (indicators, counters) mixes both markets; give each trader its own",
                          ConfigWarning, stacklevel=3)
    quotes = sorted({t.market.instrument.quote for t in traders})
    if len(quotes) > 1:
        warnings.warn(f"markets quote in {', '.join(quotes)}: the portfolio's cash, PnL and equity add them "
                      "as one currency", ConfigWarning, stacklevel=3)


class Engine:
    """Runs traders over a shared portfolio.

    Parameters
    ----------
    traders : sequence of Trader
        One per market.
    portfolio : Portfolio
    record_equity : bool
        Keep the portfolio equity at every event time, after the last event at that time and
        the fills of commands run right after it (``equity`` and ``time_ns`` after ``run``).
    listeners : iterable
        Receive every event in order (see ``barter.engine.events``): callables, queues (anything
        with ``put``) or sinks such as ``JsonLinesSink``. More can be added with ``subscribe``.
    on_error : "stop" or "skip"
        When a strategy raises: "stop" reports an ``EngineError`` event and re-raises; "skip"
        reports it and stops calling that trader's strategy (its open position stays, still marked
        to market); the other traders carry on unchanged.
    max_late_ns : int
        (live) An event stamped up to this much before its trader's previous event runs at that
        trader's clock: exchanges stamp kinds from different clocks (Binance: trades at their trade
        time, depth at its event time). An older one is reported (``EngineError``, "skip") and
        skipped, except L2 messages, which always reach the book (sequenced by update ids). Default 1 s.

    A trader whose ``data`` is an async iterable of ``MarketEvent`` (a live feed) makes ``run`` a live
    session: each feed is consumed as its events arrive (see ``barter.engine.live``).
    """

    def __init__(self, traders: Sequence[Trader], portfolio: Portfolio, *, record_equity: bool = True,
                 listeners: Iterable[Any] = (), on_error: str = "stop",
                 max_late_ns: int = 1_000_000_000) -> None:
        if not traders:
            raise ConfigError("an engine needs at least one trader")
        if on_error not in ("stop", "skip"):
            raise ConfigError(f"on_error must be 'stop' or 'skip', was {on_error!r}")
        self.on_error = on_error
        if isinstance(max_late_ns, bool) or not (isinstance(max_late_ns, int) and max_late_ns >= 0):
            raise ConfigError(f"max_late_ns must be an int >= 0, was {max_late_ns!r}")
        self.max_late_ns = max_late_ns
        self.late_events = 0  # (live) events run at their trader's clock, not their own time
        self.traders = list(traders)
        if not isinstance(portfolio, Portfolio):
            raise ConfigError(f"portfolio must be a barter.portfolio.Portfolio, was {type(portfolio).__name__}")
        _check_traders(self.traders)
        self.portfolio = portfolio
        self.record_equity = record_equity
        self.engine_id = portfolio.engine_id
        self._time_ns: Optional[np.ndarray] = None
        self._merged: Optional[tuple[Any, int]] = None  # (tape, events) whose times time_ns reads
        self.equity: Optional[np.ndarray] = None
        self.events = 0
        self.elapsed_s = 0.0
        self.terminated = False
        self._targets = list(listeners)
        self._listeners = [as_listener(x) for x in self._targets]
        self._commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self._emitter: Optional[Emitter] = None
        self._wake: Optional[Callable[[], None]] = None  # set by a live session to drain at once
        self._ended = False  # the run ended: commands are refused, replies of waiting ones fail

    @property
    def time_ns(self) -> Optional[np.ndarray]:
        """The time of each point of ``equity`` (int64 UNIX ns, UTC, one per time); None before ``run``.

        After a backtest they are read from the tape the first time they are asked for (the loop
        writes only the equity): the traders' data must not change before."""
        if self._merged is not None:
            tape, events = self._merged
            times = tape.merged_times(events)
            self._time_ns, self._merged = times[np.append(times[1:] != times[:-1], True)[:len(times)]], None
        return self._time_ns

    @time_ns.setter
    def time_ns(self, value: Optional[np.ndarray]) -> None:
        self._time_ns, self._merged = value, None

    @property
    def markets(self) -> list[Market]:
        return [t.market for t in self.traders]

    def subscribe(self, listener: Any) -> None:
        """Add a listener (before ``run``)."""
        self._targets.append(listener)
        self._listeners.append(as_listener(listener))

    def send(self, command: Command) -> None:
        """Queue a command, from any thread; it runs before the next market event, at the time of
        the latest one (the engine's clock), or, sent during the last event, before ``run``
        returns. After the run ended it raises ``EngineStopped``; a command still waiting when a
        run stops on an error is not run, and its reply (``FetchOpenPositions``) gets that error."""
        if not isinstance(command, Command):  # else only a listener would ever hear of it
            raise TypeError(f"engine.send takes a barter.engine.commands command, was {command!r}")
        if self._ended:
            raise EngineStopped(f"the engine's run has ended: {type(command).__name__} was not run")
        self._commands.put(command)
        if self._ended:  # the run ended while it was queued: its reply must not wait forever
            self._refuse_waiting()
        if self.portfolio._core is not None:
            self.portfolio._core.interrupt = True
        if self._wake is not None:
            self._wake()

    @property
    def is_live(self) -> bool:
        return any(hasattr(t.data, "__aiter__") for t in self.traders)

    def run(self, progress: Optional[Callable[[int, int], Any]] = None, *,
            progress_every: int = PROGRESS_EVERY) -> None:
        """Process every event of every trader; returns when all feeds end or on ``Terminate``.

        A backtest merges the traders' historic events by time and runs them in the compiled loop;
        live feeds run as a live session (``asyncio.run(self.run_async())``).

        Parameters
        ----------
        progress : callable, optional
            Backtests only: ``progress(events_done, events_total)`` is called from the loop every
            ``progress_every`` events and once at the end (e.g. ``barter.progress.ProgressBar``).
            Without it the loop does no progress work beyond one integer compare per event.
        progress_every : int
            Events between two ``progress`` calls.
        """
        if progress is not None and not callable(progress):
            raise ConfigError(f"progress must be callable(events_done, events_total), was {progress!r}")
        if self.is_live:
            if progress is not None:
                raise ConfigError("progress applies to backtests only: a live session has no end to count to")
            import asyncio

            asyncio.run(self.run_async())
            return
        try:
            self._backtest(progress, progress_every)
        finally:
            self._end_stream()

    def _backtest(self, progress: Optional[Callable[[int, int], Any]] = None,
                  progress_every: int = PROGRESS_EVERY) -> None:
        core = self._start()
        precomputed = [t.strategy for t in self.traders if isinstance(t.strategy, PrecomputedSignals)]
        books = any(isinstance(t.execution, BookExecution) for t in self.traders)
        compiled = (self._emitter is None and self.on_error == "stop" and not books
                    and len(precomputed) == len(self.traders))
        tape = build_tape([t.data for t in self.traders], self.markets,
                          [s.decisions for s in precomputed] if compiled else None,
                          [s.strength for s in precomputed] if compiled else None)
        desks = backtest_desks(self, tape)
        equity = np.empty(tape.length) if self.record_equity else None
        if self._emitter is not None:
            self._emitter.publish(self._session_start(min((int(t.data.time_ns[0]) for t in self.traders
                                                           if len(t.data.time_ns)), default=0)))
        total = tape.length
        hook = None if progress is None else (lambda done: progress(done, total))
        started = time.perf_counter()
        try:
            if compiled:
                self.events, points = run_decisions(tape, core, equity, None, self.drain_at, hook, progress_every)
            else:
                self.events, points = run_strategies(tape, core, self.callbacks(), equity, None, self._emitter,
                                                     self.drain_at, hook, progress_every)
            last = max((int(t.data.time_ns[tape.next_row(m) - 1]) for m, t in enumerate(self.traders)
                        if tape.next_row(m)), default=0)
            if self.events and not self._commands.empty():
                self._drain_late(last, equity, points)
            if desks:  # orders in flight when the data ended match against the last books
                for desk in desks:
                    desk.flush(last)
            if progress is not None:
                progress(self.events, total)
        except Exception as exc:
            self.events = getattr(exc, "events_done", self.events)  # the loops note how far they got
            self._keep_equity(equity, tape, getattr(exc, "points_done", 0))
            self._report_stop(exc)
            raise
        finally:
            self.elapsed_s = time.perf_counter() - started
        self._keep_equity(equity, tape, points)

    def _drain_late(self, t: int, equity: Optional[np.ndarray], points: int) -> None:
        """Commands sent (from another thread) after the loop's last look: they run at the last
        event's time ``t``, as the loop runs those sent during that event (in its time's point)."""
        self.drain_at(t)
        if equity is not None and points:
            equity[points - 1] = self.portfolio.core.equity_value

    def _keep_equity(self, equity: Optional[np.ndarray], tape: Any, points: int) -> None:
        """The equity points of the events done (all, or those before an error stopped the run);
        their times are replayed from the tape when read (the loops write none)."""
        self.equity = equity[:points] if equity is not None else np.empty(0)
        if not self.record_equity:
            self.time_ns = np.empty(0, dtype=np.int64)
        else:
            self._merged = (tape, self.events)

    async def run_async(self) -> None:
        """A live session over the traders' async feeds (see ``barter.engine.live``)."""
        from barter.engine.live import run_live

        try:
            await run_live(self)
        finally:
            self._end_stream()

    def _end_stream(self) -> None:
        """Tell listeners that can hear it (``end()``, e.g. ``AsyncEvents``) that the run ended;
        commands still waiting (the run stopped on an error first) are not run: a reply they
        carry gets ``EngineStopped``."""
        self._ended = True
        self._refuse_waiting()
        for target in self._targets:
            if callable(getattr(target, "end", None)):
                target.end()

    def _refuse_waiting(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            reply = getattr(command, "reply", None)
            if reply is not None and not reply.done():
                reply.set_exception(EngineStopped(f"the engine's run ended before {type(command).__name__} ran"))

    def _start(self):  # -> PortfolioCore
        if self.equity is not None:
            raise ConfigError("this engine has already run; build a new one")
        if self.portfolio._core is not None:  # a new engine given a used portfolio
            raise ConfigError("this engine's portfolio has already run; build a new Portfolio for each run")
        core = self.portfolio.bind(self.markets, [t.execution.rates() for t in self.traders])
        if self._listeners:
            self._emitter = Emitter(self.portfolio, self._listeners)
            self.portfolio.on_event = self._emitter.publish
        core.interrupt = not self._commands.empty()
        return core

    def _session_start(self, time_ns: int) -> SessionStart:
        return SessionStart(time_ns, self.engine_id, tuple(self.markets), self.portfolio.starting_cash,
                            self.portfolio.statistic_config)

    def callbacks(self) -> list[Callable]:
        """What the loop calls per event, per market: the strategies' bound methods (guarded when
        ``on_error="skip"``)."""
        callbacks = [_callback(t.strategy) for t in self.traders]
        if self.on_error == "skip":
            callbacks = [self._guarded(cb) for cb in callbacks]
        return callbacks

    def _guarded(self, callback: Callable) -> Callable:
        failed = False

        def guarded(market: Any) -> Optional[Signal]:
            nonlocal failed
            if failed:
                return None
            try:
                result = callback(market)
                if result is not None and type(result) is not Signal:
                    raise StrategyError(f"generate_signal must return a Signal or None, returned "
                                        f"{type(result).__name__}")
                return result
            except Exception as exc:
                failed = True
                self._publish(EngineError(market.time_ns, market.market, repr(exc), "skip"))
                return None

        return guarded

    def _report_stop(self, exc: Exception) -> None:
        market, t = getattr(exc, "barter_market", None), getattr(exc, "barter_time_ns", 0)
        if self._emitter is not None and market is not None:
            self._emitter.publish(EngineError(t, market, repr(exc), "stop"))

    def summary(self) -> SummaryTable:
        """The seed's table: one row per market and a ``Total`` row."""
        return self.portfolio.summary()

    # -- commands, run between market events by the loop -------------------------------------

    def drain_at(self, t: int) -> bool:
        """Run every queued command, in order, at time ``t`` (the latest event's); True when one
        (``Terminate``) stops the engine. Commands queued behind a ``Terminate`` still run, so
        that every reply resolves."""
        self.portfolio.core.interrupt = False
        stop = False
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return stop
            stop = self._execute(command, t) or stop

    def _execute(self, command: Command, t: int) -> bool:
        if isinstance(command, Terminate):
            self._execute(ExitAllPositions(), t)
            self.terminated = True
            self._publish(CommandReply(t, "Terminate", result=command.reason))
            return True
        if isinstance(command, ExitPosition):
            try:
                self._force_exit(self.portfolio.market_id(command.market), t)
            except UnknownMarket as exc:
                self._publish(CommandReply(t, "ExitPosition", command.market, error=str(exc)))
        elif isinstance(command, ExitAllPositions):
            for mid, market in enumerate(self.markets):
                if self.portfolio.position(market) is not None:
                    self._force_exit(mid, t)
        elif isinstance(command, FetchOpenPositions):
            positions = self.portfolio.open_positions()
            command.reply.set_result(positions)
            self._publish(CommandReply(t, "FetchOpenPositions", result=positions))
        else:
            self._publish(CommandReply(t, type(command).__name__, error=f"unknown command {command!r}"))
        return False

    def _force_exit(self, mid: int, t: int) -> None:
        """The seed's SignalForceExit: exit at the last marked price, bypassing allocator and risk,
        at the engine's time ``t``. A fill is a point of ``t`` on the equity curves, as an event's
        fills are (replay does the same on the events it publishes)."""
        core = self.portfolio.core
        if self._emitter is not None:
            self._emitter.publish(SignalForceExit(self.markets[mid], t))
        fills = core.n_fills
        if core.force_exit(mid, t) and self._emitter is not None:
            self._emitter.publish_fills(fills)
        if core.n_fills > fills:
            core.observe(mid, t, True)

    def _publish(self, event: Any) -> None:
        if self._emitter is not None:
            self._emitter.publish(event)


_MASK_SIGNALS = [None] + [Signal({d: 1.0 for d in Decision if code & d.mask}) for code in range(1, 16)]


def _callback(strategy: Any) -> Callable:
    """The bound method the loop calls per event; precomputed decisions mixed with Python
    strategies are replayed one event at a time."""
    if not isinstance(strategy, PrecomputedSignals):
        return strategy.generate_signal
    codes, strength = strategy.decisions.tolist(), strategy.strength
    position = iter(range(len(codes)))

    def replay(_market: Any) -> Optional[Signal]:
        i = next(position)
        code = codes[i]
        if not code or strength is None:
            return _MASK_SIGNALS[code]
        return Signal({d: float(strength[i]) for d in Decision if code & d.mask})

    return replay
