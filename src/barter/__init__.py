"""barter: event-driven backtesting and live trading on a compiled core.

A Python re-creation of the barter-rs ecosystem. Strategies are plain Python; the per-event loop,
position accounting and statistics run compiled.
"""
from barter.backtest import BacktestResult, backtest
from barter.engine import Engine, Trader
from barter.errors import BarterError, ConfigError, DataError, StrategyError, UnknownMarket
from barter.instrument import Exchange, Instrument, InstrumentKind, Market, Side

__version__ = "0.1.0"

__all__ = [
    "BacktestResult", "BarterError", "ConfigError", "DataError", "Engine", "Exchange", "Instrument",
    "InstrumentKind", "Market", "Side", "StrategyError", "Trader", "UnknownMarket", "backtest",
]
