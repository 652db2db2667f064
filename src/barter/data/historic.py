"""Historic market data: OHLCV candles and public trades as validated, C-contiguous NumPy arrays.

Every constructor (arrays, DataFrame, CSV, Parquet, JSON) goes through one vectorised validation that
raises :class:`barter.errors.DataError` naming the source, the first bad row, the column and the value.
Rows read from a file are numbered from 1 and do not count the header line ("data row 5" is line 6 of a
CSV file with one header line); rows of in-memory arrays and DataFrames are 0-based positions.

Column names are matched case-insensitively. The time column is ``time_column`` when given, else the
first of ``timestamp, time, datetime, date, open_time, close_time``, else the DataFrame index or the
(unnamed) first column when it holds datetimes or date strings. Timestamps may be ISO 8601 strings
(tz-aware, or naive = UTC), ``datetime64`` values, or epoch numbers whose unit is ``time_unit``
(``"s"``, ``"ms"``, ``"us"``, ``"ns"``) or, when not given, inferred from the median magnitude
(so epochs before 1973 need ``time_unit``). They are stored as ``int64`` UNIX epoch ns (UTC).
"""
from __future__ import annotations

import gzip
import json
import os
import sys
import warnings
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Literal, Optional, Sequence, TypeVar, Union

import numpy as np
import numpy.typing as npt

from barter.errors import ConfigError, DataError, DataWarning

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["HistoricalCandles", "HistoricalTrades"]

PathLike = Union[str, "os.PathLike[str]"]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
SideLike = Union[npt.ArrayLike, Sequence[Union[str, int, None]]]
T = TypeVar("T")
H = TypeVar("H", bound="_Historic")

_UNIT_NS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
_I64_MAX = int(np.iinfo(np.int64).max)  # pandas' ns range is [-_I64_MAX, _I64_MAX], NaT below it
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_DT64_UNITS = {(unit, 1) for unit in _UNIT_NS}  # datetime64 units pandas keeps as they are
_TIME_RULE = "timestamp could not be parsed as a UTC time in 1677..2262 (ISO 8601, datetime or epoch)"
_SIDE_RULE = "side must be buy/sell/b/s (any case) or +1/-1 (0 or empty = unknown)"


# --------------------------------------------------------------------------------------------------
# Where rows come from, and the first-bad-row collector
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Origin:
    """The source of some rows, to name a row in an error message.

    ``kind`` is ``"csv"``, ``"json"`` or ``"parquet"`` (1-based data rows) or ``"frame"``/``"arrays"``
    (0-based positions).
    """

    source: str
    kind: str
    drop_bad: bool = False                 # bad_rows="drop": drop bad rows instead of raising
    kept: Optional[np.ndarray] = None      # the source's row of each row left after dropping

    def row(self, i: int) -> str:
        i = int(self.kept[i]) if self.kept is not None else i
        if self.kind == "csv":
            return f"data row {i + 1} (1-based, not counting the header line)"
        if self.kind == "json":
            return f"data row {i + 1} (1-based element of the JSON array)"
        if self.kind == "parquet":
            return f"data row {i + 1} (1-based)"
        return f"row {i} (0-based position)"

    def fail(self, what: str) -> DataError:
        return DataError(f"{self.source}: {what}")


@dataclass(frozen=True, slots=True)
class _Column:
    """One converted column: canonical ``name``, ``label`` as found in the source, values, and the
    original values (``raw``, positional) to quote in messages; ``bad`` flags rows that did not convert."""

    name: str
    label: str
    values: np.ndarray
    raw: Any = None
    bad: Mask | None = None
    rule: str = ""
    is_time: bool = False

    def shown(self, i: int) -> str:
        if self.raw is not None:
            value = self.raw[i]
            if isinstance(value, np.datetime64):
                return _timestamp_repr(value)
            return repr(value.item() if isinstance(value, np.generic) else value)
        if self.is_time:
            return _iso(int(self.values[i]))
        return repr(self.values[i].item())


class _FirstBad:
    """Collects vectorised checks and keeps the earliest failing row (ties: the check flagged first)."""

    __slots__ = ("origin", "row", "message", "rows")

    def __init__(self, origin: _Origin) -> None:
        self.origin = origin
        self.row = -1
        self.message = ""
        self.rows: Mask | None = None  # every row flagged, kept only when they are to be dropped

    def flag(self, mask: Mask, col: _Column, rule: str | Callable[[int], str]) -> None:
        if self.origin.drop_bad:
            self.rows = mask.copy() if self.rows is None else self.rows | mask
        i = _first_true(mask)
        if i < 0 or 0 <= self.row <= i:
            return
        text = rule(i) if callable(rule) else rule
        self.row = i
        self.message = f"{self.origin.row(i)}, column {col.label!r}: {text}, was {col.shown(i)}"

    def raise_first(self) -> None:
        if self.row >= 0:
            raise self.origin.fail(self.message)


