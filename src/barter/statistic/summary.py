"""The seed's trading summary (SEED.md §3) computed from the compiled one-pass state.

The core updates, on each exited position, a Welford accumulator of PnL returns, another of the
losing returns, and the seed's drawdown tracker over the portfolio's balance total at each exit.
Everything below is derived from that state when a summary is read.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Iterable

from barter.errors import ConfigError

_DAY_NS = 86_400 * 10**9
_MIN_PERIOD_NS = 10**9  # a zero-length trading period counts as one second (defined, never 0/0)


@dataclass(frozen=True, slots=True)
class StatisticConfig:
    """``starting_equity`` (quote currency) starts the drawdown tracker; ``trading_days_per_year``
    annualises daily ratios; ``risk_free_return`` (per trade, as a fraction) is subtracted from the
    mean return in every ratio."""

    starting_equity: float = 10_000.0
    trading_days_per_year: int = 365
    risk_free_return: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.starting_equity) and self.starting_equity > 0):
            raise ConfigError(f"starting_equity must be finite and > 0, was {self.starting_equity!r}")
        if not (isinstance(self.trading_days_per_year, int) and self.trading_days_per_year > 0):
            raise ConfigError(f"trading_days_per_year must be an int > 0, was {self.trading_days_per_year!r}")
        if not math.isfinite(self.risk_free_return):
            raise ConfigError(f"risk_free_return must be finite, was {self.risk_free_return!r}")


def _std(acc: dict[str, Any]) -> float:
    """Population standard deviation, as the seed (0 for no samples)."""
    return math.sqrt(acc["m2"] / acc["count"]) if acc["count"] else 0.0


def _ratio(excess: float, denominator: float) -> float:
    """The seed's rule: a zero denominator gives 0."""
    return excess / denominator if denominator != 0.0 else 0.0


@dataclass(frozen=True, slots=True)
class TradingSummary:
    """Summary of exited positions. Returns are fractions (realised PnL / entry value).

    Attributes
    ----------
    trades_per_day : float
        trades / (last exit − first entry, in days; at least one second).
    sharpe_*, sortino_*, calmar_* : float
        Per trade: (mean return − risk_free_return) / (std of returns | std of losing returns |
        |max drawdown|), 0 when the denominator is 0. Daily = per trade × √trades_per_day;
        annual = daily × √trading_days_per_year.
    max_drawdown, avg_drawdown : float
        Fractions ≤ 0 of the balance total at each exit, from its running peak (starting at
        ``starting_equity``); a drawdown still open is included.
    *_days : int
        Whole days (truncated), as the seed's table.
    """

    id: str
    trades: int
    wins: int
    losses: int
    trading_days: int
    trades_per_day: float
    mean_return: float
    std_dev_return: float
    loss_mean_return: float
    biggest_win: float
    biggest_loss: float
    sharpe_per_trade: float
    sortino_per_trade: float
    calmar_per_trade: float
    sharpe_daily: float
    sortino_daily: float
    calmar_daily: float
    sharpe_annual: float
    sortino_annual: float
    calmar_annual: float
    max_drawdown: float
    max_drawdown_days: int
    avg_drawdown: float
    avg_drawdown_days: int
    current_drawdown: float

    @classmethod
    def from_state(cls, id: str, state: dict[str, Any], config: StatisticConfig) -> TradingSummary:
        total, losses = state["total"], state["losses"]
        n = total["count"]
        period_ns = state["end_ns"] - state["start_ns"] if n else 0
        trades_per_day = n * _DAY_NS / max(period_ns, _MIN_PERIOD_NS) if n else 0.0
        excess = total["mean"] - config.risk_free_return if n else 0.0
        per_trade = (
            _ratio(excess, _std(total)),
            _ratio(excess, _std(losses)),
            _ratio(excess, abs(state["max_drawdown"])),
        )
        daily = [r * math.sqrt(trades_per_day) for r in per_trade]
        annual = [r * math.sqrt(config.trading_days_per_year) for r in daily]
        return cls(
            id=id, trades=n, wins=n - losses["count"], losses=losses["count"],
            trading_days=period_ns // _DAY_NS, trades_per_day=trades_per_day,
            mean_return=total["mean"], std_dev_return=_std(total), loss_mean_return=losses["mean"],
            biggest_win=total["high"], biggest_loss=total["low"],
            sharpe_per_trade=per_trade[0], sortino_per_trade=per_trade[1], calmar_per_trade=per_trade[2],
            sharpe_daily=daily[0], sortino_daily=daily[1], calmar_daily=daily[2],
            sharpe_annual=annual[0], sortino_annual=annual[1], calmar_annual=annual[2],
            max_drawdown=state["max_drawdown"],
            max_drawdown_days=state["max_drawdown_duration_ns"] // _DAY_NS,
            avg_drawdown=state["avg_drawdown"],
            avg_drawdown_days=int(state["avg_drawdown_duration_ns"] // _DAY_NS),
            current_drawdown=state["current_drawdown"],
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# The seed's table: (title, attribute); ratios shown daily, as the seed's TearSheet.
COLUMNS = (
    ("Trades", "trades"), ("Wins", "wins"), ("Losses", "losses"), ("Trading Days", "trading_days"),
    ("Trades Per Day", "trades_per_day"), ("Mean Return", "mean_return"),
    ("Std. Dev. Return", "std_dev_return"), ("Loss Mean Return", "loss_mean_return"),
    ("Biggest Win", "biggest_win"), ("Biggest Loss", "biggest_loss"),
    ("Sharpe Ratio", "sharpe_daily"), ("Sortino Ratio", "sortino_daily"), ("Calmar Ratio", "calmar_daily"),
    ("Max Drawdown", "max_drawdown"), ("Max Drawdown Days", "max_drawdown_days"),
    ("Avg. Drawdown", "avg_drawdown"), ("Avg. Drawdown Days", "avg_drawdown_days"),
)


def _cell(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


class SummaryTable:
    """The seed's session summary: one row per market and a "Total" row."""

    def __init__(self, rows: Iterable[TradingSummary]) -> None:
        self.rows = list(rows)

    def __getitem__(self, id: str) -> TradingSummary:
        for row in self.rows:
            if row.id == id:
                return row
        raise KeyError(f"no summary row {id!r}; rows: {[r.id for r in self.rows]}")

    @property
    def total(self) -> TradingSummary:
        return self["Total"]

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {row.id: row.to_dict() for row in self.rows}

    def to_frame(self):  # -> pandas.DataFrame
        import pandas as pd

        names = [f.name for f in fields(TradingSummary)][1:]
        return pd.DataFrame([[getattr(r, n) for n in names] for r in self.rows],
                            index=[r.id for r in self.rows], columns=names)

    def __str__(self) -> str:
        header = [""] + [title for title, _ in COLUMNS]
        body = [[row.id] + [_cell(getattr(row, attr)) for _, attr in COLUMNS] for row in self.rows]
        widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
        rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
        line = lambda cells: "| " + " | ".join(c.rjust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
        return "\n".join([rule, line(header), rule, *(line(r) for r in body), rule])

    def __repr__(self) -> str:
        return f"SummaryTable({[r.id for r in self.rows]})"
