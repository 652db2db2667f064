"""The pandas side of :mod:`barter.data.historic`: DataFrame/CSV/Parquet/ccxt readers, text and datetime
parsing, ``to_frame``. Imported lazily by those methods only, so ``import barter`` stays free of pandas."""
from __future__ import annotations

import warnings
from typing import Any, Hashable, Sequence

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_numeric_dtype

from barter.data.historic import (
    _TIME_RULE, _UNIT_NS, I64, Mask, PathLike, _Column, _epoch_ns, _Field, _numeric_sides,
    _Origin, _side_column,
)
from barter.errors import ConfigError, DataError

_TIME_NAMES = ("timestamp", "time", "datetime", "date", "open_time", "close_time")
_NS_MIN = pd.Timestamp.min.tz_localize("UTC")
_NS_MAX = pd.Timestamp.max.tz_localize("UTC")
_SIDES = {"buy": 1, "b": 1, "sell": -1, "s": -1, "1": 1, "+1": 1, "-1": -1, "0": 0, "": 0,
          "1.0": 1, "+1.0": 1, "-1.0": -1, "0.0": 0}


# --------------------------------------------------------------------------------------------------
# Conversions: pandas Series -> _Column
# --------------------------------------------------------------------------------------------------
def _is_number(dtype: Any) -> bool:
    return bool(is_numeric_dtype(dtype)) and not is_bool_dtype(dtype)


def _float_col(s: pd.Series, name: str, label: str) -> _Column:
    """Float64 values; text that is not a number becomes NaN (and is quoted from ``raw``)."""
    if _is_number(s.dtype):
        return _Column(name, label, s.to_numpy(dtype=np.float64, na_value=np.nan))
    num = pd.to_numeric(s, errors="coerce")
    return _Column(name, label, num.to_numpy(dtype=np.float64, na_value=np.nan), raw=s.array)


def _side_col(s: pd.Series, label: str) -> _Column:
    """Int8 sides: 1 buy, -1 sell, 0 unknown (missing, empty or 0)."""
    if _is_number(s.dtype):
        v, bad = _numeric_sides(s.to_numpy(dtype=np.float64, na_value=np.nan))
    else:
        text = s.astype("string").str.strip().str.lower()
        v = text.map(_SIDES).to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isnan(v) & text.notna().to_numpy()
        v = np.where(np.isnan(v), 0.0, v)
    return _side_column(v, bad, label, s.array)


def _time_col(s: pd.Series, label: str, unit: str | None) -> _Column:
    """Int64 UNIX ns (UTC) from datetimes, epoch numbers or strings."""
    if unit is not None and unit not in _UNIT_NS:
        raise ConfigError(f"time_unit must be one of {sorted(_UNIT_NS)}, was {unit!r}")
    if is_datetime64_any_dtype(s.dtype):
        ns, bad = _datetimes_ns(pd.to_datetime(s, utc=True))
    elif _is_number(s.dtype) and unit is None and _yyyymmdd(s):
        ns, bad = _datetimes_ns(pd.to_datetime(s.astype("Int64").astype("string"), utc=True, format="%Y%m%d"))
    elif _is_number(s.dtype):
        ns, bad = _epoch_ns(s.to_numpy(), unit)
    else:
        ns, bad = _strings_ns(s)
    return _Column("time_ns", label, ns, raw=s.array, bad=bad, rule=_TIME_RULE, is_time=True)


def _yyyymmdd(s: pd.Series) -> bool:
    """Whether whole numbers are dates written as YYYYMMDD (20220131): each one a real date from
    1900 on. Epoch seconds that small would all fall in 1970-08 to 1970-12, so no file means them."""
    v = s.dropna().to_numpy()
    if not v.size or np.any(v != np.floor(v)) or v.min() < 19_000_101 or v.max() > 29_991_231:
        return False
    month, day = v // 100 % 100, v % 100
    if np.any((month < 1) | (month > 12) | (day < 1) | (day > 31)):
        return False
    text = pd.Series(v.astype(np.int64)).astype("string")
    return not pd.to_datetime(text, format="%Y%m%d", errors="coerce").isna().any()


