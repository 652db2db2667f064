"""Results on disk and on screen: save/load a run directory, the HTML tear sheet, the PNG chart.

Plotting libraries load on first use: plotly for ``tear_sheet``, matplotlib for ``equity_png``.
"""
from barter.results.html import result_html, summary_html
from barter.results.png import equity_png
from barter.results.store import SavedResult, load_result, save_result
from barter.results.tearsheet import tear_sheet

__all__ = ["SavedResult", "equity_png", "load_result", "result_html", "save_result", "summary_html", "tear_sheet"]
