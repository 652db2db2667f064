"""The tear sheet (``barter.results``): the plotted series match ``EquitySummary``, the HTML page is
self-contained with every chart and summary figure, the PNG is the right size and shows the curve.

(The render in headless Chromium is test_browser.py.)
"""
from __future__ import annotations

import dataclasses
import html
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import barter
from barter import ConfigError, InstrumentKind, Market
from barter.data import HistoricalCandles, default_candles
from barter.results import analytics, equity_png, load_result, result_html, save_result, summary_html, tear_sheet
from barter.results.html import format_value
from barter.results.tearsheet import DIV_IDS, monthly_figure, trades_figure
from barter.statistic import SummaryTable
from barter.strategy import RSIStrategy
from reference.strategies import Idle

EQUITY_BLUE = np.array([0x1f, 0x77, 0xb4]) / 255


def chart_ids(page: str) -> list[str]:
    return re.findall(r'<div id="([\w-]+)" class="plotly-graph-div"', page)


def assert_self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I), "external script"
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?(https?:)?//", page, re.I), "external stylesheet"
    assert "Plotly.newPlot" in page
    assert len(page) > 3_000_000  # plotly.js itself is inlined


def assert_summary_shown(page: str, summary: SummaryTable) -> None:
    for rid, row in summary.to_dict().items():
        assert f"<th>{html.escape(rid)}</th>" in page
        for key, value in row.items():
            if key != "id":
                assert f">{html.escape(format_value(value))}</td>" in page, (rid, key, value)
                assert f'title="{html.escape(repr(value))}"' in page, (rid, key, value)


# --------------------------------------------------------------------------- analytics

@pytest.mark.parametrize("which", ["synthetic", "real"])
def test_plotted_series_match_the_summary(which: str, request: pytest.FixtureRequest) -> None:
    result = request.getfixturevalue(which)
    s = result.summary.total.equity
    daily = analytics.daily_returns(result.equity, s.start)
    assert len(daily) == s.days
    assert daily.mean() == pytest.approx(s.mean_daily_return, rel=1e-9)
    assert analytics.rolling_sharpe(daily, len(daily)).iloc[-1] == pytest.approx(s.sharpe, rel=1e-9)
    assert analytics.drawdown(result.equity).min() == pytest.approx(s.max_drawdown, rel=1e-9)
    monthly = analytics.monthly_returns(result.equity, s.start)
    assert list(monthly.columns) == list(range(1, 13))
    compounded = np.nanprod(1.0 + monthly.to_numpy()) - 1.0
    assert compounded == pytest.approx(s.total_return, rel=1e-9)


def test_plotted_returns_start_at_the_starting_cash_when_starting_equity_differs() -> None:
    """StatisticConfig.starting_equity 5,000 beside 10,000 of cash: the plotted daily and monthly
    returns are over the portfolio's equity from 10,000, as the Total row's."""
    from barter.results.tearsheet import figures
    from barter.statistic import StatisticConfig

    result = barter.backtest(default_candles(3_000), RSIStrategy(), starting_cash=10_000.0,
                             statistic_config=StatisticConfig(starting_equity=5_000.0))
    s = result.summary.total.equity
    assert s.start == 10_000.0
    daily = analytics.daily_returns(result.equity, s.start)
    assert len(daily) == s.days and daily.mean() == pytest.approx(s.mean_daily_return, rel=1e-9)
    plotted = np.asarray(figures(result)[DIV_IDS[3]].data[0].x)
    np.testing.assert_allclose(plotted, daily.to_numpy() * 100.0, rtol=1e-12)
    assert abs(plotted[0]) < 50.0  # not the +100 % of 10,000 over 5,000


def test_monthly_heatmap_labels_only_months_with_data() -> None:
    monthly = pd.DataFrame([[np.nan, 0.0123] + [np.nan] * 10], index=[2024], columns=range(1, 13))
    heatmap = monthly_figure(monthly).data[0]
    labels = [heatmap.texttemplate.replace("%{text}", t) for t in heatmap.text[0]]
    assert labels[:3] == ["", "1.23%", ""]  # not a bare "%" where there is no month


