"""Saving a result to a run directory and reading it back (``barter.results.store``): every table and
the summary come back identical, non-finite figures included; damaged directories fail naming the file."""
from __future__ import annotations

import dataclasses
import json
import math
import types
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

import barter
from barter import ConfigError, DataError, Engine, InstrumentKind, Market, Trader
from barter.backtest import DEFAULT_MARKET
from barter.data import HistoricalCandles, default_candles
from barter.execution import SimulatedExecution
from barter.portfolio import Portfolio
from barter.results import SavedResult, load_result, save_result
from barter.results._common import price_frame
from barter.results.store import FORMAT, summary_from_json, summary_to_json
from barter.statistic import SummaryTable
from barter.strategy import RSIStrategy
from reference.strategies import Idle

ETH = Market("binance", ("eth", "usdt", InstrumentKind.SPOT))


def assert_same_figures(a: dict[str, dict[str, Any]], b: dict[str, dict[str, Any]]) -> None:
    """Same rows and figures in the same order, same types, bit-equal floats (NaN == NaN, −0.0 ≠ 0.0)."""
    assert list(a) == list(b)
    for rid in a:
        assert list(a[rid]) == list(b[rid]), rid
        for key, x in a[rid].items():
            y = b[rid][key]
            assert type(x) is type(y), (rid, key, x, y)
            if isinstance(x, float):
                assert (math.isnan(x) and math.isnan(y)) or (x == y and math.copysign(1, x) == math.copysign(1, y)), \
                    (rid, key, x, y)
            else:
                assert x == y, (rid, key, x, y)


def assert_round_trip(result: Any, loaded: SavedResult) -> None:
    assert_frame_equal(loaded.fills, result.fills, check_exact=True)
    assert_frame_equal(loaded.positions, result.positions, check_exact=True)
    assert_series_equal(loaded.equity, result.equity, check_exact=True, check_freq=True)
    assert_same_figures(loaded.summary.to_dict(), result.summary.to_dict())
    assert_frame_equal(loaded.summary.to_frame(), result.summary.to_frame(), check_exact=True)
    assert str(loaded.summary) == str(result.summary)
    assert [r.id for r in loaded.summary.rows] == [r.id for r in result.summary.rows]


