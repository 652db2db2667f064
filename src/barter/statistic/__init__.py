"""Statistics: the trading summary of exited positions, per market and for the whole portfolio."""
from barter.statistic.summary import StatisticConfig, SummaryTable, TradingSummary

__all__ = ["StatisticConfig", "SummaryTable", "TradingSummary"]
