"""The seed's ``engine_with_historic_candles`` example, literally, in Python.

barter-rs 0.8 ran this on four hourly BTC/USDT candles (closes 1050, 1060, 1200, 1300) with
``Fees { exchange: 0.1, slippage: 0.05, network: 0.0 }`` which its code reads as fractions: 10% and
5% of each fill's value. Only the closes drive the seed's RSI strategy and its fills; the other
candle fields here are illustrative. Expected: RSI 50.0, 94.25, 99.62, 99.79; the second candle
enters a Short of 0.0943 BTC (value 99.958, fees 9.9958 + 4.9979); no exit, so 0 trades.

Run: ``python examples/seed_example.py``
"""
import numpy as np

from barter import Engine, InstrumentKind, Market, Trader
from barter.data import HistoricalCandles
from barter.execution import Fees, SimulatedExecution
from barter.portfolio import DefaultAllocator, DefaultRisk, Portfolio
from barter.statistic import StatisticConfig
from barter.strategy import RSIStrategy

HOUR_NS = 3600 * 10**9
CLOSE_TIME_NS = np.datetime64("2022-04-05T21:00:00", "ns").astype(np.int64)  # first candle's close time
closes = np.array([1050.0, 1060.0, 1200.0, 1300.0])
opens = np.array([1000.0, 1050.0, 1060.0, 1200.0])
candles = HistoricalCandles.from_arrays(
    time_ns=CLOSE_TIME_NS + HOUR_NS * np.arange(4),
    open=opens, high=np.maximum(opens, closes) + 10.0, low=np.minimum(opens, closes) - 10.0,
    close=closes, volume=np.array([1000.0, 1000.0, 1000.0, 1000.0]),
)

market = Market("binance", ("btc", "usdt", InstrumentKind.SPOT))
portfolio = Portfolio(
    starting_cash=10_000.0,
    allocator=DefaultAllocator(default_order_value=100.0),
    risk=DefaultRisk(),
    statistic_config=StatisticConfig(starting_equity=10_000.0, trading_days_per_year=365, risk_free_return=0.0),
)
trader = Trader(
    market,
    data=candles,
    strategy=RSIStrategy(rsi_period=14),
    execution=SimulatedExecution(Fees(exchange=0.1, slippage=0.05, network=0.0)),
)
engine = Engine(traders=[trader], portfolio=portfolio)
engine.run()

for position in portfolio.open_positions():
    print(position)
print(portfolio.balance)
print(engine.summary())
