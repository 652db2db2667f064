"""HistoricalCandles / HistoricalTrades against the real price files in ../shared/data/prices (read in place),
round trips through CSV, Parquet, DataFrames and arrays, one test per kind of bad row, and the default market.
"""
from __future__ import annotations

import csv
import dataclasses
import gzip
import json
import subprocess
import sys
import time
from functools import lru_cache
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest

from barter.data.default import default_candles
from barter.data.historic import HistoricalCandles, HistoricalTrades
from barter.errors import ConfigError, DataError

GOOG = "prices/equity_daily/GOOG.csv"
ORCL = "prices/equity_daily/orcl-1995-2014.txt"
BTC = "prices/crypto/btc-perp-20211231-20220201_1m.csv"
UNITTEST = "prices/crypto/UNITTEST_BTC-1m.json"
XRP = "prices/crypto/XRP_OLD-trades.json.gz"


def ns(text: str) -> int:
    """UNIX ns of an ISO time (naive = UTC), parsed without pandas."""
    t = datetime.fromisoformat(text)
    t = t if t.tzinfo else t.replace(tzinfo=timezone.utc)
    return int(t.timestamp()) * 1_000_000_000 + t.microsecond * 1_000


# --------------------------------------------------------------------------------------------------
# Real files: row counts and ranges from data/README.md section 4, spot values read with csv / json
# --------------------------------------------------------------------------------------------------
CSV_FILES = [  # path, rows, first, last
    (GOOG, 2_148, "2004-08-19", "2013-03-01"),
    (ORCL, 5_036, "1995-01-03", "2014-12-31"),
    ("prices/equity_daily/nvda-1999-2014.txt", 4_012, "1999-01-22", "2014-12-31"),
    ("prices/equity_daily/yhoo-1996-2015.txt", 4_965, "1996-04-12", "2015-12-31"),
    ("prices/fx_intraday/EURUSD.csv", 5_000, "2017-04-19 09:00", "2018-02-07 15:00"),
    ("prices/fx_intraday/gbpusd-m1-bid-2012.csv", 30_117, "2012-02-01 00:00", "2012-03-01 00:00"),
    ("prices/fx_intraday/gbpusd-m1-ask-2012.csv", 30_117, "2012-02-01 00:00", "2012-03-01 00:00"),
    (BTC, 45_031, "2021-12-31 23:01", "2022-02-01 05:31"),
    ("prices/crypto/BTCUSD.csv", 156, "2012-01-31", "2024-12-31"),
]


def csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        return header, list(reader)


