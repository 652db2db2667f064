"""Parquet storage of a recording (``barter.data.exchange.recorder``): a directory holding one file per
kind of event, ``<type>.parquet``, with that kind's fields as typed columns.

Every file has ``seq`` (int64, the event's position in the whole recording, so a reader can merge
the files back into one ordered stream). Market events and book statuses also have ``time_ns``
(exchange time, UNIX epoch ns) and the market as ``exchange``, ``base``, ``quote``,
``instrument_kind``. Book levels are ``list<struct<price: double, size: double>>`` (quote per base
unit, base units); ``side`` is int8 (+1 buy, -1 sell, null where the exchange does not say).

Rows are encoded to and decoded from the same dicts as the JSON-lines form (``encode_event`` /
``decode_event``), so both forms give back equal events. A file is only readable once its writer
is closed (Parquet writes its footer last): record to JSON lines where a crash must not lose the
session. pyarrow is optional (the ``parquet`` extra); without it the error says so.
"""
from __future__ import annotations

import importlib
from operator import itemgetter
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator, Union

from barter.errors import ConfigError, DataError

ROW_GROUP = 65_536  # rows buffered per kind before a row group is written
_MARKET = ("exchange", "base", "quote", "instrument_kind")
_LEVEL_COLUMNS = ("bids", "asks")


def pyarrow(action: str) -> tuple[ModuleType, ModuleType]:
    """``(pyarrow, pyarrow.parquet)``, or ``ConfigError`` naming the ``parquet`` extra."""
    try:
        return importlib.import_module("pyarrow"), importlib.import_module("pyarrow.parquet")
    except ImportError as e:
        raise ConfigError(f"{action} needs pyarrow, which is not installed: pip install 'barter[parquet]' "
                          f"({e})") from None


def _schemas(pa: ModuleType) -> dict[str, Any]:
    """The columns of each event type's file (see the module docstring)."""
    f64, i64, text = pa.float64(), pa.int64(), pa.string()
    levels = pa.list_(pa.struct([("price", f64), ("size", f64)]))
    market = [("seq", i64), ("time_ns", i64)] + [(name, text) for name in _MARKET]
    kinds: dict[str, list[tuple[str, Any]]] = {
        "trade": [("price", f64), ("amount", f64), ("side", pa.int8())],
        "candle": [(name, f64) for name in ("open", "high", "low", "close", "volume")],
        "l1": [("bid_price", f64), ("bid_amount", f64), ("ask_price", f64), ("ask_amount", f64),
               ("update_id", i64)],
        "l2_update": [("first_id", i64), ("last_id", i64), ("prev_last_id", i64), ("bids", levels),
                      ("asks", levels), ("checksum", i64)],
        "l2_snapshot": [("last_update_id", i64), ("bids", levels), ("asks", levels), ("checksum", i64),
                        ("decimals", pa.list_(i64)), ("depth", i64)],
        "liquidation": [("side", pa.int8()), ("price", f64), ("quantity", f64)],
        "book_status": [("state", text), ("reason", text)],
    }
    out = {name: pa.schema(market + cols) for name, cols in kinds.items()}
    for name in ("feed_error", "raw"):
        extra = [("reason", text)] if name == "feed_error" else []
        out[name] = pa.schema([("seq", i64), ("exchange", text), *extra, ("raw", text), ("received_ns", i64)])
    return out


def _row(seq: int, d: dict[str, Any]) -> dict[str, Any]:
    """An encoded event (``encode_event``'s dict) as one row of its file."""
    row = {k: v for k, v in d.items() if k not in ("type", "market")}
    row["seq"] = seq
    if "market" in d:
        row.update(zip(_MARKET, d["market"]))
    for name in _LEVEL_COLUMNS:
        if name in row:
            row[name] = [{"price": p, "size": s} for p, s in row[name]]
    return row


def _encoded(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    """A row read back as ``encode_event``'s dict, for ``decode_event``."""
    has_market = "instrument_kind" in row  # feed errors and raw frames have an exchange alone
    d = {k: v for k, v in row.items() if k != "seq" and not (has_market and k in _MARKET)}
    d["type"] = kind
    if has_market:
        d["market"] = [row[name] for name in _MARKET]
    for name in _LEVEL_COLUMNS:
        if name in d:
            d[name] = [(level["price"], level["size"]) for level in d[name]]
    return d


class ParquetSink:
    """Writes encoded events to ``directory/<type>.parquet``, a row group per ``row_group`` rows of a
    kind; ``close()`` finishes every file."""

    def __init__(self, directory: Path, row_group: int = ROW_GROUP) -> None:
        self.pa, self.pq = pyarrow("recording to Parquet")
        if directory.exists() and any(directory.glob("*.parquet")):
            raise ConfigError(f"{directory} already holds a Parquet recording (Parquet files cannot be appended "
                              "to): record to a new directory")
        directory.mkdir(parents=True, exist_ok=True)
        self.directory, self.row_group = directory, row_group
        self.schemas = _schemas(self.pa)
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.writers: dict[str, Any] = {}
        self.seq = 0

    def add(self, d: dict[str, Any]) -> None:
        rows = self.rows.setdefault(d["type"], [])
        rows.append(_row(self.seq, d))
        self.seq += 1
        if len(rows) >= self.row_group:
            self._flush(d["type"])

    def _flush(self, kind: str) -> None:
        rows = self.rows.pop(kind, [])
        if not rows:
            return
        schema = self.schemas[kind]
        if kind not in self.writers:
            self.writers[kind] = self.pq.ParquetWriter(self.directory / f"{kind}.parquet", schema)
        self.writers[kind].write_table(self.pa.Table.from_pylist(rows, schema=schema))

    def close(self) -> None:
        for kind in list(self.rows):
            self._flush(kind)
        for writer in self.writers.values():
            writer.close()
        self.writers.clear()


def read_encoded(directory: Path, raw: bool = False) -> Iterator[dict[str, Any]]:
    """The encoded events of a Parquet recording in recorded order (raw frames only with ``raw``)."""
    pa, pq = pyarrow("reading a Parquet recording")
    if not directory.is_dir():
        raise DataError(f"{directory}: not a Parquet recording (expected a directory of <type>.parquet files)")
    known = _schemas(pa)
    rows: list[tuple[int, str, dict[str, Any]]] = []
    for file in sorted(directory.glob("*.parquet")):
        kind = file.stem
        if kind not in known:
            raise DataError(f"{file}: unknown event type {kind!r} (expected one of {sorted(known)})")
        if kind == "raw" and not raw:
            continue
        rows += [(row["seq"], kind, row) for row in _table(pq, file).to_pylist()]
    rows.sort(key=itemgetter(0))
    for _, kind, row in rows:
        yield _encoded(kind, row)


def _table(pq: ModuleType, file: Path) -> Any:
    try:
        return pq.read_table(file)
    except (OSError, ValueError) as e:  # ArrowInvalid is a ValueError: e.g. a file never closed
        raise DataError(f"{file}: cannot read Parquet (was the recorder closed?): {e}") from e


def is_parquet(path: Union[str, Path]) -> bool:
    """Whether ``path`` names a Parquet recording (a ``.parquet`` name, or a directory)."""
    p = Path(path)
    return p.suffix == ".parquet" or p.is_dir()
