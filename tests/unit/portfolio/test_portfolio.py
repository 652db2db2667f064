"""Portfolio construction: allocator and risk objects are checked when given, not deep in a run."""
from __future__ import annotations

import pytest

from barter.errors import ConfigError
from barter.portfolio import DefaultAllocator, DefaultRisk, Portfolio


@pytest.mark.parametrize("kwargs, words", [
    ({"allocator": "x"}, "allocator needs an allocate_order"),
    ({"allocator": DefaultRisk()}, "allocator needs an allocate_order"),
    ({"risk": "x"}, "risk needs an evaluate_order"),
    ({"risk": DefaultAllocator()}, "risk needs an evaluate_order"),
])
def test_an_allocator_or_risk_without_its_method_is_refused_at_construction(kwargs, words) -> None:
    with pytest.raises(ConfigError, match=words):
        Portfolio(**kwargs)


def test_duck_typed_allocator_and_risk_are_accepted() -> None:
    class Allocator:
        def allocate_order(self, order, position, strength):
            return order

    class Risk:
        def evaluate_order(self, order):
            return order

    Portfolio(allocator=Allocator(), risk=Risk())
