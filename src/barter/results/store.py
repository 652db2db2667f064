"""Save a backtest result to a directory (Parquet and JSON) and read it back identically.

A run directory holds::

    fills.parquet      every fill (``BacktestResult.fills``)
    positions.parquet  exited positions (``BacktestResult.positions``)
    equity.parquet     the equity curve, when it was recorded (``BacktestResult.equity``)
    prices.parquet     traded prices ``time, market, price``, when the data had them
    summary.json       ``SummaryTable.to_dict()``: {row id: {figure: value}}
    meta.json          format, barter version, engine id, markets, statistics settings, config

JSON is strict (RFC 8259): a non-finite float is written as the string ``"inf"``, ``"-inf"`` or
``"nan"`` and read back as that float; finite floats are written with ``repr`` and read back exactly.
``meta.json`` is written last, so a directory without it is an unfinished save.
"""
from __future__ import annotations

import json
import math
import os
import shutil
from dataclasses import asdict, fields
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Optional, Union

from barter.errors import ConfigError, DataError
from barter.instrument import InstrumentKind, Market
from barter.results._common import has_equity, price_frame, statistic_config
from barter.statistic.summary import EquitySummary, StatisticConfig, SummaryTable, TradingSummary

if TYPE_CHECKING:
    import pandas as pd

FORMAT = "barter.results/1"
FILLS, POSITIONS, EQUITY, PRICES = "fills.parquet", "positions.parquet", "equity.parquet", "prices.parquet"
SUMMARY, META = "summary.json", "meta.json"
PathLike = Union[str, "os.PathLike[str]"]
ConfigLike = Union[Mapping[str, Any], str, "os.PathLike[str]", None]

_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}
_EQUITY_PREFIX = "equity_"


# --------------------------------------------------------------------------- summary JSON

def _float_fields(cls: type) -> set[str]:
    return {f.name for f in fields(cls) if f.type in ("float", float)}


_TRADING_FLOATS = _float_fields(TradingSummary)
_EQUITY_FLOATS = _float_fields(EquitySummary)


