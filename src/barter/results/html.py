"""HTML for notebooks and the tear sheet: the summary table and a one-paragraph result header.

Plain strings, no plotting library: ``_repr_html_`` stays cheap. Every cell shows the value
rounded (``format_value``) and carries the exact ``repr`` in its ``title`` (shown on hover).
"""
from __future__ import annotations

import math
from html import escape
from typing import Any

from barter.results._common import has_equity, market_ids
from barter.statistic.summary import COLUMNS, SummaryTable

# Titles of the figures the seed's table does not name; the rest come from ``summary.COLUMNS``.
_TITLES = {attr: title for title, attr in COLUMNS} | {
    "win_rate": "Win Rate", "total_return": "Total Return", "total_pnl": "Total PnL",
    "expectancy": "Expectancy", "avg_win": "Avg. Win", "avg_loss": "Avg. Loss",
    "profit_factor": "Profit Factor", "exposure": "Exposure", "current_drawdown": "Current Drawdown",
    "sharpe_daily": "Sharpe Ratio (daily)", "sortino_daily": "Sortino Ratio (daily)",
    "calmar_daily": "Calmar Ratio (daily)",
}

_CSS = """<style>
table.barter-summary{border-collapse:collapse;font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}
table.barter-summary th,table.barter-summary td{padding:2px 8px;border-bottom:1px solid #e5e5e5}
table.barter-summary td{text-align:right}
table.barter-summary th{text-align:left;font-weight:600}
table.barter-summary tr.barter-group th{background:#f3f3f3;text-align:left}
</style>"""


def format_value(value: Any) -> str:
    """A summary figure as shown: ints as is, floats to 4 decimals (thousands separated when ≥ 1000)."""
    if isinstance(value, bool) or not isinstance(value, float):
        return str(value)
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return f"{value:,.2f}" if abs(value) >= 1000 else f"{value:.4f}"


def _title(key: str) -> str:
    if key.startswith("equity_"):
        return "Equity: " + key[len("equity_"):].replace("_", " ").capitalize()
    return _TITLES.get(key, key.replace("_", " ").capitalize())


def summary_html(summary: SummaryTable, *, style: bool = True) -> str:
    """The summary as an HTML table: one row per figure, one column per market and "Total".

    Trade figures come first, then the equity-curve figures (``equity_*``), as ``to_dict``.
    """
    rows = summary.to_dict()
    ids = list(rows)
    keys = [k for k in (next(iter(rows.values())) if rows else {}) if k != "id"]
    head = "".join(f"<th>{escape(rid)}</th>" for rid in ids)
    body = []
    for i, key in enumerate(keys):
        if key.startswith("equity_") and (i == 0 or not keys[i - 1].startswith("equity_")):
            body.append(f'<tr class="barter-group"><th colspan="{len(ids) + 1}">Equity curve</th></tr>')
        cells = "".join(f'<td title="{escape(repr(rows[rid][key]))}">{escape(format_value(rows[rid][key]))}</td>'
                        for rid in ids)
        body.append(f'<tr><th title="{escape(key)}">{escape(_title(key))}</th>{cells}</tr>')
    table = (f'<table class="barter-summary"><thead><tr><th></th>{head}</tr></thead>'
             f'<tbody>{"".join(body)}</tbody></table>')
    return (_CSS if style else "") + table


def _fill_count(result: Any) -> int:
    core = getattr(getattr(result, "portfolio", None), "core", None)
    n = getattr(core, "n_fills", None)
    return n if isinstance(n, int) else len(result.fills)  # a live result counts without building the table


def result_header_html(result: Any) -> str:
    """One paragraph: markets, events, fills, positions, and equity start → end (quote currency)."""
    total = result.summary.total
    events = getattr(getattr(result, "engine", None), "events", None)
    if events is None:
        events = getattr(result, "meta", {}).get("events")
    parts = [
        f"<b>{escape(type(result).__name__)}</b>",
        "markets: " + ", ".join(escape(m) for m in market_ids(result)),
        f"events: {events:,}" if isinstance(events, int) else "",
        f"fills: {_fill_count(result):,}",
        f"positions: {total.trades:,}",
        f"equity: {format_value(total.equity.start)} → {format_value(total.equity.end)} "
        f"({total.equity.total_return:+.2%})",
        "" if has_equity(result) else "equity curve not recorded",
    ]
    return "<p>" + " · ".join(p for p in parts if p) + "</p>"


def result_html(result: Any) -> str:
    """``_repr_html_`` of a result: the header paragraph and the summary table."""
    return f'<div class="barter-result">{result_header_html(result)}{summary_html(result.summary)}</div>'


__all__ = ["format_value", "result_header_html", "result_html", "summary_html"]
