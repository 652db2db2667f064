"""Ray and Dask distributed executors: the candles go to the cluster's object store once.

Each run is one task calling ``barter.sweep.job.execute`` with a reference to the stored columns,
so the workers need barter installed (the same version). A task whose worker dies comes back as
the cluster's error (Ray ``WorkerCrashedError``, Dask ``KilledWorker``) and is recorded as a failed
run; the other runs go on.
"""
from __future__ import annotations

import uuid
from collections import deque
from typing import Any, Generator, Optional, Sequence

from barter.data.historic import HistoricalCandles
from barter.errors import ConfigError
from barter.sweep.executors import Executor, Session
from barter.sweep.job import Outcome, RunSpec, Task, execute, failed
from barter.sweep.shared import candle_columns


def _import(name: str, extra: str) -> Any:
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ConfigError(f"this executor needs {extra} (pip install 'barter[sweep]'): {exc}") from None


def _lost(task: Task, exc: BaseException) -> Outcome:
    return failed(task, f"{type(exc).__name__}: {' '.join(str(exc).split())[:500]}")


class _ClusterSession(Session):
    """Tasks in flight (cancelled on close) and whether this session made its connection."""

    def __init__(self, owned: bool) -> None:
        self.owned = owned
        self.pending: dict[Any, Task] = {}
        self.data: Any = None

    def _cancel(self) -> None:
        """Cancel what is in flight and forget it."""

    def _disconnect(self) -> None:
        """Close the connection this session made."""

    def close(self) -> None:
        self._cancel()
        self.pending, self.data = {}, None
        if self.owned:
            self.owned = False
            self._disconnect()


# --------------------------------------------------------------------------- Ray

class _RaySession(_ClusterSession):
    def __init__(self, ray: Any, candles: HistoricalCandles, started: bool) -> None:
        super().__init__(started)
        self.ray = ray
        self.data = ray.put(candle_columns(candles))  # once; workers map it without copying
        # no retries: a run whose worker died is reported, not run again
        self.remote = ray.remote(num_cpus=1, max_retries=0)(execute)

    def stream(self, spec: RunSpec, tasks: Sequence[Task]) -> Generator[Outcome, None, None]:
        ray = self.ray
        spec_ref = ray.put(spec)
        self.pending = {self.remote.remote(self.data, spec_ref, task): task for task in tasks}
        try:
            while self.pending:
                [done], _ = ray.wait(list(self.pending), num_returns=1)
                task = self.pending.pop(done)
                try:
                    outcome = ray.get(done)
                except ray.exceptions.RayError as exc:
                    outcome = _lost(task, exc)
                yield outcome
        finally:
            self._cancel()

    def _cancel(self) -> None:
        for ref in self.pending:
            self.ray.cancel(ref, force=True)
        self.pending = {}

    def _disconnect(self) -> None:
        self.ray.shutdown()


class RayExecutor(Executor):
    """Runs on Ray: the one already initialised, else ``ray.init(address, **init_options)``.

    Parameters
    ----------
    address : str, optional
        ``"ray://HOST:PORT"`` (Ray client: needs ``ray[client]``, and token auth on a cluster
        started with ``ray start``, see ``docs/sweep.md``) or ``"auto"``; None starts a local Ray.
        A Ray started here is shut down when the sweep ends.
    **init_options
        More ``ray.init`` arguments. A local Ray gets ``include_dashboard=False`` and
        ``log_to_driver=False`` unless given; a Ray client gets only these.
    """

    name = "ray"

    def __init__(self, address: Optional[str] = None, **init_options: Any) -> None:
        self.address = address
        self.init_options = init_options

    def open(self, candles: HistoricalCandles) -> Session:
        ray = _import("ray", "ray")
        started = False
        if not ray.is_initialized():
            ray.init(address=self.address, **self._options())
            started = True
        return _RaySession(ray, candles, started)

    def _options(self) -> dict[str, Any]:
        """``ray.init`` options: a Ray client (``ray://``) takes none of a local driver's."""
        if self.address and self.address.startswith("ray://"):
            _need_ray_client(self.address)
            return dict(self.init_options)
        return {"include_dashboard": False, "log_to_driver": False, **self.init_options}


def _need_ray_client(address: str) -> None:
    """Ray client needs ``ray[client]`` (grpcio); say so, and what a secured cluster needs, before connecting."""
    try:
        import grpc  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"{address} connects through Ray client, which needs pip install 'ray[client]' (grpcio): {exc}; "
            f"a cluster started with 'ray start' also needs token auth here: RAY_AUTH_MODE=token and its "
            f"token in ~/.ray/auth_token or RAY_AUTH_TOKEN (docs/sweep.md)") from None


# --------------------------------------------------------------------------- Dask

class _DaskSession(_ClusterSession):
    def __init__(self, client: Any, candles: HistoricalCandles, owned: bool, per_thread: int) -> None:
        super().__init__(owned)
        self.client, self.per_thread = client, per_thread
        # a one-element list: scatter keeps the dict whole (a dict argument would be split up);
        # broadcast: a copy on every worker, so one dying does not lose the data for the rest
        [self.data] = client.scatter([candle_columns(candles)], hash=False, broadcast=True)

    def stream(self, spec: RunSpec, tasks: Sequence[Task]) -> Generator[Outcome, None, None]:
        """At most ``per_thread`` runs per worker thread in flight: with one, a dying worker takes
        only its own run down (Dask fails every run queued on it with ``KilledWorker``)."""
        from distributed import as_completed

        tag, queue, done = uuid.uuid4().hex[:8], deque(tasks), as_completed()

        def submit() -> None:
            # the spec is small: inside each task, not scattered to one worker that may die
            task = queue.popleft()
            future = self.client.submit(execute, self.data, spec, task, pure=False,
                                        key=f"barter-run-{tag}-{task.run}")
            self.pending[future] = task
            done.add(future)

        for _ in range(min(len(queue), self.per_thread * max(1, sum(self.client.nthreads().values())))):
            submit()
        try:
            for future in done:
                task = self.pending.pop(future)
                if queue:
                    submit()
                try:
                    outcome = future.result()
                except Exception as exc:  # KilledWorker, CancelledError, ...
                    outcome = _lost(task, exc)
                yield outcome
        finally:
            self._cancel()

    def _cancel(self) -> None:
        if self.pending:
            self.client.cancel(list(self.pending))
        self.pending = {}

    def _disconnect(self) -> None:
        self.client.close()


class DaskExecutor(Executor):
    """Runs on Dask distributed.

    Parameters
    ----------
    client : str or distributed.Client, optional
        A scheduler address (``"tcp://HOST:PORT"``) or a connected client; None starts a local
        cluster (worker processes). A client made here is closed when the sweep ends.
    per_thread : int
        Runs in flight per worker thread (default 1). More hides the scheduler's round trip on
        short runs, but a worker that dies then fails every run queued on it.
    """

    name = "dask"

    def __init__(self, client: Any = None, per_thread: int = 1) -> None:
        if not (isinstance(per_thread, int) and not isinstance(per_thread, bool) and per_thread > 0):
            raise ConfigError(f"per_thread must be an int > 0, was {per_thread!r}")
        self.client, self.per_thread = client, per_thread

    def open(self, candles: HistoricalCandles) -> Session:
        distributed = _import("distributed", "dask[distributed]")
        if isinstance(self.client, distributed.Client):
            return _DaskSession(self.client, candles, False, self.per_thread)
        client = distributed.Client(self.client) if self.client else distributed.Client(processes=True)
        return _DaskSession(client, candles, True, self.per_thread)


__all__ = ["DaskExecutor", "RayExecutor"]
