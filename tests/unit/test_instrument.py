"""``Market`` keeps the behaviour of a frozen dataclass while its hash is computed once."""
from __future__ import annotations

import copy
import dataclasses
import pickle
import subprocess
import sys

import pytest

from barter.instrument import Exchange, Instrument, InstrumentKind, Market


def test_market_hash_equality_and_dataclass_helpers():
    market = Market("binance", ("BTC", "usdt", "spot"))
    same = Market(Exchange("Binance"), Instrument("btc", "usdt", InstrumentKind.SPOT))  # ids are lower case
    other = Market("binance", ("eth", "usdt"))
    assert market == same and hash(market) == hash(same) == hash((market.exchange, market.instrument))
    assert market != other and len({market, same, other}) == 2
    assert same.market_id == market.market_id == "binance_btc_usdt_spot" and str(same.exchange) == "binance"
    assert [f.name for f in dataclasses.fields(market)] == ["exchange", "instrument"]
    assert dataclasses.asdict(market) == {"exchange": {"name": "binance"},
                                          "instrument": {"base": "btc", "quote": "usdt", "kind": InstrumentKind.SPOT}}
    changed = dataclasses.replace(market, instrument=other.instrument)
    assert changed == other and hash(changed) == hash(other)
    with pytest.raises(dataclasses.FrozenInstanceError):
        market.exchange = other.exchange  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        market._hash = 0  # type: ignore[attr-defined]


def test_market_copies_and_pickles_with_the_hash_of_the_process_that_loads_it():
    market = Market("okx", ("btc", "usdt", InstrumentKind.PERPETUAL))
    for twin in (copy.copy(market), copy.deepcopy(market), pickle.loads(pickle.dumps(market))):
        assert twin == market and hash(twin) == hash(market)
    # another process (another str hash seed) loads it with its own hash, so dict lookups still work
    code = ("import pickle, sys; from barter.instrument import Market; m = pickle.loads(sys.stdin.buffer.read()); "
            "assert hash(m) == hash((m.exchange, m.instrument)) and {m: 1}[Market('okx', ('btc', 'usdt', 'perpetual'))]")
    subprocess.run([sys.executable, "-c", code], input=pickle.dumps(market), check=True)
