"""A terminal progress bar for long backtests: events done, events/s and time left (rich).

``Engine.run(progress=...)`` and ``barter.backtest(..., progress=...)`` call it from the compiled
loop every 65,536 events; it draws at most ``refresh_per_second`` times a second, from that call
(no refresh thread competes with the loop). It is silent when the stream is not a terminal or with
``quiet=True``, so piped output and logs stay clean; rich is imported only when it draws.

    >>> from barter.progress import ProgressBar
    >>> with ProgressBar("rsi") as bar:       # doctest: +SKIP
    ...     engine.run(progress=bar)
"""
from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, Optional, TextIO


class ProgressBar:
    """``progress(events_done, events_total)`` drawn as a rich bar with events/s and ETA.

    Parameters
    ----------
    description : str
        Shown left of the bar.
    quiet : bool
        Never draw.
    stream : text stream, optional
        Where to draw (default ``sys.stdout``); nothing is drawn unless it is a terminal.
    refresh_per_second : float
        Most redraws per second.

    Use it as a context manager, so the bar is removed (``transient``) when the run ends or fails.
    """

    def __init__(self, description: str = "backtest", *, quiet: bool = False, stream: Optional[TextIO] = None,
                 refresh_per_second: float = 10.0) -> None:
        if not refresh_per_second > 0:
            raise ValueError(f"refresh_per_second must be > 0, was {refresh_per_second!r}")
        self.description = description
        self.stream = stream if stream is not None else sys.stdout
        self.enabled = not quiet and _is_terminal(self.stream)
        self._interval = 1.0 / refresh_per_second
        self._next_draw = 0.0
        self._progress: Any = None  # rich.progress.Progress while drawing
        self._task: Any = None
        self.calls = 0  # how often the loop reported (also when not drawing)

    def __enter__(self) -> ProgressBar:
        if self.enabled:
            self._progress = _rich_progress(self.stream)
            self._progress.start()
        return self

    def __exit__(self, exc_type: Optional[type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __call__(self, done: int, total: int) -> None:
        """Record ``done`` of ``total`` events; redraw when the last draw is old enough or at the end."""
        self.calls += 1
        if self._progress is None:
            return
        if self._task is None:
            self._task = self._progress.add_task(self.description, total=total)
        self._progress.update(self._task, completed=done)
        now = time.monotonic()
        if now >= self._next_draw or done >= total:
            self._next_draw = now + self._interval
            self._progress.refresh()


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (ValueError, OSError):  # a closed or detached stream
        return False


def _rich_progress(stream: TextIO) -> Any:
    """A rich ``Progress`` redrawn only by ``ProgressBar`` (``auto_refresh=False``)."""
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Events per second, averaged by rich over the recent updates."""

        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text("-- events/s" if speed is None else f"{speed:,.0f} events/s", style="progress.data.speed")

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
                    TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                    console=Console(file=stream, force_terminal=True), auto_refresh=False, transient=True)


__all__ = ["ProgressBar"]
