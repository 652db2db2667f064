"""Where a sweep's runs execute, chosen by one argument (``resolve``).

An executor ``open``s a session on the sweep's candles, which puts the data where its workers read
it (shared memory, the Ray or Dask object store) once; ``session.stream(spec, tasks)`` yields one
``Outcome`` per task as runs finish, in any order; ``session.close()`` stops unfinished runs and
frees the data. A walk-forward streams twice through one session.
"""
from __future__ import annotations

import os
from abc import ABC, abstractmethod
from typing import Any, Generator, Optional, Sequence, Union

from barter.data.historic import HistoricalCandles
from barter.errors import ConfigError
from barter.sweep.job import Outcome, RunSpec, Task, execute


class Session(ABC):
    """An executor's hold on the sweep's data; a context manager that closes itself."""

    @abstractmethod
    def stream(self, spec: RunSpec, tasks: Sequence[Task]) -> Generator[Outcome, None, None]:
        """Run ``tasks``; yield each outcome as it finishes. Closing the generator stops the rest."""

    def close(self) -> None:
        """Stop what still runs and release the data (idempotent)."""

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Executor(ABC):
    """Runs a sweep's tasks somewhere; ``name`` labels it in results."""

    name: str = "executor"

    @abstractmethod
    def open(self, candles: HistoricalCandles) -> Session:
        """Put ``candles`` where the workers read them and return the session."""


class _SerialSession(Session):
    def __init__(self, candles: HistoricalCandles) -> None:
        self.candles = candles

    def stream(self, spec: RunSpec, tasks: Sequence[Task]) -> Generator[Outcome, None, None]:
        for task in tasks:
            yield execute(self.candles, spec, task)


class SerialExecutor(Executor):
    """Every run in this process, one after another (debugging, baselines)."""

    name = "serial"

    def open(self, candles: HistoricalCandles) -> Session:
        return _SerialSession(candles)


def default_workers() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


ExecutorLike = Union[None, str, int, Executor, Any]

_FORMS = ("'process' (default), 'serial', an int (process workers), 'ray', 'ray://HOST:PORT', "
          "'dask', 'tcp://HOST:PORT' or 'dask://HOST:PORT', a dask.distributed Client or an Executor")


def resolve(executor: ExecutorLike = None, workers: Optional[int] = None) -> Executor:
    """The executor named by ``executor``.

    Parameters
    ----------
    executor : None, str, int, Executor or dask.distributed.Client
        ``None``/``"process"``: a local process pool over shared memory (``workers`` processes,
        default all CPUs); an int: a pool of that many; ``"serial"``: this process; ``"ray"``: a
        local Ray (or the one already initialised); ``"ray://HOST:PORT"``: a Ray cluster;
        ``"dask"``: a new local Dask cluster; ``"tcp://HOST:PORT"`` or ``"dask://HOST:PORT"``: a
        Dask scheduler; a ``Client``: that Dask client.
    workers : int, optional
        Processes of the local pool.
    """
    from barter.sweep.cluster import DaskExecutor, RayExecutor
    from barter.sweep.pool import ProcessExecutor

    if isinstance(executor, Executor):
        return executor
    if executor is None or executor == "process":
        return ProcessExecutor(workers)
    if isinstance(executor, int) and not isinstance(executor, bool):
        return ProcessExecutor(executor)
    if type(executor).__name__ == "Client" and type(executor).__module__.startswith("distributed"):
        return DaskExecutor(executor)
    if isinstance(executor, str):
        if executor == "serial":
            return SerialExecutor()
        if executor == "ray" or executor.startswith("ray://"):
            return RayExecutor(None if executor == "ray" else executor)
        if executor == "dask":
            return DaskExecutor(None)
        if executor.startswith("dask://"):
            return DaskExecutor("tcp://" + executor[len("dask://"):])
        if executor.startswith(("tcp://", "tls://")):
            return DaskExecutor(executor)
    raise ConfigError(f"executor must be {_FORMS}; was {executor!r}")


__all__ = ["Executor", "ExecutorLike", "SerialExecutor", "Session", "default_workers", "resolve"]
