"""The local process pool: one run per worker at a time, market data in shared memory.

Each worker is a process with its own pipe; the parent waits on every busy worker's pipe and
process sentinel at once, so it knows which run a dead worker held: that run is marked failed, a
new worker takes its place and the sweep goes on (``concurrent.futures`` would break the whole pool
instead). Workers ignore SIGINT: Ctrl-C reaches the parent, which stops them.

The run spec and each task go to a worker pickled by cloudpickle when it is installed, so that a
strategy defined in ``__main__`` (a notebook, the REPL, ``python -c``) travels by value; a worker
that cannot load them reports it as the run's error instead of dying.
"""
from __future__ import annotations

import multiprocessing as mp
import pickle
import signal
from collections import deque
from multiprocessing.connection import Connection, wait
from typing import Any, Generator, Optional, Sequence

from barter.data.historic import HistoricalCandles
from barter.errors import ConfigError
from barter.sweep.executors import Executor, Session, default_workers
from barter.sweep.job import Outcome, RunSpec, Task, execute, failed
from barter.sweep.shared import SharedCandles, SharedCandlesHandle

_JOIN_S = 2.0  # grace for a worker to exit after being told to stop
_CANNOT_LOAD = ("{error} (a pool worker could not load the run: workers import a class or function by "
                "its module's name, so define the strategy in a module they can import, or install "
                "cloudpickle to send one defined in __main__ (notebook, REPL, python -c) by value)")


def dumps(obj: Any) -> bytes:
    """``obj`` pickled for a worker: by cloudpickle when installed (``__main__`` classes and
    functions by value), else by pickle (by reference)."""
    try:
        import cloudpickle
    except ImportError:
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return cloudpickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)  # type: ignore[no-any-return]


def _worker_main(conn: Connection, handle: SharedCandlesHandle) -> None:
    """A worker's loop: receive (pickled spec, pickled task), send the outcome, or the error text
    when they cannot be loaded or the outcome cannot be sent; ``None`` ends it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    specs: dict[bytes, RunSpec] = {}  # the spec is the same for every run of a stream: load it once
    while True:
        try:
            message = conn.recv()
        except EOFError:  # the parent went away
            return
        if message is None:
            return
        try:
            if message[0] not in specs:
                specs = {message[0]: pickle.loads(message[0])}
            spec, task = specs[message[0]], pickle.loads(message[1])
        except Exception as exc:  # e.g. a class of the parent's __main__ pickled by reference
            _reply(conn, _CANNOT_LOAD.format(error=f"{type(exc).__name__}: {exc}"))
            continue
        _reply(conn, execute(handle, spec, task))


def _reply(conn: Connection, outcome: Any) -> None:
    """Send the outcome, or why pickle refused it (the pipe is untouched when pickling fails)."""
    try:
        conn.send(outcome)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:  # e.g. a parameter of __main__
        conn.send(f"{type(exc).__name__}: the run's outcome cannot be sent back by pickle: {exc}")


class _Worker:
    """A worker process, its end of the pipe and the task it runs (None when idle)."""

    def __init__(self, ctx: Any, handle: SharedCandlesHandle) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, handle), daemon=True,
                                   name="barter-sweep-worker")
        self.process.start()
        child.close()
        self.task: Optional[Task] = None

    def stop(self, force: bool) -> None:
        """Ask to exit (or kill at once with ``force``), then reap the process."""
        if not force:
            try:
                self.conn.send(None)
            except OSError:
                force = True
        if force:
            self.process.kill()
        self.process.join(_JOIN_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


class _PoolSession(Session):
    def __init__(self, ctx: Any, size: int, candles: HistoricalCandles) -> None:
        self.ctx, self.size = ctx, size
        self.shared: Optional[SharedCandles] = SharedCandles(candles)
        self.workers: list[_Worker] = []

    def _spawn(self) -> _Worker:
        assert self.shared is not None, "session is closed"
        return _Worker(self.ctx, self.shared.handle)

    def _grow(self, wanted: int) -> None:
        while len(self.workers) < min(self.size, wanted):
            self.workers.append(self._spawn())

    def _drop(self, worker: _Worker) -> None:
        """Kill a dead or abandoned worker; ``_grow`` starts another when runs are left."""
        worker.stop(force=True)
        self.workers.remove(worker)

    def _receive(self, worker: _Worker) -> Outcome:
        """The busy worker's outcome, or a failed one if it died; a dead worker is replaced."""
        task = worker.task
        assert task is not None
        worker.task = None
        try:
            if worker.conn.poll():
                reply = worker.conn.recv()
                return reply if isinstance(reply, Outcome) else failed(task, reply)
        except (EOFError, OSError):
            pass
        worker.process.join(_JOIN_S)
        code = worker.process.exitcode
        self._drop(worker)
        return failed(task, f"WorkerDied: the worker process running this run died (exit code {code}); "
                            "if every run fails so, workers cannot start: call the sweep under "
                            "if __name__ == '__main__'")

    def _assign(self, spec_blob: bytes, queue: deque[Task]) -> None:
        for worker in self.workers:
            if queue and worker.task is None:
                task = queue.popleft()
                worker.task = task
                try:
                    worker.conn.send((spec_blob, dumps(task)))
                except OSError:  # died while idle: _receive reports it on the next wait
                    pass

    def stream(self, spec: RunSpec, tasks: Sequence[Task]) -> Generator[Outcome, None, None]:
        queue, spec_blob = deque(tasks), dumps(spec)
        try:
            while True:
                self._grow(len(queue) + sum(w.task is not None for w in self.workers))
                self._assign(spec_blob, queue)
                busy = [w for w in self.workers if w.task is not None]
                if not busy:
                    return
                ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy]))
                for worker in busy:
                    if worker.conn in ready or worker.process.sentinel in ready:
                        yield self._receive(worker)
        finally:  # interrupted: runs in flight are abandoned, their workers killed
            for worker in [w for w in self.workers if w.task is not None]:
                self._drop(worker)

    def close(self) -> None:
        for worker in self.workers:
            worker.stop(force=worker.task is not None)
        self.workers = []
        if self.shared is not None:
            self.shared.close()
            self.shared = None


class ProcessExecutor(Executor):
    """A pool of ``workers`` local processes (default: every CPU) reading shared memory.

    Parameters
    ----------
    workers : int, optional
        Processes (> 0); never more than there are runs.
    start_method : str
        ``multiprocessing`` start method; ``"spawn"`` (default) is safe with threads in the parent.
    """

    name = "process"

    def __init__(self, workers: Optional[int] = None, start_method: str = "spawn") -> None:
        if workers is not None and not (isinstance(workers, int) and not isinstance(workers, bool) and workers > 0):
            raise ConfigError(f"workers must be an int > 0, was {workers!r}")
        if start_method not in mp.get_all_start_methods():
            raise ConfigError(f"start_method must be one of {mp.get_all_start_methods()}, was {start_method!r}")
        self.workers = workers or default_workers()
        self.start_method = start_method

    def open(self, candles: HistoricalCandles) -> Session:
        return _PoolSession(mp.get_context(self.start_method), self.workers, candles)


__all__ = ["ProcessExecutor", "dumps"]
