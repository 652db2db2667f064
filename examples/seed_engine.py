"""The seed's engine example one for one: an engine id, traders per market sharing a portfolio,
commands over the engine, every event streamed to a listener, the session summary at the end.

barter-rs 0.8 wired this with builders and channels (``command_tx``, ``event_rx``); here they are
keyword arguments, ``engine.send(...)`` and listeners. Run: ``python examples/seed_engine.py``
"""
import uuid

from barter import Engine, InstrumentKind, Market, Trader
from barter.data import default_candles
from barter.engine.commands import FetchOpenPositions
from barter.engine.events import BalanceUpdate, FillEvent, PositionExit, PositionNew
from barter.execution import Fees, SimulatedExecution
from barter.portfolio import DefaultAllocator, DefaultRisk, Portfolio
from barter.statistic import StatisticConfig
from barter.strategy import RSIStrategy

ENGINE_ID = str(uuid.uuid4())
markets = [Market("binance", ("btc", "usdt", InstrumentKind.SPOT)),
           Market("binance", ("eth", "usdt", InstrumentKind.SPOT))]

portfolio = Portfolio(
    engine_id=ENGINE_ID,
    starting_cash=10_000.0,
    allocator=DefaultAllocator(default_order_value=100.0),
    risk=DefaultRisk(),
    statistic_config=StatisticConfig(starting_equity=10_000.0, trading_days_per_year=365, risk_free_return=0.0),
)
traders = [
    Trader(market, data=default_candles(2_000, seed=7 + i), strategy=RSIStrategy(rsi_period=14),
           execution=SimulatedExecution(Fees(exchange=0.001, slippage=0.0005, network=0.0)))
    for i, market in enumerate(markets)
]


def event_listener(event):
    """The seed's example printed every event; this prints the ones that move money."""
    if isinstance(event, (FillEvent, PositionNew, PositionExit, BalanceUpdate)) and event.time_ns < traders[0].data.time_ns[30]:
        print(type(event).__name__, event.market, getattr(event, "balance", ""))


engine = Engine(traders=traders, portfolio=portfolio, listeners=[event_listener])
fetch = FetchOpenPositions()
engine.send(fetch)  # answered before the first market event
engine.run()
print(f"open positions at the start: {fetch.reply.result()}")
print(engine.summary())