BadRows = Literal["raise", "drop"]


def _origin(path: PathLike, kind: str, bad_rows: str) -> _Origin:
    if bad_rows not in ("raise", "drop"):
        raise ConfigError(f"bad_rows must be 'raise' or 'drop', was {bad_rows!r}")
    return _Origin(str(path), kind, drop_bad=bad_rows == "drop")


def _first_true(mask: Mask) -> int:
    if mask.size == 0:
        return -1
    i = int(np.argmax(mask))
    return i if mask[i] else -1


def _iso(ns: int) -> str:
    """Like ``pandas.Timestamp(ns, unit="ns", tz="UTC").isoformat()`` (int64 min is pandas' NaT)."""
    if ns == -_I64_MAX - 1:
        return "NaT"
    sec, sub = divmod(ns, 1_000_000_000)
    t = _EPOCH + timedelta(seconds=sec, microseconds=sub // 1_000)
    if sub % 1_000:
        return f"{t.replace(tzinfo=None).isoformat(timespec='microseconds')}{sub % 1_000:03d}+00:00"
    return t.isoformat()


def _timestamp_repr(value: np.datetime64) -> str:
    """A ``datetime64[s|ms|us|ns]`` as the repr of the naive ``pandas.Timestamp`` it becomes in a Series."""
    if np.isnat(value):
        return "NaT"
    unit = np.datetime_data(value.dtype)[0]
    sub_ns = int(value.view(np.int64)) % (1_000_000_000 // _UNIT_NS[unit]) * _UNIT_NS[unit]
    shown: Literal["s", "us", "ns"] = "s" if sub_ns == 0 else "us" if sub_ns % 1_000 == 0 else "ns"
    return f"Timestamp('{np.datetime_as_string(value, unit=shown).replace('T', ' ')}')"


def _num(x: Any) -> str:
    return repr(float(x))


# --------------------------------------------------------------------------------------------------
# Conversions with NumPy (text and the rest go through barter.data._readers, i.e. pandas)
# --------------------------------------------------------------------------------------------------
def _numeric_sides(v: F64) -> tuple[F64, Mask]:
    """Sides given as numbers: NaN means unknown (0); anything but -1, 0, 1 is bad."""
    v = np.where(np.isnan(v), 0.0, v)
    return v, ~np.isin(v, (-1.0, 0.0, 1.0))


def _side_column(v: F64, bad: Mask, label: str, raw: Any) -> _Column:
    """Int8 sides: 1 buy, -1 sell, 0 unknown (missing, empty or 0)."""
    values = np.where(bad, 0.0, v).astype(np.int8)
    return _Column("side", label, values, raw=raw, bad=bad, rule=_SIDE_RULE)


def _epoch_column(label: str, x: np.ndarray, unit: str) -> _Column:
    ns, bad = _epoch_ns(x, unit)
    return _Column("time_ns", label, ns, raw=x, bad=bad, rule=_TIME_RULE, is_time=True)


def _datetime64_ns(a: np.ndarray) -> tuple[I64, Mask]:
    """``datetime64[s|ms|us|ns]`` as int64 ns; NaT and times outside pandas' ns range are bad."""
    factor = _UNIT_NS[np.datetime_data(a.dtype)[0]]
    v = a.view(np.int64)
    bad = np.isnat(a) | (v < -(_I64_MAX // factor)) | (v > _I64_MAX // factor)
    return np.where(bad, np.iinfo(np.int64).min, v * factor), bad


def _epoch_ns(x: np.ndarray, unit: str | None) -> tuple[I64, Mask]:
    if unit == "ns" and x.dtype == np.int64:
        return x, np.zeros(x.shape[0], dtype=bool)
    xf = x.astype(np.float64, copy=False)
    finite = np.isfinite(xf)
    factor = _UNIT_NS[unit or _infer_unit(xf[finite])]
    bad = ~finite | (np.abs(xf) >= float(np.iinfo(np.int64).max // factor))
    if x.dtype.kind in "iu":
        return np.where(bad, 0, x).astype(np.int64) * factor, bad
    safe = np.where(bad, 0.0, xf)
    whole = np.floor(safe)
    frac = np.round((safe - whole) * factor).astype(np.int64)
    return whole.astype(np.int64) * factor + frac, bad


def _infer_unit(x: F64) -> str:
    """Epoch unit from the median magnitude: s < 1e11 <= ms < 1e14 <= us < 1e17 <= ns."""
    m = float(np.median(np.abs(x))) if x.size else 0.0
    return "s" if m < 1e11 else "ms" if m < 1e14 else "us" if m < 1e17 else "ns"


# --------------------------------------------------------------------------------------------------
# Value columns and array input
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Field:
    """A value column: canonical name, accepted names (lower case), kind of check, required or not."""

    name: str
    aliases: tuple[str, ...]
    kind: str  # "price" (finite > 0), "volume" (finite >= 0), "amount" (finite > 0), "side"
    required: bool = True


_CANDLE_FIELDS = (
    _Field("open", ("open",), "price"),
    _Field("high", ("high",), "price"),
    _Field("low", ("low",), "price"),
    _Field("close", ("close",), "price"),
    _Field("volume", ("volume",), "volume", required=False),
)
_TRADE_FIELDS = (
    _Field("price", ("price",), "price"),
    _Field("amount", ("amount", "qty", "quantity", "size"), "amount"),
    _Field("side", ("side",), "side", required=False),
)


_QUOTE_FIELDS = (
    _Field("bid_price", ("bid_price", "bid", "bidprice", "best_bid", "bid_px"), "price"),
    _Field("bid_amount", ("bid_amount", "bid_size", "bid_qty", "bidsize", "bid_volume"), "volume", required=False),
    _Field("ask_price", ("ask_price", "ask", "askprice", "best_ask", "ask_px"), "price"),
    _Field("ask_amount", ("ask_amount", "ask_size", "ask_qty", "asksize", "ask_volume"), "volume", required=False),
)


def _array_columns(arrays: dict[str, Any], origin: _Origin) -> dict[str, _Column]:
    """Columns from 1-D array-likes of equal length; ``time_ns`` is epoch ns or datetime64."""
    series: dict[str, np.ndarray] = {}
    for name, a in arrays.items():
        arr = np.asarray(a)
        if arr.ndim != 1:
            raise origin.fail(f"{name} must be a 1-D array, had shape {arr.shape}")
        series[name] = arr
    lengths = {name: len(s) for name, s in series.items()}
    if len(set(lengths.values())) > 1:
        raise origin.fail(f"arrays must have equal lengths, had {lengths}")
    if lengths["time_ns"] == 0:
        raise origin.fail("no data rows (0 rows)")
    return {name: _array_column(name, arr) for name, arr in series.items()}


def _array_column(name: str, a: np.ndarray) -> _Column:
    """Numbers (and ``datetime64[s|ms|us|ns]`` times) with NumPy; anything else through pandas."""
    if name == "time_ns" and a.dtype.kind == "M" and np.datetime_data(a.dtype) in _DT64_UNITS:
        ns, bad = _datetime64_ns(a)
        return _Column("time_ns", name, ns, raw=a, bad=bad, rule=_TIME_RULE, is_time=True)
    if a.dtype.kind not in "iuf":
        from barter.data import _readers
        return _readers.array_column(name, a)
    if name == "time_ns":
        return _epoch_column(name, a, "ns")
    if name == "side":
        return _side_column(*_numeric_sides(a.astype(np.float64)), name, a)
    return _Column(name, name, a.astype(np.float64, copy=False))


# Interpreted in the unit, both the first and the last time are in [1990-01-01, 2100-01-01): in ns
# they are within 4.1 s, 68 min or 47 days of 1970-01-01, which real ns data hardly is. (Not from
# 1973: synthetic ns times minutes after the epoch, as tests and examples make, would look like ms.)
_PLAUSIBLE_NS = (631_152_000 * 10**9, 4_102_444_800 * 10**9)


def _arrays_time_ns(time_ns: npt.ArrayLike, unit: str | None, source: str) -> Any:
    """``time_ns`` of ``from_arrays`` as ns: numeric times in ``unit`` converted; with no unit,
    ns that look like epoch s/ms/us refused. Only the first and the last time are looked at."""
    if unit is not None and unit not in _UNIT_NS:
        raise ConfigError(f"time_unit must be one of {sorted(_UNIT_NS)}, was {unit!r}")
    a = np.asarray(time_ns)
    if a.ndim != 1 or a.shape[0] == 0 or a.dtype.kind not in "iuf" or unit == "ns":
        if unit not in (None, "ns") and a.dtype.kind == "M":
            raise ConfigError(f"time_unit={unit!r} is for numeric epoch times; datetime64 times carry their unit")
        return time_ns  # validation reports anything wrong
    if unit is not None:
        ns, bad = _epoch_ns(a, unit)
        if bad.any():
            origin = _Origin(source, "arrays")
            i = int(np.argmax(bad))
            raise origin.fail(f"{origin.row(i)}, column 'time_ns': {_TIME_RULE}, was {a[i].item()!r} {unit}")
        return ns
    first, last = float(a[0]), float(a[-1])
    lo, hi = _PLAUSIBLE_NS
    for guess in ("s", "ms", "us"):
        f = _UNIT_NS[guess]
        if lo <= first * f < hi and lo <= last * f < hi:
            raise DataError(
                f"{source}: time_ns must be UNIX epoch ns, but the first and last times "
                f"{a[0].item()!r} .. {a[-1].item()!r} look like epoch {guess} (as ns they are "
                f"{_iso(int(first))} .. {_iso(int(last))}): pass time_unit={guess!r}, "
                f"or time_unit='ns' if they really are ns")
    return time_ns


# --------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------
def _check_values(chk: _FirstBad, col: _Column, kind: str) -> None:
    v = col.values
    if kind == "price":
        chk.flag(~(np.isfinite(v) & (v > 0)), col, f"{col.name} price must be finite and > 0")
    elif kind == "amount":
        chk.flag(~(np.isfinite(v) & (v > 0)), col, f"{col.name} must be finite and > 0")
    elif kind == "volume":
        chk.flag(~(np.isfinite(v) & (v >= 0)), col, f"{col.name} must be finite and >= 0")


def _check_time_order(chk: _FirstBad, col: _Column) -> None:
    t = col.values
    back = np.zeros(t.shape[0], dtype=bool)
    np.less(t[1:], t[:-1], out=back[1:])
    chk.flag(back, col, lambda i: f"timestamps must not decrease ({_iso(int(t[i]))} is before the "
                                  f"previous row's {_iso(int(t[i - 1]))})")


def _check_ohlc(chk: _FirstBad, cols: dict[str, _Column]) -> None:
    o, h, lo, c = (cols[k].values for k in ("open", "high", "low", "close"))
    low_label = cols["low"].label
    chk.flag(h < lo, cols["high"], lambda i: f"high must be >= low ({_num(lo[i])} in column {low_label!r})")
    top = np.maximum(o, c)
    chk.flag(h < top, cols["high"], lambda i: f"high must be >= max(open, close) = {_num(top[i])}")
    bottom = np.minimum(o, c)
    chk.flag(lo > bottom, cols["low"], lambda i: f"low must be <= min(open, close) = {_num(bottom[i])}")


def _check_quotes(chk: _FirstBad, cols: dict[str, _Column]) -> None:
    bid, ask = cols["bid_price"].values, cols["ask_price"].values
    ask_label = cols["ask_price"].label
    chk.flag(bid > ask, cols["bid_price"], lambda i: f"bid must be <= ask ({_num(ask[i])} in column "
                                                     f"{ask_label!r}): a crossed quote")


def _validated(cols: dict[str, _Column], origin: _Origin, spec: tuple[_Field, ...],
               extra: Callable[[_FirstBad, dict[str, _Column]], None] | None) -> dict[str, np.ndarray]:
    """Run every check, raise the first bad row's DataError, else return C-contiguous arrays."""
    chk = _FirstBad(origin)
    for col in cols.values():
        if col.bad is not None:
            chk.flag(col.bad, col, col.rule)
    for f in spec:
        if f.name in cols:
            _check_values(chk, cols[f.name], f.kind)
    if extra is not None:
        extra(chk, cols)
    if chk.rows is not None and chk.rows.any():  # bad_rows="drop"; time order is checked on the rest
        cols, origin = _drop_rows(cols, origin, chk)
        chk = _FirstBad(origin)
    _check_time_order(chk, cols["time_ns"])
    chk.raise_first()
    n = cols["time_ns"].values.shape[0]
    out = {name: np.ascontiguousarray(col.values) for name, col in cols.items()}
    for f in spec:
        if f.name not in out:
            out[f.name] = np.zeros(n, dtype=np.int8 if f.kind == "side" else np.float64)
    return out


def _drop_rows(cols: dict[str, _Column], origin: _Origin,
               chk: _FirstBad) -> tuple[dict[str, _Column], _Origin]:
    """The columns without the rows ``chk`` flagged, and an origin naming the rows left by their
    source rows; a ``DataWarning`` says how many went and why the first one did."""
    bad = chk.rows
    assert bad is not None
    keep = ~bad
    n_bad = int(bad.sum())
    if n_bad == bad.size:
        raise origin.fail(f"every row is bad ({n_bad}); the first: {chk.message}")
    warnings.warn(f"{origin.source}: dropped {n_bad} bad row(s) of {bad.size}; the first: {chk.message}",
                  DataWarning, stacklevel=_caller_level())
    kept = {name: replace(col, values=col.values[keep], bad=None,
                          raw=None if col.raw is None else np.asarray(col.raw, dtype=object)[keep])
            for name, col in cols.items()}
    return kept, replace(origin, kept=np.flatnonzero(keep))


def _caller_level() -> int:
    """The ``stacklevel`` of the first caller outside this package's data readers."""
    frame: Any = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_HERE):
        frame, level = frame.f_back, level + 1
    return level


_HERE = os.path.dirname(__file__)


def _trusted(cls: type[T], **values: Any) -> T:
    """An instance built from already validated values, without running ``__post_init__`` again."""
    obj = object.__new__(cls)
    for name, value in values.items():
        object.__setattr__(obj, name, value)
    return obj


def _same(a: Any, b: Any) -> bool:
    """Field-wise equality (``compare=True`` fields only), arrays by value."""
    if type(a) is not type(b):
        return False
    return all(np.array_equal(getattr(a, f.name), getattr(b, f.name)) for f in fields(a) if f.compare)


# --------------------------------------------------------------------------------------------------
# JSON files
# --------------------------------------------------------------------------------------------------
def file_format(path: PathLike) -> Literal["parquet", "json", "csv"]:
    """How a data file is read, by its name: a final ``.gz`` is compression (``x.json.gz`` is JSON)."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    last = suffixes[-1] if suffixes else ""
    return "parquet" if last in (".parquet", ".pq") else "json" if last == ".json" else "csv"


def _load_json(path: PathLike) -> Any:
    """A JSON document, gunzipped first when the name ends in ``.gz``."""
    try:
        if str(path).endswith(".gz"):
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                return json.load(fh)
        with Path(path).open(encoding="utf-8") as fh:
            return json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError, gzip.BadGzipFile, EOFError) as e:
        raise DataError(f"{path}: not valid JSON: {e}") from e


def _json_array(data: Any, origin: _Origin, layout: str) -> list[Any]:
    if not isinstance(data, list):
        raise origin.fail(f"expected a JSON array of {layout}, was {type(data).__name__}")
    if not data:
        raise origin.fail("no data rows (0 rows)")
    return data


_OHLCV_NAMES = ("timestamp", "open", "high", "low", "close", "volume")


def _ohlcv_matrix(rows: list[Any], origin: _Origin) -> F64:
    """``[[ms, open, high, low, close(, volume)], ...]`` as a float64 (n, 5|6) matrix."""
    try:
        m = np.array(rows, dtype=np.float64)
        if m.ndim == 2 and m.shape[1] in (5, 6):
            return m
    except (TypeError, ValueError):
        pass
    width = len(rows[0]) if isinstance(rows[0], list) and len(rows[0]) in (5, 6) else 6
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            raise origin.fail(f"{origin.row(i)}: expected [ms_timestamp, open, high, low, close, volume] "
                              f"with {width} elements, was {row!r}")
        for j, value in enumerate(row):
            if not isinstance(value, (int, float)) and value is not None:
                raise origin.fail(f"{origin.row(i)}, column {_OHLCV_NAMES[j]!r}: must be a number, "
                                  f"was {value!r}")
    raise origin.fail("rows do not form an (n, 5) or (n, 6) numeric array")


# --------------------------------------------------------------------------------------------------
# Public classes
# --------------------------------------------------------------------------------------------------
class _Historic:
    """What the historic feeds share: validation of their arrays on construction (``_FIELDS`` after
    ``time_ns``, then ``_check``), length, equality by value (``source`` ignored) and a short repr."""

    __slots__ = ()
    _FIELDS: ClassVar[tuple[_Field, ...]] = ()
    _check: ClassVar[Any] = None

    def __post_init__(self) -> None:
        origin = _Origin(str(self.source), "arrays")  # type: ignore[attr-defined]
        names = ("time_ns", *(f.name for f in self._FIELDS))
        cols = _array_columns({n: getattr(self, n) for n in names}, origin)
        for name, values in _validated(cols, origin, self._FIELDS, self._check).items():
            object.__setattr__(self, name, values)

    def __len__(self) -> int:
        return int(self.time_ns.shape[0])  # type: ignore[attr-defined]

    def __eq__(self, other: object) -> bool:
        return _same(self, other)

    def __repr__(self) -> str:
        t = self.time_ns  # type: ignore[attr-defined]
        return (f"{type(self).__name__}({len(self)} rows, {_iso(int(t[0]))} .. {_iso(int(t[-1]))}, "
                f"source={self.source!r})")  # type: ignore[attr-defined]

    @classmethod
    def from_csv(cls: type[H], path: PathLike, *, time_column: str | None = None, time_unit: str | None = None,
                 bad_rows: BadRows = "raise", **read_csv_kwargs: Any) -> H:
        """From a CSV file read by ``pandas.read_csv(path, **read_csv_kwargs)``; columns are found by
        name (any case). Bad rows are reported as 1-based data rows, not counting the header line;
        ``bad_rows="drop"`` drops them instead, with a ``DataWarning`` (timestamps going backwards
        still raise)."""
        from barter.data import _readers
        frame = _readers.read_csv(path, read_csv_kwargs)
        return cls._from_frame(frame, _origin(path, "csv", bad_rows), time_column, time_unit)

    @classmethod
    def from_parquet(cls: type[H], path: PathLike, *, time_column: str | None = None,
                     time_unit: str | None = None, bad_rows: BadRows = "raise") -> H:
        """From a Parquet file (via pyarrow), time from a column or the stored pandas index;
        ``bad_rows`` as in ``from_csv``."""
        from barter.data import _readers
        frame = _readers.read_parquet(path)
        return cls._from_frame(frame, _origin(path, "parquet", bad_rows), time_column, time_unit)

    @classmethod
    def _from_frame(cls: type[H], df: pd.DataFrame, origin: _Origin, time_column: str | None,
                    time_unit: str | None) -> H:
        from barter.data import _readers
        cols = _readers.frame_columns(df, origin, cls._FIELDS, time_column, time_unit)
        return cls._from_columns(cols, origin)

    @classmethod
    def _from_columns(cls: type[H], cols: dict[str, _Column], origin: _Origin) -> H:
        return _trusted(cls, source=origin.source, **_validated(cols, origin, cls._FIELDS, cls._check))


@dataclass(frozen=True, slots=True, eq=False, repr=False)  # _Historic's
class HistoricalCandles(_Historic):
    """OHLCV bars in time order, validated on construction.

    Arrays are C-contiguous and may share memory with the inputs; treat them as read-only.
    Equality compares the arrays by value and ignores ``source``.

    Attributes
    ----------
    time_ns : numpy.ndarray of int64
        Bar time as given by the source, UNIX epoch ns (UTC); never decreasing. barter runs a bar at
        this time as the time its close is known (the seed's and the live feeds' candles carry their
        close time); ``shifted(interval)`` moves bars stamped at their open to their close.
    open, high, low, close : numpy.ndarray of float64
        Prices, quote currency per 1 base unit; finite and > 0, with
        ``low <= min(open, close)`` and ``high >= max(open, close)``.
    volume : numpy.ndarray of float64
        Traded amount in the bar as given by the source (base units, or quote notional for some
        venues); finite and >= 0, zeros when the source has none.
    source : str
        File path the data came from, ``"DataFrame"`` or ``"arrays"`` (used in error messages).
    """

    time_ns: I64
    open: F64
    high: F64
    low: F64
    close: F64
    volume: F64
    source: str = field(default="arrays", compare=False)

    _FIELDS: ClassVar[tuple[_Field, ...]] = _CANDLE_FIELDS
    _check: ClassVar[Any] = staticmethod(_check_ohlc)

    @classmethod
    def from_arrays(cls, time_ns: npt.ArrayLike, open: npt.ArrayLike, high: npt.ArrayLike,
                    low: npt.ArrayLike, close: npt.ArrayLike, volume: npt.ArrayLike | None = None,
                    *, source: str = "arrays", time_unit: str | None = None) -> HistoricalCandles:
        """Candles from 1-D arrays; ``time_ns`` is int64 UNIX ns (UTC) or ``datetime64``.

        ``volume=None`` means zeros. Bad rows are reported as 0-based positions.

        ``time_unit`` (``"s"``, ``"ms"``, ``"us"``, ``"ns"``) is the unit of numeric times, as the
        file readers take it. When it is not given they are ns, and times that look like epoch
        s, ms or us -- the first and the last would be in 1990..2100 in that unit but are within
        seconds to weeks of 1970-01-01 as ns -- raise ``DataError`` saying which ``time_unit`` to
        pass; ``time_unit="ns"`` takes such times as they are (for data really in 1970).
        """
        times = _arrays_time_ns(time_ns, time_unit, source)
        vol = np.zeros(np.shape(times)[0] if np.ndim(times) else 0) if volume is None else volume
        return cls(times, open, high, low, close, vol, source)  # type: ignore[arg-type]

    @classmethod
    def from_frame(cls, df: pd.DataFrame, *, source: str = "DataFrame", time_column: str | None = None,
                   time_unit: str | None = None) -> HistoricalCandles:
        """Candles from a DataFrame with open/high/low/close(/volume) columns (any case) and a time
        column or DatetimeIndex (see the module docstring). Bad rows are 0-based positions."""
        return cls._from_frame(df, _Origin(source, "frame"), time_column, time_unit)

    @classmethod
    def from_file(cls, path: PathLike, *, time_column: str | None = None,
                  time_unit: str | None = None, bad_rows: BadRows = "raise") -> HistoricalCandles:
        """Candles from a file, read by its name: ``.parquet``/``.pq`` (``from_parquet``), ``.json``
        (``from_json``), anything else as CSV (``from_csv``); a final ``.gz`` is compression."""
        kind = file_format(path)
        if kind == "parquet":
            return cls.from_parquet(path, time_column=time_column, time_unit=time_unit, bad_rows=bad_rows)
        if kind == "csv":
            return cls.from_csv(path, time_column=time_column, time_unit=time_unit, bad_rows=bad_rows)
        if time_column is not None or time_unit is not None:
            raise ConfigError(f"{Path(path).name}: time_column/time_unit do not apply to JSON candles "
                              "(their times are epoch ms)")
        return cls.from_json(path, bad_rows=bad_rows)

    @classmethod
    def from_json(cls, path: PathLike, *, bad_rows: BadRows = "raise") -> HistoricalCandles:
        """Candles from the freqtrade/ccxt OHLCV layout: a JSON array (optionally ``.gz``) of
        ``[ms_timestamp, open, high, low, close, volume]`` (volume may be left out on every row);
        ``bad_rows`` as in ``from_csv``."""
        origin = _origin(path, "json", bad_rows)
        m = _ohlcv_matrix(_json_array(_load_json(path), origin, "[ms, o, h, l, c, v] rows"), origin)
        cols = {"time_ns": _epoch_column("timestamp", m[:, 0], "ms")}
        for j, name in enumerate(_OHLCV_NAMES[1:m.shape[1]], start=1):
            cols[name] = _Column(name, name, np.ascontiguousarray(m[:, j]))
        return cls._from_columns(cols, origin)

    def shifted(self, ns: int) -> HistoricalCandles:
        """The same bars ``ns`` nanoseconds later: ``shifted(interval)`` moves bars stamped at their
        open to their close, the time barter runs a candle at (see the class docstring)."""
        if isinstance(ns, bool) or not isinstance(ns, (int, np.integer)):
            raise ConfigError(f"shifted takes int nanoseconds, was {ns!r}")
        return HistoricalCandles.from_arrays(self.time_ns + np.int64(ns), self.open, self.high, self.low,
                                             self.close, self.volume, source=f"{self.source} shifted {int(ns)} ns",
                                             time_unit="ns")

    def to_frame(self) -> pd.DataFrame:
        """Columns open, high, low, close, volume indexed by a UTC ``DatetimeIndex`` named ``time``."""
        data = {"open": self.open, "high": self.high, "low": self.low, "close": self.close,
                "volume": self.volume}
        from barter.data import _readers
        return _readers.to_frame(data, self.time_ns)


@dataclass(frozen=True, slots=True, eq=False, repr=False)  # _Historic's
class HistoricalTrades(_Historic):
    """Public trades in time order, validated on construction.

    Arrays are C-contiguous and may share memory with the inputs; treat them as read-only.
    Equality compares the arrays by value and ignores ``source``.

    Attributes
    ----------
    time_ns : numpy.ndarray of int64
        Trade time, UNIX epoch ns (UTC); never decreasing (equal times allowed).
    price : numpy.ndarray of float64
        Quote currency per 1 base unit; finite and > 0.
    amount : numpy.ndarray of float64
        Base units traded; finite and > 0.
    side : numpy.ndarray of int8
        Taker side: 1 buy, -1 sell, 0 unknown.
    source : str
        File path the data came from, ``"DataFrame"`` or ``"arrays"`` (used in error messages).
    """

    time_ns: I64
    price: F64
    amount: F64
    side: npt.NDArray[np.int8]
    source: str = field(default="arrays", compare=False)

    _FIELDS: ClassVar[tuple[_Field, ...]] = _TRADE_FIELDS
    _check: ClassVar[Any] = None

    @classmethod
    def from_arrays(cls, time_ns: npt.ArrayLike, price: npt.ArrayLike, amount: npt.ArrayLike,
                    side: SideLike | None = None, *, source: str = "arrays") -> HistoricalTrades:
        """Trades from 1-D arrays; ``time_ns`` is int64 UNIX ns (UTC) or ``datetime64``; ``side`` holds
        ±1/0 or buy/sell/b/s strings, ``None`` means unknown (0). Bad rows are 0-based positions."""
        sides = np.zeros(np.shape(time_ns)[0] if np.ndim(time_ns) else 0, np.int8) if side is None else side
        return cls(time_ns, price, amount, sides, source)  # type: ignore[arg-type]

    @classmethod
    def from_frame(cls, df: pd.DataFrame, *, source: str = "DataFrame", time_column: str | None = None,
                   time_unit: str | None = None) -> HistoricalTrades:
        """Trades from a DataFrame with price, amount (or qty/quantity/size) and optional side columns."""
        return cls._from_frame(df, _Origin(source, "frame"), time_column, time_unit)

    @classmethod
    def from_ccxt_json(cls, path: PathLike) -> HistoricalTrades:
        """Trades from a JSON array (optionally ``.gz``) of ccxt trade objects, using their
        ``timestamp`` (ms), ``price``, ``amount`` and ``side`` (``"buy"``/``"sell"``/null) keys."""
        origin = _Origin(str(path), "json")
        from barter.data import _readers
        frame = _readers.ccxt_frame(_json_array(_load_json(path), origin, "ccxt trade objects"), origin)
        return cls._from_frame(frame, origin, "timestamp", "ms")

    def to_frame(self) -> pd.DataFrame:
        """Columns price, amount, side indexed by a UTC ``DatetimeIndex`` named ``time``."""
        data = {"price": self.price, "amount": self.amount, "side": self.side}
        from barter.data import _readers
        return _readers.to_frame(data, self.time_ns)


@dataclass(frozen=True, slots=True, eq=False, repr=False)  # _Historic's
class HistoricalQuotes(_Historic):
    """Best bid and ask (L1) in time order, validated on construction.

    Arrays are C-contiguous and may share memory with the inputs; treat them as read-only.
    Equality compares the arrays by value and ignores ``source``.

    Attributes
    ----------
    time_ns : numpy.ndarray of int64
        Quote time, UNIX epoch ns (UTC); never decreasing.
    bid_price, ask_price : numpy.ndarray of float64
        Quote currency per 1 base unit; finite, > 0 and bid <= ask (a crossed quote is a bad row;
        a locked one, bid == ask, is kept).
    bid_amount, ask_amount : numpy.ndarray of float64
        Base units at the best bid / ask; finite and >= 0 (zeros when the source has none).
    source : str
    """

    time_ns: I64
    bid_price: F64
    bid_amount: F64
    ask_price: F64
    ask_amount: F64
    source: str = field(default="arrays", compare=False)

    _FIELDS: ClassVar[tuple[_Field, ...]] = _QUOTE_FIELDS
    _check: ClassVar[Any] = staticmethod(_check_quotes)

    @property
    def mid_price(self) -> F64:
        """The seed's volume-weighted mid price per row (the plain mid where both amounts are 0):
        what marks positions and what a simulated market order fills at."""
        total = self.bid_amount + self.ask_amount
        weighted = (self.bid_price * self.ask_amount + self.ask_price * self.bid_amount) / np.where(total > 0, total, 1.0)
        return np.where(total > 0, weighted, (self.bid_price + self.ask_price) / 2.0)

    @classmethod
    def from_arrays(cls, time_ns: npt.ArrayLike, bid_price: npt.ArrayLike, bid_amount: npt.ArrayLike,
                    ask_price: npt.ArrayLike, ask_amount: npt.ArrayLike, *,
                    source: str = "arrays") -> HistoricalQuotes:
        """Quotes from 1-D arrays; ``time_ns`` is int64 UNIX ns (UTC) or ``datetime64``."""
        return cls(time_ns, bid_price, bid_amount, ask_price, ask_amount, source)  # type: ignore[arg-type]

    @classmethod
    def from_frame(cls, df: pd.DataFrame, *, source: str = "DataFrame", time_column: str | None = None,
                   time_unit: str | None = None) -> HistoricalQuotes:
        """Quotes from a DataFrame with bid/ask price columns (``bid``, ``bid_price``, ...) and
        optional amount columns (``bid_size``, ``bid_amount``, ...)."""
        return cls._from_frame(df, _Origin(source, "frame"), time_column, time_unit)
