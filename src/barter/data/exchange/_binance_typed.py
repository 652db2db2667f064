"""Typed decoding of Binance's hot combined-stream frames (trades, depth diffs, book tickers) with
msgspec structs: prices and sizes are decoded from their strings straight to floats and checked
by the decoder, with no intermediate dict.

Each decoder reads only ``data``; the stream name merely chooses which one to try. A frame that
does not fit its struct exactly (a missing, extra-typed or out-of-range field, or not JSON at all)
raises ``msgspec.DecodeError``; the parser then takes its generic path, which names the bad field
in a ``FeedError``. So this path either gives the same events as the generic one or none.

msgspec decodes in lax mode (``strict=False``), the only mode that turns ``"0.35"`` into a float.
The structs are not tracked by the garbage collector (``gc=False``): they hold only strings,
numbers and tuples of floats, so they cannot be part of a reference cycle.

Lax mode also accepts a numeric string for an integer field and ``0``/``1``/``"true"`` for a bool; Binance
sends neither, and the values are unambiguous, so such a frame parses here where the generic path
would report it.
"""
from __future__ import annotations

import sys
from typing import Annotated, Literal

import msgspec

__all__ = ["BOOK_TICKER", "DEPTH", "TRADE", "NONE"]

_MAX = sys.float_info.max  # msgspec rejects an infinite bound; ``<= max`` excludes inf
Price = Annotated[float, msgspec.Meta(gt=0.0, le=_MAX)]  # quote per base unit, finite > 0
Size = Annotated[float, msgspec.Meta(ge=0.0, le=_MAX)]  # base units, finite >= 0
Amount = Annotated[float, msgspec.Meta(gt=0.0, le=_MAX)]  # a trade's base units: finite > 0
Id = Annotated[int, msgspec.Meta(ge=0)]  # update ids and epoch ms
NONE = -1  # an absent optional id or time (never a valid value: ids are >= 0)


class Trade(msgspec.Struct, gc=False):
    """``trade`` / ``aggTrade`` (``X`` on futures only)."""

    e: Literal["trade", "aggTrade"]
    s: str
    p: Price
    q: Amount
    T: Id
    m: bool
    X: str = "MARKET"


class Depth(msgspec.Struct, gc=False):
    """``depthUpdate`` (``T`` and ``pu`` on futures only)."""

    e: Literal["depthUpdate"]
    s: str
    U: Id
    u: Id
    b: tuple[tuple[Price, Size], ...]
    a: tuple[tuple[Price, Size], ...]
    E: Id = NONE
    T: Id = NONE
    pu: Id = NONE


class BookTicker(msgspec.Struct, gc=False):
    """``bookTicker``: spot sends no ``e``, ``E`` or ``T``."""

    s: str
    u: Id
    b: Price
    B: Size
    a: Price
    A: Size
    e: Literal["bookTicker"] = "bookTicker"
    E: Id = NONE
    T: Id = NONE


class _TradeFrame(msgspec.Struct, gc=False):
    data: Trade


class _DepthFrame(msgspec.Struct, gc=False):
    data: Depth


class _BookTickerFrame(msgspec.Struct, gc=False):
    data: BookTicker


TRADE = msgspec.json.Decoder(_TradeFrame, strict=False)
DEPTH = msgspec.json.Decoder(_DepthFrame, strict=False)
BOOK_TICKER = msgspec.json.Decoder(_BookTickerFrame, strict=False)
