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
    """``starting_equity`` (quote currency) starts the seed's drawdown tracker over exit balances
    and each market's equity curve (starting_equity + that market's PnL); the Total row's equity
    curve starts at the portfolio's starting cash. ``trading_days_per_year`` annualises daily
    ratios; ``risk_free_return`` (per trade, as a fraction) is subtracted from the mean return in
    every ratio."""

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


def _sample_std(acc: dict[str, Any]) -> float:
    """Sample standard deviation (n − 1), as empyrical; 0 for fewer than two samples."""
    return math.sqrt(acc["m2"] / (acc["count"] - 1)) if acc["count"] > 1 else 0.0


def _downside(acc: dict[str, Any]) -> float:
    """sqrt(Σ min(x − target, 0)² / n) over all samples; 0 for none."""
    return math.sqrt(acc["sum_sq"] / acc["count"]) if acc["count"] else 0.0


def _ratio(excess: float, denominator: float) -> float:
    """The seed's rule: a zero denominator gives 0."""
    return excess / denominator if denominator != 0.0 else 0.0


def _cagr(growth: float, years_inverse: float) -> float:
    """growth ^ (1 / years) − 1: −1 when nothing is left, inf when it overflows a float."""
    if growth <= 0.0:
        return -1.0
    try:
        return growth ** years_inverse - 1.0
    except OverflowError:
        return math.inf


def _div(a: float, b: float) -> float:
    return a / b if b else 0.0


@dataclass(frozen=True, slots=True)
class EquitySummary:
    """Statistics of the equity curve (quote currency, marked to market at every event time; one
    point per time, the equity after the last event at that time).

    Attributes
    ----------
    start : float
        The curve's equity before its first point: the portfolio's starting cash for the Total row,
        ``StatisticConfig.starting_equity`` for a market's row (starting_equity + its PnL).
    days : int
        UTC days with events; daily returns are each such day's last equity over the previous
        such day's (``start`` before the first). A day without events (a weekend of an equity
        feed) is not a day of the series: it has no return, and the next return spans the gap.
    total_return : float
        end / start − 1.
    cagr : float
        (end / start) ^ (trading_days_per_year / days) − 1 (as empyrical, one return per day with
        events: with daily bars of an equity, trading_days_per_year=252 gives calendar years).
    volatility : float
        Sample std of daily returns × √trading_days_per_year.
    sharpe, sortino : float
        mean(daily r − rf) / (sample std | downside deviation below rf) × √trading_days_per_year,
        rf = risk_free_return per day; 0 when the denominator is 0.
    max_drawdown, avg_drawdown, current_drawdown : float
        Fractions ≤ 0 below the running peak at event-time resolution; the average is over episodes
        (peak to recovery; one in progress counts).
    max_drawdown_days, avg_drawdown_days : float
        Episode durations, peak to recovery (or to the latest event), in days.
    time_under_water : float
        Fraction of the elapsed time spent below the running peak.
    """

    start: float
    end: float
    days: int
    total_return: float
    cagr: float
    mean_daily_return: float
    volatility: float
    sharpe: float
    sortino: float
    max_drawdown: float
    max_drawdown_days: float
    avg_drawdown: float
    avg_drawdown_days: float
    current_drawdown: float
    drawdowns: int
    time_under_water: float

    @classmethod
    def from_state(cls, state: dict[str, Any], span_ns: int, config: StatisticConfig) -> EquitySummary:
        """``state`` is an equity curve's state (``EquityStats.state()``); its ``start`` is the
        curve's own, which for the Total row is the starting cash, not ``config.starting_equity``."""
        daily, dd = state["daily"], state["drawdowns"]
        returns = daily["returns"]
        days = returns["count"]
        start = state.get("start", config.starting_equity)  # states saved before curves had their own
        end = daily["last"] if daily["points"] else start
        growth = end / start
        cagr = _cagr(growth, config.trading_days_per_year / days) if days else 0.0
        annual = math.sqrt(config.trading_days_per_year)
        excess = returns["mean"] - config.risk_free_return if days else 0.0
        return cls(
            start=start, end=end, days=days, total_return=growth - 1.0, cagr=cagr,
            mean_daily_return=returns["mean"] if days else 0.0,
            volatility=_sample_std(returns) * annual,
            sharpe=_ratio(excess, _sample_std(returns)) * annual,
            sortino=_ratio(excess, _downside(daily["downside"])) * annual,
            max_drawdown=dd["max"], max_drawdown_days=dd["max_duration_ns"] / _DAY_NS,
            avg_drawdown=dd["mean"], avg_drawdown_days=dd["mean_duration_ns"] / _DAY_NS,
            current_drawdown=dd["current"], drawdowns=dd["episodes"],
            time_under_water=_div(dd["underwater_ns"], span_ns),
        )