def test_rolling_sharpe_window() -> None:
    r = pd.Series(np.r_[np.full(5, 0.01), [0.02, -0.01, 0.03]], index=pd.date_range("2024-01-01", periods=8, tz="UTC"))
    sharpe = analytics.rolling_sharpe(r, window=3, periods_per_year=365)
    assert sharpe.iloc[:4].isna().all()  # too few returns, then a zero std
    last = r.iloc[-3:]
    assert sharpe.iloc[-1] == pytest.approx(last.mean() / last.std(ddof=1) * math.sqrt(365), rel=1e-12)
    with pytest.raises(ValueError, match="window must be >= 2"):
        analytics.rolling_sharpe(r, window=1)


def test_envelope_keeps_extremes() -> None:
    rng = np.random.default_rng(3)
    values = np.cumsum(rng.normal(size=100_003))
    idx = analytics.envelope(values, 1_000)
    assert len(idx) <= 1_004 and np.all(np.diff(idx) > 0)
    assert {0, len(values) - 1, int(np.argmin(values)), int(np.argmax(values))} <= set(idx.tolist())
    assert analytics.envelope(values[:10], 1_000).tolist() == list(range(10))


# --------------------------------------------------------------------------- HTML tear sheet

def test_tear_sheet_is_self_contained_with_every_chart(synthetic: barter.BacktestResult, tmp_path: Path) -> None:
    out = tear_sheet(synthetic, tmp_path / "sub" / "report.html")
    page = out.read_text(encoding="utf-8")
    assert_self_contained(page)
    assert chart_ids(page) == list(DIV_IDS)
    assert_summary_shown(page, synthetic.summary)
    assert f"{len(synthetic.positions):,} trades" in page
    assert "events: 20,000" in page


