"""The seed's example strategy."""
from __future__ import annotations

from typing import Optional

import numpy as np

from barter._core.dispatch import MarketView, Signal
from barter._core.indicators import RSI
from barter.data.event import CANDLE
from barter.strategy.base import Strategy
from barter.decision import Decision

_OVERSOLD = Signal({Decision.LONG: 1.0, Decision.CLOSE_SHORT: 1.0})
_OVERBOUGHT = Signal({Decision.CLOSE_LONG: 1.0, Decision.SHORT: 1.0})


class RSIStrategy(Strategy):
    """The seed's RSIStrategy: the seed's RSI of candle closes (``barter.strategy.RSI``).

    RSI < 40 advises {Long, CloseShort}; RSI > 60 advises {CloseLong, Short}; strength 1.0; other
    event kinds give no signal. With no position that enters long or short; with one open it closes.
    """

    def __init__(self, rsi_period: int = 14) -> None:
        # RSI() would truncate 14.5 to 14 (and take True as 1) while rsi_period kept the bad value
        if isinstance(rsi_period, bool) or not isinstance(rsi_period, (int, np.integer)):
            raise TypeError(f"rsi_period must be an integer >= 1, was {rsi_period!r}")
        self.rsi_period = int(rsi_period)
        self.rsi = RSI(rsi_period)

    def generate_signal(self, market: MarketView) -> Optional[Signal]:
        if market.kind != CANDLE:
            return None
        value = self.rsi.update(market.close)
        if value < 40.0:
            return _OVERSOLD
        if value > 60.0:
            return _OVERBOUGHT
        return None
