"""A progress bar with runs/s and the failed count, on stderr when it is a terminal (``rich``)."""
from __future__ import annotations

import sys
import time
from typing import Any, Optional


class Progress:
    """Counts finished runs; draws a ``rich`` bar when enabled.

    Parameters
    ----------
    total : int
        Runs expected.
    enabled : bool, optional
        None: only when stderr is a terminal and ``rich`` is installed.
    label : str
        Shown before the bar.
    """

    def __init__(self, total: int, enabled: Optional[bool] = None, label: str = "sweep") -> None:
        self.total, self.done, self.failed = total, 0, 0
        self.started = time.perf_counter()
        self._bar: Any = None
        if enabled is None:
            enabled = sys.stderr.isatty()
        if enabled:
            self._bar = _rich_bar(label, total)

    @property
    def rate(self) -> float:
        """Finished runs per second since the start."""
        elapsed = time.perf_counter() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def advance(self, ok: bool) -> None:
        self.done += 1
        self.failed += not ok
        if self._bar is not None:
            bar, task = self._bar
            bar.update(task, advance=1, rate=f"{self.rate:,.1f}", failed=self.failed)

    def close(self) -> None:
        if self._bar is not None:
            self._bar[0].stop()
            self._bar = None


def _rich_bar(label: str, total: int) -> Any:
    """(rich Progress, task id), or None without rich."""
    try:
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)
    except ImportError:
        return None
    bar = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
              TextColumn("{task.fields[rate]} runs/s"), TextColumn("{task.fields[failed]} failed"),
              TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True))
    task = bar.add_task(label, total=total, rate="0.0", failed=0)
    bar.start()
    return bar, task


__all__ = ["Progress"]
