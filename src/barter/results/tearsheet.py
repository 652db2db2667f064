"""The tear sheet: one self-contained HTML file of plotly charts and the summary table.

plotly.js is inlined once in the page head, so the file opens without a network. Charts:
equity with drawdown underneath, trades on price, monthly returns, the daily return distribution
and the rolling Sharpe ratio. Long curves are thinned to ``max_points`` keeping every bucket's
minimum and maximum (``analytics.envelope``), so peaks and drawdowns are drawn exactly.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Union

import numpy as np

from barter.results import analytics
from barter.results._common import has_equity, market_ids, price_frame, statistic_config
from barter.results.html import result_header_html, summary_html

if TYPE_CHECKING:
    import pandas as pd

PathLike = Union[str, "os.PathLike[str]"]
MAX_POINTS = 4_000
MAX_TRADES = 2_000
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_LAYOUT: dict[str, Any] = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 40, "b": 40},
                           "hovermode": "x unified"}
# Div ids of the charts, in page order (tests and the browser check look for them).
DIV_IDS = ("barter-equity", "barter-trades", "barter-monthly", "barter-distribution", "barter-rolling-sharpe")


def _thin(series: pd.Series, max_points: int) -> pd.Series:
    return series.iloc[analytics.envelope(series.to_numpy(), max_points)]


def _utc(times: Any) -> np.ndarray:
    """UTC wall-clock ``datetime64[ns]`` (plotly.js ignores offsets; the axes are labelled UTC)."""
    import pandas as pd

    index = pd.DatetimeIndex(times)
    return (index.tz_convert("UTC").tz_localize(None) if index.tz is not None else index).to_numpy()


def equity_figure(equity: pd.Series, max_points: int = MAX_POINTS) -> Any:
    """Equity (quote currency) on top, drawdown (% below the running peak) underneath, shared time axis."""
    from plotly.subplots import make_subplots
    import plotly.graph_objects as go

    dd = analytics.drawdown(equity) * 100.0
    eq, dd = _thin(equity, max_points), _thin(dd, max_points)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.04)
    fig.add_trace(go.Scatter(x=_utc(eq.index), y=eq.to_numpy(), name="Equity", mode="lines",
                             line={"color": "#1f77b4", "width": 1.5}), row=1, col=1)
    fig.add_trace(go.Scatter(x=_utc(dd.index), y=dd.to_numpy(), name="Drawdown %", mode="lines", fill="tozeroy",
                             line={"color": "#d62728", "width": 1}), row=2, col=1)
    fig.update_yaxes(title_text="Equity (quote)", row=1, col=1)
    fig.update_yaxes(title_text="Drawdown (%)", row=2, col=1)
    fig.update_xaxes(title_text="Time (UTC)", row=2, col=1)
    fig.update_layout(title="Equity and drawdown", height=520, showlegend=False, **_LAYOUT)
    return fig


def trades_figure(price: pd.Series, positions: pd.DataFrame, max_points: int = MAX_POINTS,
                  max_trades: int = MAX_TRADES) -> Any:
    """Price (quote per base unit) with each exited position's entry and exit.

    Entries are triangles (up: long, down: short), exits crosses, green for a profit and red for a
    loss. With more than ``max_trades`` positions, the ``max_trades`` largest |PnL| are marked.
    """
    import plotly.graph_objects as go

    shown = positions
    if len(positions) > max_trades:
        shown = positions.loc[positions["realised_pnl"].abs().nlargest(max_trades).index].sort_index()
    line = _thin(price, max_points)
    fig = go.Figure(go.Scatter(x=_utc(line.index), y=line.to_numpy(), name="Price", mode="lines",
                               line={"color": "#7f7f7f", "width": 1}))
    win = shown["realised_pnl"].to_numpy() > 0
    colour = np.where(win, "#2ca02c", "#d62728")
    long = (shown["side"] == "buy").to_numpy()
    text = [f"{s} {q:g} · PnL {p:.4f} ({r:+.3%})" for s, q, p, r in
            zip(shown["side"], shown["quantity"], shown["realised_pnl"], shown["pnl_return"])]
    fig.add_trace(go.Scatter(x=_utc(shown["enter_time"]), y=shown["enter_price"], name="Entry", mode="markers",
                             text=text, hovertemplate="entry %{y}<br>%{text}<extra></extra>",
                             marker={"symbol": np.where(long, "triangle-up", "triangle-down"), "size": 8,
                                     "color": colour, "line": {"width": 0.5, "color": "#333"}}))
    fig.add_trace(go.Scatter(x=_utc(shown["exit_time"]), y=shown["exit_price"], name="Exit", mode="markers",
                             text=text, hovertemplate="exit %{y}<br>%{text}<extra></extra>",
                             marker={"symbol": "x", "size": 7, "color": colour}))
    title = "Trades on price" + (f" ({len(shown):,} largest of {len(positions):,})" if len(shown) < len(positions)
                                 else f" ({len(positions):,} trades)")
    fig.update_layout(title=title, height=420, yaxis_title="Price (quote per base)",
                      xaxis_title="Time (UTC)", **_LAYOUT)
    return fig


def monthly_figure(monthly: pd.DataFrame) -> Any:
    """Heat map of calendar-month returns (%), years down, months across."""
    import plotly.graph_objects as go

    z = monthly.to_numpy(dtype=np.float64) * 100.0
    bound = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    # the labels are made here: a texttemplate is applied to empty (NaN) months too, showing "%"
    text = [[f"{v:.2f}%" if np.isfinite(v) else "" for v in row] for row in z]
    fig = go.Figure(go.Heatmap(z=z, x=list(_MONTHS), y=[str(y) for y in monthly.index], zmid=0.0,
                               zmin=-bound, zmax=bound, colorscale="RdYlGn", text=text, texttemplate="%{text}",
                               hovertemplate="%{y} %{x}: %{z:.3f}%<extra></extra>",
                               colorbar={"title": {"text": "%"}}))
    fig.update_layout(title="Monthly returns (%)", height=120 + 40 * max(len(monthly), 1),
                      yaxis={"autorange": "reversed", "type": "category"}, **_LAYOUT)
    return fig


def distribution_figure(returns: pd.Series) -> Any:
    """Histogram of daily returns (%), with the mean marked."""
    import plotly.graph_objects as go

    pct = returns.to_numpy(dtype=np.float64) * 100.0
    fig = go.Figure(go.Histogram(x=pct, nbinsx=min(max(len(pct) // 2, 10), 100), name="Days",
                                 marker={"color": "#1f77b4"}))
    if len(pct):
        fig.add_vline(x=float(np.mean(pct)), line_dash="dash", line_color="#333",
                      annotation_text=f"mean {np.mean(pct):.3f}%")
    fig.update_layout(title=f"Daily returns ({len(pct)} days)", xaxis_title="Return (%)", yaxis_title="Days",
                      height=360, bargap=0.05, **_LAYOUT)
    return fig


def rolling_sharpe_figure(sharpe: pd.Series, window: int) -> Any:
    """Rolling annualised Sharpe ratio of daily returns over ``window`` days."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=_utc(sharpe.index), y=sharpe.to_numpy(), mode="lines", name="Sharpe",
                               line={"color": "#9467bd"}))
    if not sharpe.notna().any():
        fig.add_annotation(text=f"needs at least {window} days of returns ({len(sharpe)} available)",
                           showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    fig.update_layout(title=f"Rolling Sharpe ratio ({window} days, annualised)", height=320, **_LAYOUT)
    return fig


def _price_series(result: Any, price: Optional[pd.Series], market: str) -> Optional[pd.Series]:
    if price is not None:
        return price
    frame = price_frame(result)
    if frame is None:
        return None
    rows = frame[frame["market"] == market]
    return None if rows.empty else rows.set_index("time")["price"]


def figures(result: Any, price: Optional[pd.Series] = None, *, market: Optional[str] = None,
            sharpe_window: int = 30, max_points: int = MAX_POINTS) -> dict[str, Any]:
    """The tear sheet's plotly figures by div id (those that have data).

    ``price`` (quote per base unit, UTC-time index) is the series trades are marked on; by default
    the traded prices of ``market`` (the first market) from the result, when it has them.
    """
    config = statistic_config(result)
    market = market or (market_ids(result) or [""])[0]
    out: dict[str, Any] = {}
    if has_equity(result):
        equity = result.equity
        start = result.summary.total.equity.start  # the portfolio's starting cash, as its curve's
        daily = analytics.daily_returns(equity, start)
        out[DIV_IDS[0]] = equity_figure(equity, max_points)
    line = _price_series(result, price, market)
    if line is not None:
        positions = result.positions
        out[DIV_IDS[1]] = trades_figure(line, positions[positions["market"] == market], max_points)
    if has_equity(result):
        out[DIV_IDS[2]] = monthly_figure(analytics.monthly_returns(equity, start))
        out[DIV_IDS[3]] = distribution_figure(daily)
        sharpe = analytics.rolling_sharpe(daily, sharpe_window, config.trading_days_per_year,
                                          config.risk_free_return)
        out[DIV_IDS[4]] = rolling_sharpe_figure(sharpe, sharpe_window)
    return out


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font:14px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#222}}
h1{{font-size:22px;margin:0 0 4px}} h2{{font-size:17px;margin:28px 0 8px}} .barter-note{{color:#666}}
.barter-table{{overflow-x:auto}}
</style>
<script type="text/javascript">{plotlyjs}</script>
</head>
<body>
<h1>{title}</h1>
{header}
<p class="barter-note">{note}</p>
{charts}
<h2>Summary</h2>
<div class="barter-table">{table}</div>
</body>
</html>
"""


def tear_sheet(result: Any, path: PathLike, price: Optional[pd.Series] = None, *, market: Optional[str] = None,
               title: Optional[str] = None, sharpe_window: int = 30, max_points: int = MAX_POINTS) -> Path:
    """Write the tear sheet of ``result`` (a ``BacktestResult`` or ``SavedResult``) to ``path``.

    Parameters
    ----------
    result : BacktestResult or SavedResult
    path : path
        The HTML file to write (parent directories are created).
    price : pandas.Series, optional
        Quote currency per 1 base unit, indexed by UTC time, to mark trades on; by default the
        result's traded prices of ``market``. Without prices the trades chart is left out.
    market : str, optional
        Market id whose trades are marked (default: the first market).
    sharpe_window : int
        Days in the rolling Sharpe ratio window.
    max_points : int
        Most points drawn per curve (thinned keeping each bucket's minimum and maximum).

    Returns
    -------
    pathlib.Path
        The file written: one self-contained HTML page (plotly.js inlined, ~5 MB).
    """
    from plotly.offline import get_plotlyjs

    charts = []
    for div_id, fig in figures(result, price, market=market, sharpe_window=sharpe_window,
                               max_points=max_points).items():
        charts.append(fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                                  config={"displaylogo": False, "responsive": True}))
    markets = ", ".join(market_ids(result))
    note = f"generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by barter"
    if not has_equity(result):
        note += " · the equity curve was not recorded (record_equity=False): equity charts left out"
    page = _PAGE.format(title=escape(title or f"barter tear sheet: {markets}"), plotlyjs=get_plotlyjs(),
                        header=result_header_html(result), note=escape(note), charts="\n".join(charts),
                        table=summary_html(result.summary))
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out


__all__ = ["DIV_IDS", "distribution_figure", "equity_figure", "figures", "monthly_figure", "rolling_sharpe_figure",
           "tear_sheet", "trades_figure"]
