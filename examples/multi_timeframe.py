"""A multi-timeframe strategy: trade 1-minute EMA crosses only when the hourly RSI agrees.

The hourly candles are built from the minutes inside the compiled ``CandleAggregator``; an hour is
seen only once it is complete (when the first minute of the next hour arrives), so nothing looks
ahead. Run: ``python examples/multi_timeframe.py``
"""
import barter
from barter.data import CandleAggregator, default_candles, interval_ns
from barter.strategy import EMA, RSI, Signal, Strategy


class HourlyFilteredCross(Strategy):
    LONG, EXIT = Signal.long(), Signal.close_long()

    def __init__(self) -> None:
        self.fast, self.slow = EMA(12), EMA(26)
        self.hours = CandleAggregator(interval_ns("1h"))
        self.hourly_rsi, self.rsi = RSI(14), 50.0

    def generate_signal(self, market):
        if self.hours.update_view(market):           # an hour just completed
            self.rsi = self.hourly_rsi.update(self.hours.close)
        fast, slow = self.fast.update(market.close), self.slow.update(market.close)
        if fast > slow and self.rsi < 50.0:          # minutes turn up while the hour is weak
            return self.LONG
        if fast < slow:
            return self.EXIT
        return None


if __name__ == "__main__":
    result = barter.backtest(default_candles(50_000), HourlyFilteredCross())
    print(result.summary)
