"""Market data shared by every worker of a sweep, never copied per run.

The parent validates the candles once and copies their six columns into one block of
``multiprocessing.shared_memory``; a worker attaches to the block by name and builds read-only
NumPy views over it. Ray and Dask ship the same columns as a dict (``candle_columns``) to their
object store once. Every executor then builds a run's candles with ``candles_of``: slices of those
columns, not re-validated (they were checked when first loaded).
"""
from __future__ import annotations

from dataclasses import dataclass
from multiprocessing import shared_memory
from typing import Any, Optional, Union

import numpy as np

from barter.data.historic import HistoricalCandles, _trusted

COLUMNS = ("time_ns", "open", "high", "low", "close", "volume")
_DTYPES = {"time_ns": np.dtype(np.int64)}  # every other column is float64
_ALIGN = 64  # bytes; each column starts on a cache line


def _dtype(name: str) -> np.dtype:
    return _DTYPES.get(name, np.dtype(np.float64))


def _stride(rows: int) -> int:
    """Bytes reserved per column: rows × 8, rounded up to ``_ALIGN`` (at least one line)."""
    return max(_ALIGN, -(-rows * 8 // _ALIGN) * _ALIGN)


@dataclass(frozen=True, slots=True)
class SharedCandlesHandle:
    """What a worker needs to attach: the block's name, the row count and the data's source."""

    name: str
    rows: int
    source: str


class SharedCandles:
    """Owner of the shared block (in the parent); ``close()`` frees it."""

    def __init__(self, candles: HistoricalCandles) -> None:
        rows = len(candles)
        self._shm: Optional[shared_memory.SharedMemory] = shared_memory.SharedMemory(
            create=True, size=_stride(rows) * len(COLUMNS))
        for name, view in _views(self._shm, rows).items():
            view[:] = getattr(candles, name)
        self.handle = SharedCandlesHandle(self._shm.name, rows, candles.source)

    def close(self) -> None:
        """Release and unlink the block (idempotent); attached workers keep their mapping."""
        if self._shm is not None:
            shm, self._shm = self._shm, None
            shm.close()
            shm.unlink()

    def __enter__(self) -> SharedCandles:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _views(shm: shared_memory.SharedMemory, rows: int) -> dict[str, np.ndarray]:
    stride = _stride(rows)
    return {name: np.ndarray((rows,), dtype=_dtype(name), buffer=shm.buf, offset=k * stride)
            for k, name in enumerate(COLUMNS)}


# A worker attaches once per block and keeps it for its lifetime (runs reuse the mapping).
_attached: dict[str, tuple[shared_memory.SharedMemory, dict[str, np.ndarray]]] = {}


def attach(handle: SharedCandlesHandle) -> dict[str, np.ndarray]:
    """Read-only views of the shared columns (attached on first use in this process)."""
    if handle.name not in _attached:
        shm = shared_memory.SharedMemory(name=handle.name)
        views = _views(shm, handle.rows)
        for view in views.values():
            view.flags.writeable = False
        _attached[handle.name] = (shm, views)
    return _attached[handle.name][1]


def candle_columns(candles: HistoricalCandles) -> dict[str, Any]:
    """The columns and source as a plain dict: what Ray and Dask put in their object store."""
    out: dict[str, Any] = {name: getattr(candles, name) for name in COLUMNS}
    out["source"] = candles.source
    return out


DataSource = Union[HistoricalCandles, SharedCandlesHandle, dict]


def candles_of(source: DataSource, start: int = 0, stop: Optional[int] = None) -> HistoricalCandles:
    """Rows ``[start, stop)`` of the sweep's data as candles: views, no copy, no re-validation."""
    if isinstance(source, HistoricalCandles):
        cols = {name: getattr(source, name) for name in COLUMNS}
        label = source.source
    elif isinstance(source, SharedCandlesHandle):
        cols, label = attach(source), source.source
    else:
        cols, label = source, source["source"]
    return _trusted(HistoricalCandles, source=label, **{name: cols[name][start:stop] for name in COLUMNS})


__all__ = ["COLUMNS", "DataSource", "SharedCandles", "SharedCandlesHandle", "attach", "candle_columns",
           "candles_of"]
