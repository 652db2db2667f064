"""Shared by the exchange parsers: field checks that name the bad value, time conversions, and the
``parse`` wrapper that turns any bad frame into a ``FeedError`` instead of raising."""
from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Iterable, Mapping, Union

import orjson

from barter.data.event import MarketEvent
from barter.data.exchange.events import FeedError, Level, raw_text
from barter.errors import ConfigError
from barter.instrument import InstrumentKind, Market

ParsedEvent = Union[MarketEvent, FeedError]

_INF = math.inf
MS = 1_000_000  # ns per ms
S = 1_000_000_000  # ns per s


class Bad(Exception):
    """A field with a wrong value; its message names it."""


def number(value: Any, name: str) -> float:
    """``value`` (a JSON number or numeric string) as a float."""
    if type(value) is bool:
        raise Bad(f"{name} must be a number, was {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise Bad(f"{name} must be a number, was {value!r}"[:200]) from None


def price(value: Any, name: str) -> float:
    x = number(value, name)
    if not 0.0 < x < _INF:
        raise Bad(f"{name} must be a finite price > 0, was {value!r}")
    return x


def size(value: Any, name: str) -> float:
    x = number(value, name)
    if not 0.0 <= x < _INF:
        raise Bad(f"{name} must be a finite size >= 0, was {value!r}")
    return x


def amount(value: Any, name: str) -> float:
    """A trade's size: a trade of nothing (0, or a size that underflows to 0) is bad data."""
    x = number(value, name)
    if not 0.0 < x < _INF:
        raise Bad(f"{name} must be a finite amount > 0, was {value!r}")
    return x


def levels(rows: Any, name: str) -> tuple[Level, ...]:
    """``[[price, size, ...], ...]`` (extra columns ignored) as (price, size) tuples."""
    if type(rows) is not list:
        raise Bad(f"{name} must be a list of [price, size], was {rows!r}"[:200])
    out = []
    for row in rows:
        if type(row) is not list or len(row) < 2:
            raise Bad(f"{name} level must be [price, size, ...], was {row!r}"[:200])
        p, s = row[0], row[1]
        try:  # inline: two calls per value cost more than the conversion (books have many levels)
            level = (float(p), float(s))
            ok = 0.0 < level[0] < _INF and 0.0 <= level[1] < _INF and type(p) is not bool and type(s) is not bool
        except (TypeError, ValueError):
            ok = False
        if not ok:  # raises, naming the bad value
            level = (price(p, name), size(s, name))
        out.append(level)
    return tuple(out)


def ms(value: Any, name: str) -> int:
    """Epoch ms (an int or a digit string) as ns."""
    if type(value) is str and value.isdigit():
        value = int(value)
    if type(value) is not int or value < 0:
        raise Bad(f"{name} must be a non-negative integer (ms), was {value!r}"[:200])
    return value * MS


def seconds(value: Any, name: str) -> int:
    """Epoch seconds (``"1618678132.927716"``, a float or an int) as ns."""
    x = number(value, name)
    if not 0.0 <= x < 1e11:
        raise Bad(f"{name} must be epoch seconds, was {value!r}")
    return int(round(x * 1e6)) * 1000


def iso_ns(value: Any, name: str) -> int:
    """An RFC 3339 UTC time (``2023-10-06T17:35:55.440295Z``, up to ns digits) as epoch ns."""
    if type(value) is not str or not value.endswith("Z") or len(value) < 20:
        raise Bad(f"{name} must be an RFC 3339 UTC time ending in Z, was {value!r}"[:200])
    head, _, frac = value[:-1].partition(".")
    if not frac.isdigit() and frac:
        raise Bad(f"{name} has bad fractional seconds: {value!r}")
    try:
        whole = datetime.fromisoformat(head + "+00:00")
    except ValueError:
        raise Bad(f"{name} must be an RFC 3339 UTC time, was {value!r}"[:200]) from None
    return int(whole.timestamp()) * S + int((frac + "000000000")[:9] or 0)


def integer(data: Mapping[str, Any], key: str) -> int:
    value = data[key]
    if type(value) is not int:
        raise Bad(f"{key} must be an integer, was {value!r}"[:200])
    return value


def decimals(text: Any) -> int:
    """Digits after the point in a decimal string (``"0.05005000"`` -> 8)."""
    if type(text) is not str:
        raise Bad(f"expected a decimal string, was {text!r}"[:200])
    return len(text.partition(".")[2])


def symbol_map(markets: Union[Iterable[Market], Mapping[str, Market]], exchange: str,
               kinds: Iterable[InstrumentKind], symbol_of: Any) -> dict[str, Market]:
    """Exchange symbol -> market, from markets (symbols derived with ``symbol_of``) or an explicit
    mapping (needed where the symbol holds what ``Instrument`` does not, e.g. a future's expiry)."""
    allowed = set(kinds)
    pairs = markets.items() if isinstance(markets, Mapping) else ((symbol_of(m), m) for m in markets)
    out: dict[str, Market] = {}
    for symbol, market in pairs:
        if market.exchange.name != exchange or market.instrument.kind not in allowed:
            raise ConfigError(f"{exchange}: cannot parse frames of {market!r} (need exchange {exchange!r}, "
                              f"kind one of {sorted(str(k) for k in allowed)})")
        out[symbol] = market
    return out


class FrameParser:
    """Base of the exchange parsers: ``parse`` decodes a frame and calls ``_parse``; every failure
    becomes a ``FeedError`` holding the raw text, so a bad frame never stops a stream.

    Attributes
    ----------
    frames, errors, ignored : int
        Frames parsed, reported as ``FeedError``, and skipped on purpose (answers, heartbeats).
    """

    exchange: str
    markets: dict[str, Market]

    def __init__(self, exchange: str, markets: dict[str, Market]) -> None:
        self.exchange = exchange
        self.markets = markets
        self.frames = self.errors = self.ignored = 0

    def parse(self, raw: Union[str, bytes], received_ns: int = 0) -> list[ParsedEvent]:
        """The events in one frame (none for answers, heartbeats and skipped frames)."""
        self.frames += 1
        try:
            msg = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            return self._not_json(raw, received_ns, e)
        try:
            return self._parse(msg, received_ns)
        except Bad as e:
            return [self.error(str(e), raw, received_ns)]
        except KeyError as e:
            return [self.error(f"missing field {e}"[:200], raw, received_ns)]
        except (TypeError, ValueError, AttributeError, IndexError, OverflowError) as e:
            return [self.error(f"bad field: {type(e).__name__}: {e}"[:300], raw, received_ns)]

    def reset(self) -> None:
        """Forget per-connection state (a new connection starts)."""

    def _not_json(self, raw: Union[str, bytes], received_ns: int, e: Exception) -> list[ParsedEvent]:
        return [self.error(f"not JSON: {e}", raw, received_ns)]

    def _parse(self, msg: Any, received_ns: int) -> list[ParsedEvent]:
        raise NotImplementedError

    def skip(self) -> list[ParsedEvent]:
        self.ignored += 1
        return []

    def error(self, reason: str, raw: Union[str, bytes], received_ns: int) -> FeedError:
        self.errors += 1
        return FeedError(self.exchange, reason, raw_text(raw), received_ns)

    def market(self, symbol: Any) -> Market:
        market = self.markets.get(symbol) if type(symbol) is str else None
        if market is None:
            raise Bad(f"unknown symbol {symbol!r}"[:200])
        return market


def obj(value: Any, name: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise Bad(f"{name} must be an object, got {type(value).__name__}")
    return value


def array(value: Any, name: str) -> list[Any]:
    if type(value) is not list:
        raise Bad(f"{name} must be an array, got {type(value).__name__}")
    return value


def json_text(value: Any) -> str:
    return orjson.dumps(value).decode()
