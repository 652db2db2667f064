"""Events to and from JSON-ready values: dataclasses and enums are tagged by class name.

Floats are written with ``repr`` precision by ``json``, so a decoded event equals the original
exactly; this is what lets a replay of a recorded stream reproduce a run.
"""
from __future__ import annotations

import dataclasses
import json
from enum import IntEnum
from typing import Any

from barter.data.event import Candle, MarketEvent, Trade
from barter.data.exchange.books import BookState, BookStatusEvent
from barter.data.exchange.events import OrderBookL1
from barter.decision import Decision
from barter.engine import events
from barter.errors import DataError
from barter.execution.events import Fees, FillEvent, OrderEvent, OrderType
from barter.instrument import Exchange, Instrument, InstrumentKind, Market, Side
from barter.portfolio.position import Balance, Position
from barter.statistic.summary import StatisticConfig
from barter.strategy.base import SignalForceExit

_TYPES: dict[str, type] = {cls.__name__: cls for cls in (
    Candle, Trade, MarketEvent, Fees, FillEvent, OrderEvent, Exchange, Instrument, Market, Balance, Position,
    StatisticConfig, SignalForceExit, events.SessionStart, events.SignalEvent, events.PositionUpdate,
    events.PositionNew, events.PositionExit, events.BalanceUpdate, events.CommandReply,
    events.EngineError, events.OrderVetoed, events.OrderResult, OrderBookL1, BookStatusEvent)}
_ENUMS: dict[str, type[IntEnum]] = {cls.__name__: cls for cls in (Decision, OrderType, InstrumentKind, Side,
                                                                   BookState)}


def encode(value: Any) -> Any:
    """A JSON-ready form of an event (or any value inside one)."""
    if isinstance(value, IntEnum):
        return {"enum": type(value).__name__, "value": int(value)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"type": type(value).__name__,
                **{f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, dict):
        return {"map": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    """The inverse of ``encode``."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "enum" in value:
        return _ENUMS[value["enum"]](value["value"])
    if "map" in value:
        return {decode(k): decode(v) for k, v in value["map"]}
    if "tuple" in value:
        return tuple(decode(v) for v in value["tuple"])
    fields = {k: decode(v) for k, v in value.items() if k != "type"}
    try:
        return _TYPES[value["type"]](**fields)
    except KeyError:
        raise DataError(f"unknown event type {value.get('type')!r}") from None


def dumps(event: Any) -> str:
    return json.dumps(encode(event), separators=(",", ":"))


def loads(line: str) -> Any:
    return decode(json.loads(line))