def test_tear_sheet_from_a_saved_run(synthetic: barter.BacktestResult, tmp_path: Path) -> None:
    loaded = load_result(save_result(synthetic, tmp_path / "run"))
    page = tear_sheet(loaded, tmp_path / "report.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    assert chart_ids(page) == list(DIV_IDS)
    assert_summary_shown(page, synthetic.summary)

    bare = load_result(save_result(synthetic, tmp_path / "bare", prices=False))
    page = tear_sheet(bare, tmp_path / "bare.html").read_text(encoding="utf-8")
    assert "barter-trades" not in chart_ids(page)  # no prices saved, none given
    close = synthetic.engine.traders[0].data.close
    price = pd.Series(close, index=synthetic.equity.index)
    page = tear_sheet(bare, tmp_path / "priced.html", price=price).read_text(encoding="utf-8")
    assert "barter-trades" in chart_ids(page)


def test_tear_sheet_on_real_prices(real: barter.BacktestResult, tmp_path: Path) -> None:
    page = tear_sheet(real, tmp_path / "report.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    assert chart_ids(page) == list(DIV_IDS)
    assert_summary_shown(page, real.summary)
    assert "needs at least 30 days" not in page  # 33 days: the rolling Sharpe has values
    assert "binance_btc_usdt_perpetual" in page


def test_tear_sheet_without_equity_or_trades(tmp_path: Path) -> None:
    result = barter.backtest(default_candles(2_000), Idle(), record_equity=False)
    page = tear_sheet(result, tmp_path / "report.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    assert chart_ids(page) == ["barter-trades"]
    assert "equity curve was not recorded" in page
    assert_summary_shown(page, result.summary)


def test_short_run_says_why_the_rolling_sharpe_is_empty(synthetic: barter.BacktestResult, tmp_path: Path) -> None:
    page = tear_sheet(synthetic, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "needs at least 30 days of returns (14 available)" in page


def test_trade_markers_are_capped_to_the_largest(synthetic: barter.BacktestResult) -> None:
    positions = synthetic.positions
    price = pd.Series(synthetic.engine.traders[0].data.close, index=synthetic.equity.index)
    fig = trades_figure(price, positions, max_trades=10)
    entries = next(t for t in fig.data if t.name == "Entry")
    assert len(entries.x) == 10
    assert f"10 largest of {len(positions):,}" in fig.layout.title.text
    biggest = positions["realised_pnl"].abs().nlargest(10)
    shown = [float(t.split("PnL ")[1].split(" ")[0]) for t in entries.text]
    assert sorted(abs(v) for v in shown) == pytest.approx(sorted(biggest.round(4)), abs=1e-4)


# --------------------------------------------------------------------------- PNG

def read_png(path: Path) -> np.ndarray:
    import matplotlib.image

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return matplotlib.image.imread(str(path))


def test_equity_png(synthetic: barter.BacktestResult, tmp_path: Path) -> None:
    out = equity_png(synthetic, tmp_path / "img" / "equity.png")
    assert out.stat().st_size > 10_000
    pixels = read_png(out)
    assert pixels.shape[:2] == (700, 1200)
    assert pixels[..., :3].std() > 0.05  # not blank
    blue = np.all(np.abs(pixels[..., :3] - EQUITY_BLUE) < 0.08, axis=-1)
    assert blue.sum() > 1_000  # the equity line is drawn
    columns = np.flatnonzero(blue.any(axis=0))
    assert columns.max() - columns.min() > 900  # across the width of the chart


def test_equity_png_size_and_saved_run(synthetic: barter.BacktestResult, tmp_path: Path) -> None:
    loaded = load_result(save_result(synthetic, tmp_path / "run"))
    pixels = read_png(equity_png(loaded, tmp_path / "small.png", width=640, height=360, dpi=80))
    assert pixels.shape[:2] == (360, 640)
    assert pixels[..., :3].std() > 0.05


def test_equity_png_needs_equity(tmp_path: Path) -> None:
    result = barter.backtest(default_candles(500), Idle(), record_equity=False)
    with pytest.raises(ConfigError, match="record_equity=False"):
        equity_png(result, tmp_path / "x.png")
    with pytest.raises(ConfigError, match="at least 100 x 100 px, was 50 x 400"):
        equity_png(barter.backtest(default_candles(500), Idle()), tmp_path / "x.png", width=50, height=400)


# --------------------------------------------------------------------------- notebook HTML

def test_summary_html(synthetic: barter.BacktestResult) -> None:
    table = summary_html(synthetic.summary)
    assert table.count("<table") == 1 and "Equity curve" in table and "Sharpe Ratio (daily)" in table
    assert_summary_shown(table, synthetic.summary)
    odd = dataclasses.replace(synthetic.summary.total, id="<script>x</script>", profit_factor=math.inf,
                              biggest_win=math.nan)
    table = summary_html(SummaryTable([odd]))
    assert "<script>" not in table and "&lt;script&gt;x&lt;/script&gt;" in table
    assert ">inf</td>" in table and ">nan</td>" in table
    assert summary_html(synthetic.summary, style=False).startswith("<table")


def test_result_html(synthetic: barter.BacktestResult, tmp_path: Path) -> None:
    live = result_html(synthetic)
    saved = result_html(load_result(save_result(synthetic, tmp_path)))
    for text, kind in ((live, "BacktestResult"), (saved, "SavedResult")):
        assert f"<b>{kind}</b>" in text
        assert "events: 20,000" in text and f"fills: {len(synthetic.fills):,}" in text
        assert f"positions: {synthetic.summary.total.trades:,}" in text
        assert_summary_shown(text, synthetic.summary)


@pytest.mark.parametrize("value, shown", [(3, "3"), (0.1234567, "0.1235"), (-12345.678, "-12,345.68"),
                                          (math.inf, "inf"), (-math.inf, "-inf"), (math.nan, "nan"), (True, "True")])
def test_format_value(value: Any, shown: str) -> None:
    assert format_value(value) == shown


def test_saved_result_methods(synthetic: barter.BacktestResult, tmp_path: Path) -> None:
    loaded = load_result(save_result(synthetic, tmp_path / "run"))
    assert chart_ids(loaded.tear_sheet(tmp_path / "r.html").read_text(encoding="utf-8")) == list(DIV_IDS)
    assert read_png(loaded.equity_png(tmp_path / "e.png")).shape[:2] == (700, 1200)
    assert loaded._repr_html_() == result_html(loaded)
