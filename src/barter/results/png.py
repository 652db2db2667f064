"""A static PNG of the equity and drawdown chart, for terminals and READMEs.

Drawn with matplotlib's Agg canvas (no display, no browser, no global pyplot state): kaleido,
plotly's image export, needs a Chrome install, which a server or CI box may not have.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Union

from barter.errors import ConfigError
from barter.results import analytics
from barter.results._common import has_equity, market_ids

PathLike = Union[str, "os.PathLike[str]"]


def equity_png(result: Any, path: PathLike, *, width: int = 1200, height: int = 700, dpi: int = 100,
               max_points: int = 4_000) -> Path:
    """Write the equity curve (quote currency) over its drawdown (%) as a ``width`` × ``height`` px PNG.

    Parameters
    ----------
    result : BacktestResult or SavedResult
        Needs the equity curve (``record_equity=True``).
    path : path
        The PNG file to write (parent directories are created).
    width, height : int
        Image size in pixels.
    dpi : int
        Pixels per inch (scales the text and lines, not the image size).
    max_points : int
        Most points drawn per curve (thinned keeping each bucket's minimum and maximum).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if width < 100 or height < 100:
        raise ConfigError(f"PNG size must be at least 100 x 100 px, was {width!r} x {height!r}")
    if not has_equity(result):
        raise ConfigError("equity was not recorded (record_equity=False): no equity chart to draw")
    equity = result.equity
    dd = analytics.drawdown(equity) * 100.0
    eq = equity.iloc[analytics.envelope(equity.to_numpy(), max_points)]
    dd = dd.iloc[analytics.envelope(dd.to_numpy(), max_points)]
    # tz-aware timestamps to naive UTC datetimes: matplotlib's date axis then labels UTC.
    eq_x = eq.index.tz_convert("UTC").tz_localize(None).to_pydatetime()
    dd_x = dd.index.tz_convert("UTC").tz_localize(None).to_pydatetime()

    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1], "hspace": 0.05})
    top.plot(eq_x, eq.to_numpy(), color="#1f77b4", linewidth=1.2)
    top.set_ylabel("Equity (quote)")
    total = result.summary.total.equity
    top.set_title(f"{', '.join(market_ids(result))}: {total.start:,.2f} → {total.end:,.2f} "
                  f"({total.total_return:+.2%}), max drawdown {total.max_drawdown:.2%}")
    top.grid(True, alpha=0.3)
    bottom.fill_between(dd_x, dd.to_numpy(), 0.0, color="#d62728", alpha=0.4, linewidth=0)
    bottom.plot(dd_x, dd.to_numpy(), color="#d62728", linewidth=0.8)
    bottom.set_ylabel("Drawdown (%)")
    bottom.set_xlabel("Time (UTC)")
    bottom.grid(True, alpha=0.3)
    fig.autofmt_xdate()
    fig.subplots_adjust(left=0.08, right=0.98, top=0.93, bottom=0.15)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", dpi=dpi)
    return out


__all__ = ["equity_png"]