@pytest.mark.parametrize(("rel", "rows", "first", "last"), CSV_FILES, ids=lambda v: str(v).split("/")[-1])
def test_real_csv_candles(data_dir: Path, rel: str, rows: int, first: str, last: str) -> None:
    c = HistoricalCandles.from_csv(data_dir / rel)
    assert len(c) == rows
    assert c.time_ns[0] == ns(first) and c.time_ns[-1] == ns(last)
    assert c.source == str(data_dir / rel)
    header, body = csv_rows(data_dir / rel)
    assert len(body) == rows
    names = [h.strip().lower() for h in header]
    for k in (0, 1, rows // 2, rows - 1):  # spot values, read independently
        row = body[k]
        assert c.time_ns[k] == ns(row[0])
        for field in ("open", "high", "low", "close", "volume"):
            expected = float(row[names.index(field)]) if field in names else 0.0
            assert getattr(c, field)[k] == expected, (field, k)


def test_adj_close_is_ignored(data_dir: Path) -> None:
    c = HistoricalCandles.from_csv(data_dir / ORCL)
    header, body = csv_rows(data_dir / ORCL)
    assert header[4:6] == ["Close", "Adj Close"]
    assert c.close[0] == float(body[0][4]) != float(body[0][5])


def test_btc_perp_steps_exactly_one_minute(data_dir: Path) -> None:
    c = HistoricalCandles.from_csv(data_dir / BTC)
    assert np.all(np.diff(c.time_ns) == 60_000_000_000)


def test_real_json_candles(data_dir: Path) -> None:
    c = HistoricalCandles.from_json(data_dir / UNITTEST)
    rows = json.loads((data_dir / UNITTEST).read_text())
    assert len(c) == len(rows) == 13_681
    assert c.time_ns[0] == ns("2017-11-04 23:02") and c.time_ns[-1] == ns("2017-11-14 22:59")
    assert np.all(np.diff(c.time_ns) > 0)
    for k in (0, 5_000, 13_680):
        ms, o, h, lo, cl, v = rows[k]
        assert c.time_ns[k] == ms * 1_000_000
        assert (c.open[k], c.high[k], c.low[k], c.close[k], c.volume[k]) == (o, h, lo, cl, v)


def test_files_are_read_by_name_and_gz_is_compression(data_dir: Path, tmp_path: Path) -> None:
    from barter.backtest import load
    from barter.data.historic import file_format

    packed = tmp_path / "candles.JSON.gz"
    packed.write_bytes(gzip.compress((data_dir / UNITTEST).read_bytes()))
    assert [file_format(p) for p in ("a.json.gz", "a.csv.gz", "a.pq", "a.parquet", "a.txt", "a")] == [
        "json", "csv", "parquet", "parquet", "csv", "csv"]
    expected = HistoricalCandles.from_json(data_dir / UNITTEST)
    assert HistoricalCandles.from_file(packed) == expected == load(str(packed))
    assert HistoricalCandles.from_file(data_dir / GOOG) == HistoricalCandles.from_csv(data_dir / GOOG)
    with pytest.raises(ConfigError, match="do not apply to JSON"):
        HistoricalCandles.from_file(packed, time_unit="ms")
    with pytest.raises(DataError, match=r"row 1 .*expected \[ms_timestamp, open"):
        HistoricalCandles.from_file(data_dir / XRP)  # ccxt trades, not candles: an error, at once


def test_real_fx_ticks_without_sizes(data_dir: Path) -> None:
    from barter.data import HistoricalQuotes

    path = data_dir / "prices/fx_intraday/usdjpy-ticks.csv"
    q = HistoricalQuotes.from_csv(path)
    header, rows = csv_rows(path)
    assert header == ["timestamp", "bid", "ask"] and len(q) == len(rows)
    assert not q.bid_amount.any() and not q.ask_amount.any()  # no sizes: zeros
    locked = int(np.flatnonzero(q.bid_price == q.ask_price)[0])  # TrueFX has locked quotes: kept
    assert (q.bid_price[locked], q.ask_price[locked]) == (float(rows[locked][1]), float(rows[locked][2]))
    assert np.allclose(q.mid_price, (q.bid_price + q.ask_price) / 2)


def test_real_ccxt_trades(data_dir: Path) -> None:
    t = HistoricalTrades.from_ccxt_json(data_dir / XRP)
    rows = xrp_rows(data_dir / XRP)
    assert len(t) == len(rows) == 12_477
    assert t.time_ns[0] == ns("2019-10-11T00:00:11.620+00:00")
    assert t.time_ns[-1] == ns("2019-10-13T11:19:28.844+00:00")
    assert set(np.unique(t.side)) == {-1, 1}
    for k in (0, 6_000, 12_476):
        r = rows[k]
        assert t.time_ns[k] == r["timestamp"] * 1_000_000
        assert (t.price[k], t.amount[k]) == (r["price"], r["amount"])
        assert t.side[k] == {"buy": 1, "sell": -1}[r["side"]]


def test_arrays_are_contiguous_typed_and_frozen(data_dir: Path) -> None:
    c = HistoricalCandles.from_csv(data_dir / GOOG)
    t = HistoricalTrades.from_ccxt_json(data_dir / XRP)
    arrays: list[tuple[np.ndarray, type]] = [(c.time_ns, np.int64), (c.open, np.float64), (c.volume, np.float64),
                                             (t.time_ns, np.int64), (t.price, np.float64), (t.side, np.int8)]
    for arr, dtype in arrays:
        assert arr.dtype == dtype and arr.flags.c_contiguous and arr.ndim == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.close = c.open  # type: ignore[misc]
    assert "2148 rows" in repr(c)


# --------------------------------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------------------------------
def test_csv_round_trip(data_dir: Path, tmp_path: Path) -> None:
    c = HistoricalCandles.from_csv(data_dir / BTC)
    c.to_frame().to_csv(tmp_path / "c.csv")
    assert HistoricalCandles.from_csv(tmp_path / "c.csv") == c
    t = HistoricalTrades.from_ccxt_json(data_dir / XRP)
    t.to_frame().to_csv(tmp_path / "t.csv")
    back = HistoricalTrades.from_csv(tmp_path / "t.csv")
    assert back == t and back.source == str(tmp_path / "t.csv")


def test_parquet_round_trip(data_dir: Path, tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    c = HistoricalCandles.from_csv(data_dir / GOOG)
    pq.write_table(pa.Table.from_pandas(c.to_frame()), tmp_path / "c.parquet")  # DatetimeIndex kept
    assert HistoricalCandles.from_parquet(tmp_path / "c.parquet") == c
    raw = pd.read_csv(data_dir / BTC)  # timestamp column stored as strings
    pq.write_table(pa.Table.from_pandas(raw, preserve_index=False), tmp_path / "raw.parquet")
    assert HistoricalCandles.from_parquet(tmp_path / "raw.parquet") == HistoricalCandles.from_csv(data_dir / BTC)
    t = HistoricalTrades.from_ccxt_json(data_dir / XRP)
    pq.write_table(pa.Table.from_pandas(t.to_frame()), tmp_path / "t.parquet")
    assert HistoricalTrades.from_parquet(tmp_path / "t.parquet") == t


def test_frame_round_trip(data_dir: Path) -> None:
    c = HistoricalCandles.from_csv(data_dir / GOOG)
    frame = c.to_frame()
    assert isinstance(frame.index, pd.DatetimeIndex) and str(frame.index.tz) == "UTC"
    assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
    assert HistoricalCandles.from_frame(frame) == c
    indexed = pd.read_csv(data_dir / GOOG, index_col=0, parse_dates=True)  # naive DatetimeIndex, "Open"...
    assert HistoricalCandles.from_frame(indexed) == c
    assert HistoricalCandles.from_frame(frame.rename(columns=str.upper)).source == "DataFrame"
    t = HistoricalTrades.from_ccxt_json(data_dir / XRP)
    assert HistoricalTrades.from_frame(t.to_frame()) == t


def test_arrays_round_trip(data_dir: Path) -> None:
    c = HistoricalCandles.from_csv(data_dir / BTC)
    assert HistoricalCandles.from_arrays(c.time_ns, c.open, c.high, c.low, c.close, c.volume) == c
    dt = c.time_ns.astype("datetime64[ns]")
    assert HistoricalCandles.from_arrays(dt, c.open, c.high, c.low, c.close, c.volume) == c
    no_vol = HistoricalCandles.from_arrays(c.time_ns, c.open, c.high, c.low, c.close)
    assert no_vol.source == "arrays" and not no_vol.volume.any()
    t = HistoricalTrades.from_ccxt_json(data_dir / XRP)
    assert HistoricalTrades.from_arrays(t.time_ns, t.price, t.amount, t.side) == t
    assert not HistoricalTrades.from_arrays(t.time_ns, t.price, t.amount).side.any()


def test_epoch_units_inferred_and_explicit(data_dir: Path, tmp_path: Path) -> None:
    c = HistoricalCandles.from_csv(data_dir / BTC, nrows=500)
    frame = c.to_frame().reset_index(drop=True)
    for unit, div in [("s", 10**9), ("ms", 10**6), ("us", 10**3), ("ns", 1)]:
        frame.insert(0, "open_time", c.time_ns // div)
        frame.to_csv(tmp_path / f"{unit}.csv", index=False)
        frame = frame.drop(columns="open_time")
        assert HistoricalCandles.from_csv(tmp_path / f"{unit}.csv") == c, unit
        assert HistoricalCandles.from_csv(tmp_path / f"{unit}.csv", time_unit=unit) == c, unit
    seconds = HistoricalCandles.from_csv(tmp_path / "s.csv", time_unit="ms")
    assert seconds.time_ns[0] == c.time_ns[0] // 1000
    with pytest.raises(ConfigError, match="'minutes'"):
        HistoricalCandles.from_csv(tmp_path / "s.csv", time_unit="minutes")


def test_yyyymmdd_integers_are_dates_unless_a_unit_is_given(tmp_path: Path) -> None:
    path = tmp_path / "daily.csv"
    path.write_text("date,open,high,low,close\n20211231,1,2,0.5,1.5\n20220103,1.5,2,1,1.8\n")
    assert list(HistoricalCandles.from_csv(path).time_ns) == [ns("2021-12-31"), ns("2022-01-03")]
    assert list(HistoricalCandles.from_csv(path, time_unit="s").time_ns) == [20211231 * 10**9, 20220103 * 10**9]
    path.write_text("date,open,high,low,close\n20211231,1,2,0.5,1.5\n20221301,1.5,2,1,1.8\n")  # month 13
    assert HistoricalCandles.from_csv(path).time_ns[1] == 20221301 * 10**9  # not dates: epoch seconds


def test_time_column_option_and_tz_aware_strings(tmp_path: Path) -> None:
    (tmp_path / "tz.csv").write_text(
        "Close_Time,When,Open,High,Low,Close\n"
        "x,2012-02-01 01:00:00+01:00,1.5,1.6,1.4,1.5\n"
        "x,2012-02-01T00:01:00Z,1.5,1.6,1.4,1.5\n"
        "x,2012-02-01 00:02:00,1.5,1.6,1.4,1.5\n")
    c = HistoricalCandles.from_csv(tmp_path / "tz.csv", time_column="WHEN")
    assert c.time_ns.tolist() == [ns("2012-02-01 00:00"), ns("2012-02-01 00:01"), ns("2012-02-01 00:02")]
    with pytest.raises(DataError, match=r"data row 1 \(.*column 'Close_Time'"):  # default picks Close_Time
        HistoricalCandles.from_csv(tmp_path / "tz.csv")


def test_side_strings_and_numbers() -> None:
    t = HistoricalTrades.from_arrays([1, 2, 3, 4, 5, 6], [1.0] * 6, [2.0] * 6, ["buy", "SELL", "b", " S ", None, ""])
    assert t.side.tolist() == [1, -1, 1, -1, 0, 0]
    t = HistoricalTrades.from_arrays([1, 2, 3], [1.0] * 3, [2.0] * 3, [1, -1, 0])
    assert t.side.tolist() == [1, -1, 0]


def test_equal_timestamps_and_zero_volume_are_allowed() -> None:
    c = HistoricalCandles.from_arrays([5, 5, 6], [1.0] * 3, [2.0] * 3, [0.5] * 3, [1.0] * 3, [0.0, 0.0, 1.0])
    assert len(c) == 3


def test_validation_of_a_million_rows_is_fast() -> None:
    n = 1_000_000
    rng = np.random.default_rng(3)
    t = 1_700_000_000_000_000_000 + np.arange(n, dtype=np.int64) * 60_000_000_000
    p = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 1e-3, n)))
    start = time.perf_counter()
    HistoricalCandles.from_arrays(t, p, p * 1.001, p * 0.999, p, np.ones(n))
    HistoricalTrades.from_arrays(t, p, np.ones(n), np.ones(n, dtype=np.int8))
    assert time.perf_counter() - start < 1.0