@dataclass(frozen=True, slots=True)
class TradingSummary:
    """Summary of exited positions (the seed's TradingSummary) and of the equity curve.

    Returns are fractions (realised PnL / entry value); PnL is quote currency; times UNIX ns UTC.

    Attributes
    ----------
    trades, wins, losses : int
        Exited positions; a loss has a negative return (−0.0 included, as the seed).
    win_rate : float
        wins / trades.
    trades_per_day : float
        trades / (last exit − first entry, in days; at least one second).
    total_return, mean_return, std_dev_return : float
        Σ, mean and population std of the returns; ``loss_mean_return`` the mean of the losing
        ones; ``biggest_win`` / ``biggest_loss`` the largest and smallest return.
    total_pnl, expectancy, avg_win, avg_loss : float
        Σ realised PnL, its mean per trade, and the mean of winning / losing trades' PnL (≤ 0).
    profit_factor : float
        Σ winning PnL / |Σ losing PnL|; inf with no losses and some profit, 0 with no profit.
    exposure : float
        Time positions were open over the time elapsed from the first to the latest event (with
        several markets: the average number of positions open).
    sharpe_*, sortino_*, calmar_* : float
        Per trade: (mean return − risk_free_return) / (std of returns | downside deviation of
        returns below risk_free_return | |max drawdown|), 0 when the denominator is 0.
        Daily = per trade × √trades_per_day; annual = daily × √trading_days_per_year.
    max_drawdown, avg_drawdown, current_drawdown : float
        The seed's drawdowns: fractions ≤ 0 of the balance total at each exit below its running
        peak (starting at ``starting_equity``); a drawdown still open is included.
    *_days : int
        Whole days (truncated), as the seed's table.
    equity : EquitySummary
        The equity curve marked to market at every event time.
    """

    id: str
    trades: int
    wins: int
    losses: int
    win_rate: float
    trading_days: int
    trades_per_day: float
    total_return: float
    mean_return: float
    std_dev_return: float
    loss_mean_return: float
    biggest_win: float
    biggest_loss: float
    total_pnl: float
    expectancy: float
    avg_win: float
    avg_loss: float
    profit_factor: float
    exposure: float
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
    equity: EquitySummary

    @classmethod
    def from_state(cls, id: str, state: dict[str, Any], config: StatisticConfig) -> TradingSummary:
        """Derive every figure from a ``PortfolioCore`` statistics state."""
        t = state["trades"]
        total, losses, pnl = t["returns"], t["losses"], t["pnl"]
        n, n_loss = total["count"], losses["count"]
        period_ns = t["end_ns"] - t["start_ns"] if n else 0
        span_ns = state["last_ns"] - state["first_ns"]
        trades_per_day = n * _DAY_NS / max(period_ns, _MIN_PERIOD_NS) if n else 0.0
        excess = total["mean"] - config.risk_free_return if n else 0.0
        per_trade = (_ratio(excess, _std(total)), _ratio(excess, _downside(t["downside"])),
                     _ratio(excess, abs(t["seed_max_drawdown"])))
        daily = [r * math.sqrt(trades_per_day) for r in per_trade]
        annual = [r * math.sqrt(config.trading_days_per_year) for r in daily]
        gross_profit, gross_loss = t["gross_profit"], t["gross_loss"]
        profit_factor = gross_profit / -gross_loss if gross_loss else (math.inf if gross_profit > 0 else 0.0)
        return cls(
            id=id, trades=n, wins=n - n_loss, losses=n_loss, win_rate=_div(n - n_loss, n),
            trading_days=period_ns // _DAY_NS, trades_per_day=trades_per_day,
            total_return=total["sum"], mean_return=total["mean"], std_dev_return=_std(total),
            loss_mean_return=losses["mean"], biggest_win=total["high"], biggest_loss=total["low"],
            total_pnl=pnl["sum"], expectancy=pnl["mean"], avg_win=_div(gross_profit, n - n_loss),
            avg_loss=_div(gross_loss, n_loss), profit_factor=profit_factor,
            exposure=_div(t["holding_ns"] + state["open_holding_ns"], span_ns),
            sharpe_per_trade=per_trade[0], sortino_per_trade=per_trade[1], calmar_per_trade=per_trade[2],
            sharpe_daily=daily[0], sortino_daily=daily[1], calmar_daily=daily[2],
            sharpe_annual=annual[0], sortino_annual=annual[1], calmar_annual=annual[2],
            max_drawdown=t["seed_max_drawdown"],
            max_drawdown_days=t["seed_max_drawdown_duration_ns"] // _DAY_NS,
            avg_drawdown=t["seed_avg_drawdown"],
            avg_drawdown_days=int(t["seed_avg_drawdown_duration_ns"] // _DAY_NS),
            current_drawdown=t["seed_current_drawdown"],
            equity=EquitySummary.from_state(state["equity"], span_ns, config),
        )

    def to_dict(self) -> dict[str, Any]:
        """Flat dict; equity-curve figures are prefixed ``equity_``."""
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "equity"}
        d.update({f"equity_{k}": v for k, v in asdict(self.equity).items()})
        return d


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

        return pd.DataFrame([r.to_dict() for r in self.rows]).set_index("id")

    def __str__(self) -> str:
        header = [""] + [title for title, _ in COLUMNS]
        body = [[row.id] + [_cell(getattr(row, attr)) for _, attr in COLUMNS] for row in self.rows]
        widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
        rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
        line = lambda cells: "| " + " | ".join(c.rjust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
        return "\n".join([rule, line(header), rule, *(line(r) for r in body), rule])

    def _repr_html_(self) -> str:
        from barter.results.html import summary_html

        return summary_html(self)

    def __repr__(self) -> str:
        return f"SummaryTable({[r.id for r in self.rows]})"