@pytest.mark.parametrize("which", ["synthetic", "real"])
def test_round_trip_is_exact(which: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    result = request.getfixturevalue(which)
    assert len(result.positions) > 10  # the round trip covers real rows, not just schemas
    run = save_result(result, tmp_path / "run")
    loaded = load_result(run)
    assert_round_trip(result, loaded)
    assert loaded.summary.rows == result.summary.rows  # dataclass equality, no NaN in these runs
    assert_frame_equal(loaded.prices, price_frame(result), check_exact=True)
    assert loaded.markets == result.portfolio.markets
    assert loaded.statistic_config == result.portfolio.statistic_config
    assert loaded.engine_id == result.engine.engine_id
    assert loaded.meta["format"] == FORMAT
    assert loaded.meta["barter_version"] == barter.__version__
    assert loaded.meta["events"] == result.engine.events
    assert not list(run.glob("*.tmp"))


def test_summary_json_is_strict_and_keeps_non_finite_floats(synthetic: barter.BacktestResult, tmp_path: Path) -> None:
    row = synthetic.summary.total
    odd = dataclasses.replace(row, profit_factor=math.inf, biggest_win=math.nan, avg_loss=-math.inf,
                              mean_return=-0.0, total_pnl=5e-324, sharpe_daily=1.7976931348623157e308,
                              equity=dataclasses.replace(row.equity, sharpe=math.nan, cagr=math.inf))
    summary = SummaryTable([dataclasses.replace(odd, id="binance_btc_usdt_spot"), odd])
    text = summary_to_json(summary)

    def reject(name: str) -> None:
        raise AssertionError(f"non-standard JSON constant {name}")

    raw = json.loads(text, parse_constant=reject)  # strict JSON: no NaN/Infinity literals
    assert raw["Total"]["profit_factor"] == "inf" and raw["Total"]["equity_sharpe"] == "nan"
    assert_same_figures(summary_from_json(text).to_dict(), summary.to_dict())

    # and through a whole save/load
    fake = types.SimpleNamespace(engine=synthetic.engine, portfolio=synthetic.portfolio, fills=synthetic.fills,
                                 positions=synthetic.positions, equity=synthetic.equity, summary=summary)
    loaded = load_result(save_result(fake, tmp_path))
    assert_same_figures(loaded.summary.to_dict(), summary.to_dict())
    assert math.isinf(loaded.summary.total.profit_factor) and math.isnan(loaded.summary.total.equity.sharpe)


def test_no_trades_and_no_equity(tmp_path: Path) -> None:
    result = barter.backtest(default_candles(2_000), Idle(), record_equity=False)
    assert result.positions.empty and result.fills.empty
    loaded = load_result(save_result(result, tmp_path))
    assert_frame_equal(loaded.fills, result.fills, check_exact=True)
    assert_frame_equal(loaded.positions, result.positions, check_exact=True)
    assert_same_figures(loaded.summary.to_dict(), result.summary.to_dict())
    assert not (tmp_path / "equity.parquet").exists()
    assert not loaded.has_equity
    with pytest.raises(ConfigError, match="record_equity=False"):
        loaded.equity


def test_two_markets(tmp_path: Path) -> None:
    portfolio = Portfolio(starting_cash=10_000.0)
    engine = Engine([Trader(DEFAULT_MARKET, default_candles(5_000, seed=1),
                            RSIStrategy(), SimulatedExecution()),
                     Trader(ETH, default_candles(5_000, seed=2), RSIStrategy(), SimulatedExecution())], portfolio)
    engine.run()
    result = barter.BacktestResult(engine)
    loaded = load_result(save_result(result, tmp_path))
    assert_round_trip(result, loaded)
    assert [r.id for r in loaded.summary.rows] == ["binance_btc_usdt_spot", "binance_eth_usdt_spot", "Total"]
    assert set(loaded.prices["market"]) == {"binance_btc_usdt_spot", "binance_eth_usdt_spot"}
    assert loaded.markets == engine.markets


def test_config_mapping_and_file(synthetic: barter.BacktestResult, tmp_path: Path) -> None:
    import datetime as dt

    config = {"strategy": {"path": "barter.strategy:RSIStrategy", "period": 14}, "start": dt.date(2024, 1, 1)}
    loaded = load_result(save_result(synthetic, tmp_path / "a", config=config))
    assert loaded.config == {"strategy": {"path": "barter.strategy:RSIStrategy", "period": 14}, "start": "2024-01-01"}

    toml = tmp_path / "run.toml"
    toml.write_text('[strategy]\npath = "barter.strategy:RSIStrategy"\n', encoding="utf-8")
    loaded = load_result(save_result(synthetic, tmp_path / "b", config=toml, prices=False))
    assert (tmp_path / "b" / "config.toml").read_text(encoding="utf-8") == toml.read_text(encoding="utf-8")
    assert loaded.meta["config_file"] == "config.toml" and loaded.config is None
    assert loaded.prices is None and not (tmp_path / "b" / "prices.parquet").exists()


def test_bad_config(synthetic: barter.BacktestResult, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="JSON-serialisable"):
        save_result(synthetic, tmp_path, config={"x": object()})
    with pytest.raises(ConfigError, match="config file not found"):
        save_result(synthetic, tmp_path, config=tmp_path / "missing.toml")


def test_saving_twice_replaces(synthetic: barter.BacktestResult, tmp_path: Path) -> None:
    save_result(synthetic, tmp_path, config={"run": 1})
    loaded = load_result(save_result(synthetic, tmp_path, config={"run": 2}))
    assert loaded.config == {"run": 2}
    assert_round_trip(synthetic, loaded)


# --------------------------------------------------------------------------- bad input

@pytest.fixture(scope="module")
def saved(synthetic: barter.BacktestResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_result(synthetic, tmp_path_factory.mktemp("saved"))


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


@pytest.mark.parametrize("name", ["fills.parquet", "positions.parquet", "equity.parquet", "prices.parquet",
                                  "summary.json", "meta.json"])
def test_missing_file_is_named(name: str, saved: Path, tmp_path: Path) -> None:
    run = _copy(saved, tmp_path / "run")
    (run / name).unlink()
    with pytest.raises(DataError, match=rf"missing {name}"):
        load_result(run)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="directory not found"):
        load_result(tmp_path / "nope")


@pytest.mark.parametrize("name, content, message", [
    ("fills.parquet", b"not parquet", r"fills\.parquet: cannot be read as Parquet"),
    ("summary.json", b"{", r"summary\.json: not valid JSON at line 1"),
    ("summary.json", b'{"Total": {"id": "Total"}}', r"summary\.json: row 'Total' has no 'trades'"),
    ("meta.json", b'{"format": "other/9"}', r"meta\.json: format must be 'barter\.results/1', was 'other/9'"),
])
def test_damaged_file_is_named(name: str, content: bytes, message: str, saved: Path, tmp_path: Path) -> None:
    run = _copy(saved, tmp_path / "run")
    (run / name).write_bytes(content)
    with pytest.raises(DataError, match=message):
        load_result(run)


def test_unknown_and_malformed_figures_are_rejected(synthetic: barter.BacktestResult) -> None:
    rows = json.loads(summary_to_json(synthetic.summary))
    rows["Total"]["new_figure"] = 1.0
    with pytest.raises(DataError, match=r"unknown figures \['new_figure'\]"):
        summary_from_json(json.dumps(rows))
    rows = json.loads(summary_to_json(synthetic.summary))
    rows["Total"]["sharpe_daily"] = "big"
    with pytest.raises(DataError, match=r"'sharpe_daily' must be a number, 'inf', '-inf' or 'nan', was 'big'"):
        summary_from_json(json.dumps(rows))


def test_loaded_frames_are_plain_pandas(saved: Path) -> None:
    loaded = load_result(saved)
    assert isinstance(loaded.fills, pd.DataFrame) and isinstance(loaded.equity, pd.Series)
    assert loaded.equity.index.tz is not None and str(loaded.equity.index.tz) == "UTC"
    assert "SavedResult(" in repr(loaded)
