"""RSIStrategy's period: an integer, or a clear error (not a silently truncated RSI)."""
from __future__ import annotations

import numpy as np
import pytest

from barter.strategy import RSIStrategy


@pytest.mark.parametrize("period", [14.5, 14.0, True, "14", None])
def test_a_non_integer_period_is_refused(period) -> None:
    with pytest.raises(TypeError, match="rsi_period must be an integer"):
        RSIStrategy(period)


@pytest.mark.parametrize("period", [14, np.int64(7)])
def test_integer_periods(period) -> None:
    s = RSIStrategy(period)
    assert s.rsi_period == int(period) and type(s.rsi_period) is int