def _strings_ns(s: pd.Series) -> tuple[I64, Mask]:
    """ISO 8601 first (fast, mixed offsets allowed); rows it cannot read get pandas' inferred format."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ns, bad = _datetimes_ns(pd.to_datetime(s, utc=True, errors="coerce", format="ISO8601"))
        retry = bad & s.notna().to_numpy()
        if retry.any():
            ns, bad = ns.copy(), bad.copy()
            ns[retry], bad[retry] = _datetimes_ns(pd.to_datetime(s[retry], utc=True, errors="coerce"))
    return ns, bad


def _datetimes_ns(dt: pd.Series) -> tuple[I64, Mask]:
    idx = pd.DatetimeIndex(dt)
    bad = np.asarray(idx.isna() | (idx < _NS_MIN) | (idx > _NS_MAX))
    if bad.any():
        idx = idx.where(~bad)
    return np.ascontiguousarray(idx.as_unit("ns").asi8, dtype=np.int64), bad


def array_column(name: str, arr: np.ndarray) -> _Column:
    """A column from a 1-D array NumPy alone does not convert (text, objects, bools, odd datetime units)."""
    s = pd.Series(arr, copy=False)
    if name == "time_ns":
        return _time_col(s, name, "ns")
    return _side_col(s, name) if name == "side" else _float_col(s, name, name)


# --------------------------------------------------------------------------------------------------
# Column lookup in a DataFrame
# --------------------------------------------------------------------------------------------------
def _lookup(labels: Sequence[Hashable], names: Sequence[str]) -> int:
    """Position of the first label equal (case-insensitively, stripped) to one of ``names``; -1 if none."""
    norm: dict[str, int] = {}
    for pos, label in enumerate(labels):
        norm.setdefault(str(label).strip().lower(), pos)
    return next((norm[n] for n in names if n in norm), -1)


def _found(df: pd.DataFrame) -> str:
    return f"columns found: {[str(c) for c in df.columns]}"


def _index_series(df: pd.DataFrame) -> tuple[pd.Series, str]:
    return pd.Series(df.index.array), str(df.index.name) if df.index.name is not None else "index"


def _looks_like_time(s: pd.Series) -> bool:
    """Datetime dtype, or text (not numbers) whose first non-missing values parse as times."""
    if is_datetime64_any_dtype(s.dtype):
        return True
    if _is_number(s.dtype) or is_bool_dtype(s.dtype):
        return False
    sample = s.dropna().head(10).astype(str)
    if sample.empty or pd.to_numeric(sample, errors="coerce").notna().any():
        return False
    return bool((~_strings_ns(sample)[1]).any())


def _find_time(df: pd.DataFrame, origin: _Origin, time_column: str | None) -> tuple[pd.Series, str]:
    """The time values and their label, following the module docstring's order."""
    names = (time_column.strip().lower(),) if time_column is not None else _TIME_NAMES
    pos = _lookup(list(df.columns), names)
    if pos >= 0:
        return df.iloc[:, pos], str(df.columns[pos])
    if _lookup([df.index.name], names) >= 0:
        return _index_series(df)
    if time_column is None:
        if isinstance(df.index, pd.DatetimeIndex):
            return _index_series(df)
        if df.shape[1] and _looks_like_time(df.iloc[:, 0]):
            return df.iloc[:, 0], str(df.columns[0])
        if not isinstance(df.index, pd.RangeIndex) and _looks_like_time(_index_series(df)[0]):
            return _index_series(df)
    wanted = repr(time_column) if time_column is not None else f"one of {list(_TIME_NAMES)}"
    raise origin.fail(f"missing required time column {wanted} (case-insensitive; no datetime-like "
                      f"first column or index either); {_found(df)}")


def frame_columns(df: pd.DataFrame, origin: _Origin, spec: tuple[_Field, ...],
                  time_column: str | None, time_unit: str | None) -> dict[str, _Column]:
    if not isinstance(df, pd.DataFrame):
        raise origin.fail(f"expected a pandas DataFrame, was {type(df).__name__}")
    if len(df) == 0:
        raise origin.fail(f"no data rows (0 rows); {_found(df)}")
    time, label = _find_time(df, origin, time_column)
    cols = {"time_ns": _time_col(time.reset_index(drop=True), label, time_unit)}
    for f in spec:
        pos = _lookup(list(df.columns), f.aliases)
        if pos >= 0:
            s = df.iloc[:, pos].reset_index(drop=True)
            label = str(df.columns[pos])
            cols[f.name] = _side_col(s, label) if f.kind == "side" else _float_col(s, f.name, label)
        elif f.required:
            raise origin.fail(f"missing required column {f.name!r} (case-insensitive, "
                              f"accepted names {list(f.aliases)}); {_found(df)}")
    return cols


# --------------------------------------------------------------------------------------------------
# Files and frames
# --------------------------------------------------------------------------------------------------
def read_csv(path: PathLike, kwargs: dict[str, Any]) -> pd.DataFrame:
    try:
        return pd.read_csv(path, **kwargs)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: empty file, no header and no data rows (0 rows)") from None
    except pd.errors.ParserError as e:
        raise DataError(f"{path}: cannot parse CSV: {e}") from e
    except UnicodeDecodeError as e:  # a binary file (Parquet, a zip) under a name read as CSV
        raise DataError(f"{path}: not a text CSV file ({e.reason} at byte {e.start}); Parquet files "
                        "need a .parquet or .pq name") from e


def read_parquet(path: PathLike) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise DataError(f"{path}: cannot read Parquet: {e}") from e


def ccxt_frame(rows: list[Any], origin: _Origin) -> pd.DataFrame:
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise origin.fail(f"{origin.row(i)}: expected a ccxt trade object, was {row!r}")
    return pd.DataFrame({k: [r.get(k) for r in rows] for k in ("timestamp", "price", "amount", "side")})


def to_frame(data: dict[str, Any], time_ns: I64) -> pd.DataFrame:
    """``data`` indexed by a UTC ``DatetimeIndex`` named ``time``."""
    index = pd.DatetimeIndex(pd.to_datetime(time_ns, unit="ns", utc=True), name="time")
    return pd.DataFrame(data, index=index)
