"""``barter sweep CONFIG.toml --grid NAME=V1,V2 ...``: a sweep of a backtest config's strategy."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Sequence

from barter.errors import ConfigError
from barter.sweep.params import grid

if TYPE_CHECKING:
    import pandas as pd

# Columns printed beside the parameters (the metric comes first).
SHOWN = ("trades", "total_pnl", "equity_total_return", "equity_max_drawdown")


def _value(text: str) -> Any:
    """A grid value as typed on the command line: int, float, true/false, else the string."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text.strip()


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """``["rsi_period=7,14", "x=a,b"]`` → ``{"rsi_period": [7, 14], "x": ["a", "b"]}``."""
    axes: dict[str, list[Any]] = {}
    for item in items:
        name, sep, values = item.partition("=")
        parts = [v for v in values.split(",") if v.strip()]
        if not sep or not name.strip() or not parts:
            raise ConfigError(f"--grid must be NAME=V1,V2,..., got {item!r}")
        if name.strip() in axes:
            raise ConfigError(f"--grid {name.strip()} is given twice")
        axes[name.strip()] = [_value(v) for v in parts]
    return axes


def _options(config: Any) -> dict[str, Any]:
    """``barter.backtest`` keyword arguments from a config (its one market). ``[allocator]`` and
    ``[risk]`` are made anew in each run, in its worker."""
    from barter.execution.events import Fees
    from barter.statistic.summary import StatisticConfig
    from barter.sweep.job import PerRun

    stats = StatisticConfig(starting_equity=config.starting_equity or config.starting_cash,
                            trading_days_per_year=config.trading_days_per_year,
                            risk_free_return=config.risk_free_return)
    options = {"market": config.markets[0].market, "starting_cash": config.starting_cash,
               "order_value": config.order_value, "size_decimals": config.size_decimals,
               "fees": Fees(**config.fees), "statistic_config": stats}
    for name in ("allocator", "risk"):
        section = getattr(config, name)
        if section is not None:
            options[name] = PerRun(section.path, dict(section.params))
    return options


def run(config_path: str, grid_items: Sequence[str], *, executor: Any, workers: Optional[int],
        metric: str, progress: Optional[bool]) -> pd.DataFrame:
    """Sweep the config's strategy over ``grid_items`` on its one market's data.

    The config's ``[strategy] params`` apply to every run; the grid overrides them. Grid names
    the strategy does not take are a ``ConfigError`` before the data is read.
    """
    from barter.config import load_config, load_market_data
    from barter.sweep.core import check_fit, check_metric, sweep

    check_metric(metric)
    axes = parse_grid(grid_items)
    config = load_config(config_path)
    if len(config.markets) != 1:
        raise ConfigError(f"{config.source.name}: a sweep runs on one market, the config has {len(config.markets)}")
    base = dict(config.strategy.params)
    sets = [{**base, **g} for g in grid(axes)]
    check_fit(config.strategy.factory, sets, config.strategy.path)
    return sweep(load_market_data(config.markets[0]), config.strategy.path, sets, metric=metric,
                 executor=executor, workers=workers, progress=progress,
                 sys_path=[str(config.source.parent.resolve())], **_options(config))


def all_failed(table: pd.DataFrame) -> Optional[str]:
    """The one-line error when every run of a sweep failed (the first run's error), else None."""
    if not len(table) or table["error"].isna().any():
        return None
    first = table.sort_values("run").iloc[0]
    return f"every run failed ({len(table)}); run {first['run']}: {' '.join(str(first['error']).split())}"


def show(table: pd.DataFrame, params: Sequence[str], top: int) -> str:
    """The best ``top`` rows: run, the swept parameters, the metric, a few statistics, errors."""
    metric = table.attrs.get("metric", "")
    columns = ["run", *params, metric, *(c for c in SHOWN if c != metric)]
    if table["error"].notna().any():
        columns.append("error")
    return table.head(top)[columns].to_string(index=False)


def save(table: pd.DataFrame, path: Path) -> None:
    """Every row to ``path``: Parquet for ``.parquet``/``.pq``, else CSV."""
    if path.suffix.lower() in (".parquet", ".pq"):
        table.to_parquet(path, index=False)
    else:
        table.to_csv(path, index=False)


__all__ = ["all_failed", "parse_grid", "run", "save", "show"]
