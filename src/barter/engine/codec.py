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


_SCALARS = frozenset((float, int, str, bool, type(None)))
_ENUM, _DATACLASS, _DICT, _TUPLE, _LIST, _OTHER = range(6)
_KINDS: dict[type, int] = {}  # how each type is encoded, found once per type: a stream has few
_NAMES: dict[type, tuple[str, ...]] = {}  # a dataclass's field names


def _kind(cls: type) -> int:
    if issubclass(cls, IntEnum):
        return _ENUM
    if dataclasses.is_dataclass(cls):
        _NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
        return _DATACLASS
    for base, kind in ((dict, _DICT), (tuple, _TUPLE), (list, _LIST)):
        if issubclass(cls, base):
            return kind
    return _OTHER


_MARKETS: dict[Market, dict[str, Any]] = {}


def _fields(value: Any, cls: type) -> dict[str, Any]:
    out = {"type": cls.__name__}
    for name in _NAMES[cls]:
        out[name] = encode(getattr(value, name))
    return out


def encode(value: Any) -> Any:
    """A JSON-ready form of an event (or any value inside one); read it, do not change it: a
    market's form is made once and shared by every event of that market."""
    cls = type(value)
    if cls in _SCALARS:
        return value
    kind = _KINDS.get(cls)
    if kind is None:
        kind = _KINDS[cls] = _kind(cls)
    if cls is Market:  # in every event, and few: encoded once each (json.dumps only reads it)
        out = _MARKETS.get(value)
        if out is None:
            out = _MARKETS[value] = _fields(value, cls)
        return out
    if kind == _DATACLASS:
        return _fields(value, cls)
    if kind == _ENUM:
        return {"enum": cls.__name__, "value": int(value)}
    if kind == _DICT:
        return {"map": [[encode(k), encode(v)] for k, v in value.items()]}
    if kind == _TUPLE:
        return {"tuple": [encode(v) for v in value]}
    if kind == _LIST:
        return [encode(v) for v in value]
    return value


_DECODED: dict[tuple[Any, ...], Market] = {}


def _market_key(value: dict[str, Any]) -> tuple[Any, ...]:
    """An encoded market's names and kind (KeyError or TypeError when it is not shaped so)."""
    instrument = value["instrument"]
    return value["exchange"]["name"], instrument["base"], instrument["quote"], instrument["kind"]["value"]


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
    if value.get("type") == "Market":  # in every event, and few: decoded once each
        try:
            key = _market_key(value)
            market = _DECODED.get(key)
        except (KeyError, TypeError):
            raise DataError(f"a market must have exchange and instrument, was {value!r}") from None
        if market is None:
            market = _DECODED[key] = Market(decode(value["exchange"]), decode(value["instrument"]))
        return market
    fields = {k: decode(v) for k, v in value.items() if k != "type"}
    try:
        return _TYPES[value["type"]](**fields)
    except KeyError:
        raise DataError(f"unknown event type {value.get('type')!r}") from None


def dumps(event: Any) -> str:
    return json.dumps(encode(event), separators=(",", ":"))


def loads(line: str) -> Any:
    return decode(json.loads(line))