NO_PANDAS = """
import sys
import numpy as np
import barter
from barter.data import HistoricalCandles, HistoricalTrades
from barter.errors import DataError
p = np.array([1.0, 2.0, 3.0])
c = HistoricalCandles.from_arrays(np.array([1, 2, 3]), p, p * 2, p / 2, p)
assert len(c) == 3 and repr(c).startswith("HistoricalCandles(3 rows, 1970-01-01T00:00:00.000000001+00:00")
t = HistoricalTrades.from_arrays(np.array([1, 2, 3], dtype="datetime64[ms]"), p, p, np.array([1, -1, 0]))
assert t.time_ns.tolist() == [1_000_000, 2_000_000, 3_000_000]
try:
    HistoricalTrades.from_arrays(np.array([3, 2, 1], dtype="datetime64[s]"), p, p)
except DataError as e:
    assert str(e).endswith("was Timestamp('1970-01-01 00:00:02')"), e
else:
    raise AssertionError("no DataError")
loaded = sorted({m.split(".")[0] for m in sys.modules} & {"pandas", "pyarrow"})
assert not loaded, f"loaded {loaded}"
"""


def test_import_and_arrays_do_not_load_pandas() -> None:
    """pandas (and through it pyarrow) is loaded only by the readers that need it."""
    run = subprocess.run([sys.executable, "-c", NO_PANDAS], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr


# --------------------------------------------------------------------------------------------------
# Bad rows: corrupted copies of real files in tmp_path
# --------------------------------------------------------------------------------------------------
def corrupt(data_dir: Path, tmp_path: Path, rel: str, edits: dict[tuple[int, str], str],
            rows: int = 30, name: str = "bad.csv", drop: str | None = None) -> Path:
    """The header and first ``rows`` data rows of a real CSV, with ``{(data_row, column): text}`` edits
    (data_row is 1-based, header not counted) and ``drop`` removed; written to tmp_path/name."""
    header, body = csv_rows(data_dir / rel)
    body = [list(r) for r in body[:rows]]
    for (row, column), text in edits.items():
        body[row - 1][header.index(column)] = text
    keep = [j for j, h in enumerate(header) if h != drop]
    path = tmp_path / name
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerows([[r[j] for j in keep] for r in [header, *body]])
    return path


def bad(loader: Callable[[Path], object], path: Path, row: int, column: str, *fragments: str) -> str:
    with pytest.raises(DataError) as info:
        loader(path)
    msg = str(info.value)
    assert path.name in msg, msg
    assert f"data row {row} (" in msg, msg
    assert f"column {column!r}" in msg, msg
    for fragment in fragments:
        assert fragment in msg, msg
    return msg


def test_nan_price(data_dir: Path, tmp_path: Path) -> None:
    p = corrupt(data_dir, tmp_path, GOOG, {(7, "Close"): ""}, name="goog_nan.csv")
    bad(HistoricalCandles.from_csv, p, 7, "Close", "finite", "was nan")
    p = corrupt(data_dir, tmp_path, GOOG, {(9, "Open"): "n/a?"}, name="goog_text.csv")
    bad(HistoricalCandles.from_csv, p, 9, "Open", "was 'n/a?'")


def test_inf_price(data_dir: Path, tmp_path: Path) -> None:
    p = corrupt(data_dir, tmp_path, BTC, {(5, "high"): "inf"}, name="btc_inf.csv")
    bad(HistoricalCandles.from_csv, p, 5, "high", "was inf")
    p = corrupt(data_dir, tmp_path, BTC, {(6, "low"): "-inf"}, name="btc_minf.csv")
    bad(HistoricalCandles.from_csv, p, 6, "low", "was -inf")


def test_negative_price(data_dir: Path, tmp_path: Path) -> None:
    p = corrupt(data_dir, tmp_path, GOOG, {(3, "Low"): "-1.5"}, name="goog_neg.csv")
    bad(HistoricalCandles.from_csv, p, 3, "Low", "> 0", "was -1.5")


def test_zero_price(data_dir: Path, tmp_path: Path) -> None:
    p = corrupt(data_dir, tmp_path, ORCL, {(4, "Open"): "0"}, name="orcl_zero.csv")
    bad(HistoricalCandles.from_csv, p, 4, "Open", "> 0", "was 0.0")


def test_high_below_low(data_dir: Path, tmp_path: Path) -> None:
    p = corrupt(data_dir, tmp_path, GOOG, {(12, "High"): "90", (12, "Low"): "95"}, name="goog_hl.csv")
    bad(HistoricalCandles.from_csv, p, 12, "High", "high must be >= low (95.0 in column 'Low')", "was 90.0")


def test_high_below_body_and_low_above_body(data_dir: Path, tmp_path: Path) -> None:
    # btc-perp data row 1: open 46319, high 46385, low 46319, close 46377
    p = corrupt(data_dir, tmp_path, BTC, {(1, "high"): "46350"}, name="btc_high.csv")
    bad(HistoricalCandles.from_csv, p, 1, "high", "max(open, close) = 46377.0", "was 46350.0")
    p = corrupt(data_dir, tmp_path, BTC, {(1, "low"): "46320"}, name="btc_low.csv")
    bad(HistoricalCandles.from_csv, p, 1, "low", "min(open, close) = 46319.0", "was 46320.0")


def test_bad_volume(data_dir: Path, tmp_path: Path) -> None:
    p = corrupt(data_dir, tmp_path, BTC, {(8, "volume"): "-3"}, name="btc_vol.csv")
    bad(HistoricalCandles.from_csv, p, 8, "volume", ">= 0", "was -3.0")
    p = corrupt(data_dir, tmp_path, BTC, {(9, "volume"): "NaN"}, name="btc_vol_nan.csv")
    bad(HistoricalCandles.from_csv, p, 9, "volume", "was nan")
    p = corrupt(data_dir, tmp_path, BTC, {(9, "volume"): "0"}, name="btc_vol_zero.csv")
    assert HistoricalCandles.from_csv(p).volume[8] == 0.0


def test_timestamps_backwards(data_dir: Path, tmp_path: Path) -> None:
    _, body = csv_rows(data_dir / BTC)
    p = corrupt(data_dir, tmp_path, BTC, {(8, "timestamp"): body[8][0], (9, "timestamp"): body[7][0]},
                name="btc_back.csv")
    bad(HistoricalCandles.from_csv, p, 9, "timestamp", "must not decrease",
        "2021-12-31T23:08:00+00:00 is before the previous row's 2021-12-31T23:09:00+00:00")
    p = corrupt(data_dir, tmp_path, BTC, {(9, "timestamp"): body[7][0]}, name="btc_equal.csv")
    assert len(HistoricalCandles.from_csv(p)) == 30  # equal timestamps are allowed


def test_missing_column(data_dir: Path, tmp_path: Path) -> None:
    p = corrupt(data_dir, tmp_path, ORCL, {}, drop="Close", name="orcl_noclose.csv")
    with pytest.raises(DataError) as info:
        HistoricalCandles.from_csv(p)
    msg = str(info.value)
    assert "orcl_noclose.csv" in msg and "missing required column 'close'" in msg
    assert "columns found: ['Date', 'Open', 'High', 'Low', 'Adj Close', 'Volume']" in msg
    p = corrupt(data_dir, tmp_path, ORCL, {}, drop="Date", name="orcl_notime.csv")
    with pytest.raises(DataError, match=r"orcl_notime\.csv: missing required time column.*'Open'"):
        HistoricalCandles.from_csv(p)


def test_unparseable_time(data_dir: Path, tmp_path: Path) -> None:
    p = corrupt(data_dir, tmp_path, ORCL, {(11, "Date"): "1995-13-45"}, name="orcl_date.csv")
    bad(HistoricalCandles.from_csv, p, 11, "Date", "could not be parsed", "was '1995-13-45'")
    p = corrupt(data_dir, tmp_path, GOOG, {(2, ""): "yesterday"}, name="goog_date.csv")  # unnamed column
    bad(HistoricalCandles.from_csv, p, 2, "Unnamed: 0", "was 'yesterday'")


def test_empty(data_dir: Path, tmp_path: Path) -> None:
    p = corrupt(data_dir, tmp_path, GOOG, {}, rows=0, name="goog_empty.csv")
    with pytest.raises(DataError, match=r"goog_empty\.csv: no data rows \(0 rows\)"):
        HistoricalCandles.from_csv(p)
    (tmp_path / "blank.csv").write_text("")
    with pytest.raises(DataError, match=r"blank\.csv: empty file.*\(0 rows\)"):
        HistoricalCandles.from_csv(tmp_path / "blank.csv")
    with pytest.raises(DataError, match="arrays: no data rows"):
        HistoricalTrades.from_arrays([], [], [])


def test_bad_rows_can_be_dropped_with_a_warning(data_dir: Path, tmp_path: Path) -> None:
    from barter.data import HistoricalQuotes
    from barter.errors import DataWarning

    header, rows = csv_rows(data_dir / GOOG)
    day = header[0]
    path = corrupt(data_dir, tmp_path, GOOG, {(4, "Close"): "nan", (11, "High"): "0.01"}, rows=len(rows))
    with pytest.warns(DataWarning, match=r"dropped 2 bad row\(s\) of 2148; the first: data row 4 .*'Close'"):
        c = HistoricalCandles.from_csv(path, bad_rows="drop")
    good = HistoricalCandles.from_csv(data_dir / GOOG)
    keep = np.ones(len(good), bool)
    keep[[3, 10]] = False
    assert np.array_equal(c.time_ns, good.time_ns[keep]) and np.array_equal(c.close, good.close[keep])
    swapped = {(4, "Close"): "nan", (21, day): rows[21][0], (22, day): rows[20][0]}  # backwards: still an error
    path = corrupt(data_dir, tmp_path, GOOG, swapped, rows=len(rows), name="back.csv")
    with pytest.raises(DataError, match="data row 22 .*must not decrease"), pytest.warns(DataWarning):
        HistoricalCandles.from_csv(path, bad_rows="drop")
    quotes = tmp_path / "quotes.csv"
    quotes.write_text("time,bid,ask\n2024-01-01,100,101\n2024-01-02,102,101\n2024-01-03,nan,nan\n")
    with pytest.warns(DataWarning, match="dropped 2"):
        assert list(HistoricalQuotes.from_csv(quotes, bad_rows="drop").bid_price) == [100.0]
    quotes.write_text("time,bid,ask\n2024-01-02,102,101\n")
    with pytest.raises(DataError, match="every row is bad"):
        HistoricalQuotes.from_csv(quotes, bad_rows="drop")
    with pytest.raises(ConfigError, match="bad_rows"):
        HistoricalCandles.from_csv(data_dir / GOOG, bad_rows="skip")  # type: ignore[arg-type]


def test_first_bad_row_is_reported(data_dir: Path, tmp_path: Path) -> None:
    p = corrupt(data_dir, tmp_path, GOOG, {(12, "Close"): "nan", (5, "High"): "1", (20, "Volume"): "-1"},
                name="goog_many.csv")
    bad(HistoricalCandles.from_csv, p, 5, "High")


def test_bad_json_candles(data_dir: Path, tmp_path: Path) -> None:
    rows = json.loads((data_dir / UNITTEST).read_text())[:50]
    rows[16][4] = -1.0
    (tmp_path / "ut_neg.json").write_text(json.dumps(rows))
    bad(HistoricalCandles.from_json, tmp_path / "ut_neg.json", 17, "close", "JSON array", "was -1.0")
    rows[16][4] = "oops"
    (tmp_path / "ut_text.json").write_text(json.dumps(rows))
    bad(HistoricalCandles.from_json, tmp_path / "ut_text.json", 17, "close", "was 'oops'")
    rows[16] = rows[16][:3]
    (tmp_path / "ut_short.json").write_text(json.dumps(rows))
    with pytest.raises(DataError, match=r"ut_short\.json: data row 17 \(.*with 6 elements"):
        HistoricalCandles.from_json(tmp_path / "ut_short.json")


@lru_cache(maxsize=1)
def xrp_rows(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt") as fh:
        rows: list[dict[str, Any]] = json.load(fh)
    return rows


def trades_csv(data_dir: Path, tmp_path: Path, name: str, row: int, column: str, text: str) -> Path:
    rows = xrp_rows(data_dir / XRP)[:40]
    body = [[r["datetime"], str(r["price"]), str(r["amount"]), r["side"]] for r in rows]
    body[row - 1][["Time", "Price", "Qty", "Side"].index(column)] = text
    path = tmp_path / name
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows([["Time", "Price", "Qty", "Side"], *body])
    return path


def test_bad_trades(data_dir: Path, tmp_path: Path) -> None:
    ok = trades_csv(data_dir, tmp_path, "xrp_ok.csv", 1, "Side", "BUY")
    assert len(HistoricalTrades.from_csv(ok)) == 40
    cases = [("xrp_zero.csv", 3, "Qty", "0", "> 0"), ("xrp_negprice.csv", 4, "Price", "-0.001", "> 0"),
             ("xrp_nanqty.csv", 5, "Qty", "", "was nan"), ("xrp_side.csv", 6, "Side", "long", "was 'long'"),
             ("xrp_time.csv", 7, "Time", "2019-10-11T25:00", "could not be parsed")]
    for name, row, column, text, fragment in cases:
        bad(HistoricalTrades.from_csv, trades_csv(data_dir, tmp_path, name, row, column, text), row, column, fragment)


def test_bad_ccxt_json(data_dir: Path, tmp_path: Path) -> None:
    rows = [dict(r) for r in xrp_rows(data_dir / XRP)[:60]]
    rows[29]["amount"] = 0.0
    with gzip.open(tmp_path / "xrp_bad.json.gz", "wt") as fh:
        json.dump(rows, fh)
    bad(HistoricalTrades.from_ccxt_json, tmp_path / "xrp_bad.json.gz", 30, "amount", "was 0.0")


def test_bad_parquet_row(data_dir: Path, tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    frame = HistoricalCandles.from_csv(data_dir / GOOG).to_frame()
    frame.iloc[41, frame.columns.get_loc("open")] = -2.0
    pq.write_table(pa.Table.from_pandas(frame), tmp_path / "goog_bad.parquet")
    bad(HistoricalCandles.from_parquet, tmp_path / "goog_bad.parquet", 42, "open", "was -2.0")


def test_bad_arrays_and_frames_use_positions() -> None:
    with pytest.raises(DataError, match=r"^arrays: row 2 \(0-based position\), column 'low'.*was nan$"):
        HistoricalCandles.from_arrays([1, 2, 3], [1.0] * 3, [2.0] * 3, [0.5, 0.5, np.nan], [1.0] * 3)
    with pytest.raises(DataError, match=r"^feed: row 1 \(0-based position\), column 'time_ns'.*decrease"):
        HistoricalTrades.from_arrays([2, 1], [1.0, 1.0], [1.0, 1.0], source="feed")
    with pytest.raises(DataError, match="arrays: arrays must have equal lengths"):
        HistoricalCandles.from_arrays([1, 2], [1.0], [1.0], [1.0], [1.0])
    frame = pd.DataFrame({"Time": ["2020-01-01", "2020-01-02"], "PRICE": [1.0, 2.0], "amount": [1.0, -1.0]})
    with pytest.raises(DataError, match=r"^DataFrame: row 1 \(0-based position\), column 'amount'.*-1.0"):
        HistoricalTrades.from_frame(frame)
    with pytest.raises(DataError, match=r"column 'high'"):  # direct construction validates too
        HistoricalCandles(np.array([1]), np.array([1.0]), np.array([0.5]), np.array([0.4]), np.array([1.0]),
                          np.array([0.0]))


# --------------------------------------------------------------------------------------------------
# The default (synthetic) market
# --------------------------------------------------------------------------------------------------
def rsi(close: np.ndarray, n: int = 14) -> np.ndarray:
    d = np.diff(close)
    up = pd.Series(np.clip(d, 0, None)).ewm(alpha=1 / n, adjust=False).mean()
    down = pd.Series(np.clip(-d, 0, None)).ewm(alpha=1 / n, adjust=False).mean()
    return (100 - 100 / (1 + up / down)).to_numpy()[n:]


def test_default_market() -> None:
    c = default_candles()
    assert "SYNTHETIC" in (default_candles.__doc__ or "") and "SYNTHETIC" in c.source
    assert len(c) == 100_000 and c == default_candles()
    assert default_candles(500, seed=8) != default_candles(500, seed=9)
    assert HistoricalCandles.from_arrays(c.time_ns, c.open, c.high, c.low, c.close, c.volume) == c
    assert c.time_ns[0] == ns("2024-01-01 00:00") and np.all(np.diff(c.time_ns) == 60_000_000_000)
    assert c.open[0] == 40_000.0 and np.array_equal(c.open[1:], c.close[:-1])
    assert np.all(c.volume > 0)
    assert 0.0006 < np.diff(np.log(c.close)).std() < 0.0011
    r = rsi(c.close)
    assert ((r[1:] < 30) & (r[:-1] >= 30)).sum() > 100 and ((r[1:] > 70) & (r[:-1] <= 70)).sum() > 100
    assert len(default_candles(1)) == 1
    for n in (0, -5, 2.5):
        with pytest.raises(ConfigError, match=repr(n)):
            default_candles(n)  # type: ignore[arg-type]


@pytest.mark.parametrize("unit", ["s", "ms", "us"])
def test_from_arrays_refuses_epoch_seconds_or_ms_given_as_ns(unit: str) -> None:
    # Epoch seconds passed as time_ns were taken as ns silently: candles in January 1970.
    factor = {"s": 10**9, "ms": 10**6, "us": 10**3}[unit]
    ns = 1_700_000_000_000_000_000 + np.arange(3, dtype=np.int64) * 60_000_000_000
    p = np.array([1.0, 2.0, 3.0])
    with pytest.raises(DataError, match=rf"^arrays: time_ns must be UNIX epoch ns, .* look like epoch {unit} "
                                        rf".*as ns they are 1970-01-.*pass time_unit='{unit}'"):
        HistoricalCandles.from_arrays(ns // factor, p, p, p, p)
    c = HistoricalCandles.from_arrays(ns // factor, p, p, p, p, time_unit=unit)
    assert c == HistoricalCandles.from_arrays(ns, p, p, p, p)
    assert c == HistoricalCandles.from_arrays((ns // factor).astype(float), p, p, p, p, time_unit=unit)


def test_from_arrays_time_unit_ns_takes_1970_as_it_is() -> None:
    p = np.array([1.0, 2.0])
    t = np.array([1_700_000_000, 1_700_000_060])
    assert HistoricalCandles.from_arrays(t, p, p, p, p, time_unit="ns").time_ns.tolist() == t.tolist()
    # small synthetic ns offsets (from 0) are not mistaken for seconds
    assert len(HistoricalCandles.from_arrays(np.arange(3) * 60 * 10**9, [1.0] * 3, [1.0] * 3, [1.0] * 3, [1.0] * 3)) == 3


def test_from_arrays_bad_time_unit_and_bad_times_in_a_unit() -> None:
    p = np.array([1.0, 2.0])
    with pytest.raises(ConfigError, match=r"time_unit must be one of \['ms', 'ns', 's', 'us'\], was 'sec'"):
        HistoricalCandles.from_arrays([1, 2], p, p, p, p, time_unit="sec")
    with pytest.raises(DataError, match=r"^arrays: row 1 \(0-based position\), column 'time_ns'.*was nan s"):
        HistoricalCandles.from_arrays([1.7e9, np.nan], p, p, p, p, time_unit="s")
    with pytest.raises(ConfigError, match="datetime64 times carry their unit"):
        HistoricalCandles.from_arrays(np.array([1, 2], dtype="datetime64[s]"), p, p, p, p, time_unit="s")


def test_internal_from_arrays_callers_do_not_second_guess_ns() -> None:
    # shifted() and resample() hold ns already: a synthetic series 7 minutes after 1970 must not
    # be taken for epoch milliseconds.
    from barter.data.resample import resample

    p = np.array([1.0, 2.0, 3.0])
    c = HistoricalCandles.from_arrays([1, 2, 3], p, p, p, p)
    assert c.shifted(7 * 60 * 10**9).time_ns.tolist() == [7 * 60 * 10**9 + k for k in (1, 2, 3)]
    t = np.array([0, 30, 60, 90], np.int64) * 10**9 + 7 * 60 * 10**9
    assert len(resample(HistoricalTrades.from_arrays(t, [1.0] * 4, [1.0] * 4), "1m")) == 3