def _encode(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def summary_to_json(summary: SummaryTable) -> str:
    """``summary.to_dict()`` as strict JSON, non-finite floats as ``"inf"``/``"-inf"``/``"nan"``."""
    rows = {rid: {k: _encode(v) for k, v in row.items()} for rid, row in summary.to_dict().items()}
    return json.dumps(rows, indent=1, allow_nan=False) + "\n"


def _decode_row(rid: str, row: Mapping[str, Any], where: str) -> TradingSummary:
    def value(name: str, floats: set[str], key: str) -> Any:
        if key not in row:
            raise DataError(f"{where}: row {rid!r} has no {key!r}")
        v = row[key]
        if name in floats and isinstance(v, str):
            if v not in _NON_FINITE:
                raise DataError(f"{where}: row {rid!r} {key!r} must be a number, 'inf', '-inf' or 'nan', was {v!r}")
            return _NON_FINITE[v]
        return v

    trading = {f.name: value(f.name, _TRADING_FLOATS, f.name) for f in fields(TradingSummary) if f.name != "equity"}
    equity = EquitySummary(**{f.name: value(f.name, _EQUITY_FLOATS, _EQUITY_PREFIX + f.name)
                              for f in fields(EquitySummary)})
    known = set(trading) | {_EQUITY_PREFIX + f.name for f in fields(EquitySummary)}
    unknown = sorted(set(row) - known)
    if unknown:
        raise DataError(f"{where}: row {rid!r} has unknown figures {unknown} (written by a newer barter?)")
    return TradingSummary(**trading, equity=equity)


def summary_from_json(text: str, where: str = SUMMARY) -> SummaryTable:
    """The ``SummaryTable`` that ``summary_to_json`` wrote; ``where`` names the source in errors."""
    data = _parse_json(text, where)
    if not isinstance(data, dict):
        raise DataError(f"{where}: expected an object of summary rows, was {type(data).__name__}")
    rows = []
    for rid, row in data.items():
        if not isinstance(row, dict):
            raise DataError(f"{where}: row {rid!r} must be an object, was {type(row).__name__}")
        rows.append(_decode_row(rid, row, where))
    return SummaryTable(rows)


def _parse_json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None


# --------------------------------------------------------------------------- meta

def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()  # TOML dates and times
    raise TypeError(type(value).__name__)


def _market_meta(m: Market) -> dict[str, str]:
    i = m.instrument
    return {"id": m.market_id, "exchange": m.exchange.name, "base": i.base, "quote": i.quote, "kind": i.kind.name}


def _meta(result: Any, files: dict[str, str], config: Any, config_file: Optional[str]) -> dict[str, Any]:
    from barter import __version__

    engine = result.engine
    return {
        "format": FORMAT,
        "barter_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "engine_id": engine.engine_id,
        "markets": [_market_meta(m) for m in result.portfolio.markets],
        "starting_cash": result.portfolio.starting_cash,
        "statistic_config": asdict(statistic_config(result)),
        "events": engine.events,
        "elapsed_s": engine.elapsed_s,
        "files": files,
        "config": config,
        "config_file": config_file,
    }


# --------------------------------------------------------------------------- save

def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    frame.to_parquet(tmp, engine="pyarrow")
    os.replace(tmp, path)


def _write_text(text: str, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def save_result(result: Any, directory: PathLike, *, config: ConfigLike = None, prices: bool = True) -> Path:
    """Write ``result`` (a ``BacktestResult``) to ``directory`` as Parquet and JSON.

    Parameters
    ----------
    result : BacktestResult
    directory : path
        Created if missing; files of an earlier save there are replaced.
    config : mapping, path or None
        The run's configuration: a mapping is stored in ``meta.json`` (``"config"``; dates and times
        as ISO text), a file (e.g. the TOML) is copied in as ``config<suffix>``.
    prices : bool
        Also write the traded prices (``prices.parquet``: ``time``, ``market``, ``price`` in quote
        currency per base unit) so the tear sheet can mark trades on price after loading.

    Returns
    -------
    pathlib.Path
        The run directory.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    mapping: Optional[dict[str, Any]] = None
    config_file: Optional[str] = None
    if isinstance(config, Mapping):
        try:
            mapping = json.loads(json.dumps(dict(config), default=_json_default, allow_nan=False))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"config must be JSON-serialisable (str, numbers, lists, tables), failed on {exc}") from None
    elif config is not None:
        source = Path(config)
        if not source.is_file():
            raise ConfigError(f"config file not found: {source}")
        config_file = "config" + source.suffix
        shutil.copyfile(source, out / config_file)

    files = {"fills": FILLS, "positions": POSITIONS}
    _write_parquet(result.fills, out / FILLS)
    _write_parquet(result.positions, out / POSITIONS)
    if has_equity(result):
        _write_parquet(result.equity.to_frame(), out / EQUITY)
        files["equity"] = EQUITY
    frame = price_frame(result) if prices else None
    if frame is not None:
        _write_parquet(frame, out / PRICES)
        files["prices"] = PRICES
    _write_text(summary_to_json(result.summary), out / SUMMARY)
    files["summary"] = SUMMARY
    meta = _meta(result, files, mapping, config_file)
    _write_text(json.dumps(meta, indent=1, allow_nan=False) + "\n", out / META)
    return out


# --------------------------------------------------------------------------- load

class SavedResult:
    """A result read back by ``load_result``: the same tables and summary as the ``BacktestResult``.

    Attributes
    ----------
    summary : SummaryTable
        The same rows (``TradingSummary``) as the saved result's; ``to_dict``/``to_frame``/``str`` agree.
    fills, positions : pandas.DataFrame
        As ``BacktestResult.fills`` and ``.positions``.
    prices : pandas.DataFrame or None
        ``time``, ``market``, ``price`` (quote per base unit) when they were saved.
    markets : list of Market
    statistic_config : StatisticConfig
    meta : dict
        ``meta.json`` as written (format, barter version, engine id, events, config, ...).
    path : pathlib.Path
        The run directory.
    """

    def __init__(self, path: Path, meta: dict[str, Any], summary: SummaryTable, fills: pd.DataFrame,
                 positions: pd.DataFrame, equity: Optional[pd.Series], prices: Optional[pd.DataFrame]) -> None:
        self.path = path
        self.meta = meta
        self.summary = summary
        self.fills = fills
        self.positions = positions
        self._equity = equity
        self.prices = prices
        self.markets = [Market(m["exchange"], (m["base"], m["quote"], InstrumentKind[m["kind"]]))
                        for m in meta["markets"]]
        self.statistic_config = StatisticConfig(**meta["statistic_config"])

    @property
    def equity(self) -> pd.Series:
        """Portfolio equity (quote currency) at each event time (the last event's), indexed by UTC time."""
        if self._equity is None:
            raise ConfigError("equity was not recorded (record_equity=False)")
        return self._equity

    @property
    def has_equity(self) -> bool:
        return self._equity is not None

    @property
    def engine_id(self) -> str:
        return str(self.meta["engine_id"])

    @property
    def config(self) -> Optional[dict[str, Any]]:
        """The configuration stored in ``meta.json`` (None when none was given or it was a file)."""
        return self.meta.get("config")

    def tear_sheet(self, path: PathLike, price: Optional[pd.Series] = None, **options: Any) -> Path:
        """Write the HTML tear sheet (see ``barter.results.tear_sheet``)."""
        from barter.results.tearsheet import tear_sheet

        return tear_sheet(self, path, price, **options)

    def equity_png(self, path: PathLike, **options: Any) -> Path:
        """Write the equity/drawdown PNG (see ``barter.results.equity_png``)."""
        from barter.results.png import equity_png

        return equity_png(self, path, **options)

    def _repr_html_(self) -> str:
        from barter.results.html import result_html

        return result_html(self)

    def __repr__(self) -> str:
        return (f"SavedResult({str(self.path)!r}, events={self.meta.get('events')}, fills={len(self.fills)}, "
                f"equity={self.summary.total.equity.end:.2f})")


def _require(path: Path) -> Path:
    if not path.is_file():
        raise DataError(f"saved result is missing {path.name}: {path} not found")
    return path


def _restore_seconds(frame: pd.DataFrame, pandas_meta: Optional[dict[str, Any]]) -> pd.DataFrame:
    """Parquet has no second-resolution timestamps: put back a ``datetime64[s]`` column's unit.

    (pandas gives an *empty* column of epoch ns ``datetime64[s]``; pyarrow writes it as ms.)
    """
    import pandas as pd

    for col in (pandas_meta or {}).get("columns", []):
        name, numpy_type = col.get("name"), col.get("numpy_type")
        if numpy_type == "datetime64[s]" and name in frame.columns and frame[name].dtype.kind == "M":
            tz = (col.get("metadata") or {}).get("timezone")
            frame[name] = frame[name].astype(pd.DatetimeTZDtype(unit="s", tz=tz) if tz else "datetime64[s]")
    return frame


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(_require(path))
    except DataError:
        raise
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for a damaged file
        raise DataError(f"{path.name}: cannot be read as Parquet ({path}): {exc}") from None
    frame: pd.DataFrame = table.to_pandas()
    return _restore_seconds(frame, table.schema.pandas_metadata)


def _read_meta(run: Path) -> dict[str, Any]:
    path = _require(run / META)
    meta = _parse_json(path.read_text(encoding="utf-8"), META)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise DataError(f"{META}: format must be {FORMAT!r}, was {found!r}")
    for key in ("markets", "statistic_config", "files", "engine_id"):
        if key not in meta:
            raise DataError(f"{META}: missing key {key!r}")
    return meta


def load_result(directory: PathLike) -> SavedResult:
    """Read a run directory written by ``save_result``.

    Raises
    ------
    DataError
        When the directory, ``meta.json`` or a file it lists (fills, positions, summary, equity,
        prices) is missing or cannot be read; the message names the file.
    """
    run = Path(directory)
    if not run.is_dir():
        raise DataError(f"saved result directory not found: {run}")
    meta = _read_meta(run)
    files: dict[str, str] = meta["files"]
    summary_path = _require(run / files.get("summary", SUMMARY))
    summary = summary_from_json(summary_path.read_text(encoding="utf-8"), summary_path.name)
    fills = _read_parquet(run / files.get("fills", FILLS))
    positions = _read_parquet(run / files.get("positions", POSITIONS))
    equity = None
    if "equity" in files:
        table = _read_parquet(run / files["equity"])
        if "equity" not in table.columns:
            raise DataError(f"{files['equity']}: no 'equity' column, columns were {list(table.columns)}")
        equity = table["equity"]
    prices = _read_parquet(run / files["prices"]) if "prices" in files else None
    return SavedResult(run, meta, summary, fills, positions, equity, prices)


__all__ = ["SavedResult", "load_result", "save_result", "summary_from_json", "summary_to_json"]
