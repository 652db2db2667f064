"""SimulatedExecution takes fee rates: a Fees of fractions of the fill value, each below 1 (an
exchange rebate above -1); anything else is refused when it is built, not during the run."""
from __future__ import annotations

import pytest

from barter.errors import ConfigError
from barter.execution import Fees, SimulatedExecution


@pytest.mark.parametrize("fees, words", [
    (0.001, "fees must be barter.execution.Fees"),
    (Fees(exchange=-1.0), "exchange must be a fraction .* was -1.0"),
    (Fees(exchange=1.0), "exchange must be a fraction"),
    (Fees(slippage=1.5), "slippage must be a fraction"),
])
def test_bad_rates_are_refused(fees, words) -> None:
    with pytest.raises(ConfigError, match=words):
        SimulatedExecution(fees)


def test_a_rebate_and_the_seed_example_rates_are_accepted() -> None:
    assert SimulatedExecution(Fees(exchange=-0.0001)).rates() == (-0.0001, 0.0, 0.0)
    assert SimulatedExecution(Fees(exchange=0.1, slippage=0.05)).rates() == (0.1, 0.05, 0.0)
