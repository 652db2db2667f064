"""Record a live stream's normalised events (and optionally its raw frames) to JSON lines or Parquet,
and replay them: as the same events (``read_events``, ``ReplayFeed``, which is also a trader's feed
in ``barter.Engine``) or as the historic arrays a backtest takes (``historical_trades``,
``historical_candles``), so a live session can be backtested on exactly what it saw.

A path ending in ``.parquet`` (or an existing directory) is a Parquet recording: a directory with one
file per kind of event and that kind's fields as columns (``_recorder_parquet``; needs the
``parquet`` extra). Anything else is JSON lines: one JSON object per line, with ``"type"`` naming the event: ``trade``, ``candle``, ``l1``,
``l2_snapshot``, ``l2_update``, ``liquidation`` (market events: ``time_ns`` and ``market`` as
``[exchange, base, quote, kind]``), ``feed_error``, ``book_status`` and ``raw`` (a frame as received).
Floats are written with ``repr`` precision, so a replay gives back equal events.
"""
from __future__ import annotations

from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any, AsyncIterator, Iterable, Iterator, Optional, Union

import numpy as np
import orjson

from barter.data.event import Candle, MarketEvent, Trade
from barter.data.exchange._recorder_parquet import ParquetSink, is_parquet, read_encoded
from barter.data.exchange.books import BookState, BookStatusEvent
from barter.data.exchange.events import (FeedError, Liquidation, OrderBookL1, OrderBookL2Snapshot, OrderBookL2Update,
                                         market_event)
from barter.data.historic import HistoricalCandles, HistoricalTrades
from barter.errors import DataError
from barter.instrument import InstrumentKind, Market, Side

__all__ = ["EventRecorder", "ReplayFeed", "decode_event", "encode_event", "historical_candles", "historical_trades",
           "read_events"]

Recorded = Union[MarketEvent, FeedError, BookStatusEvent]
_KINDS = {Trade: "trade", Candle: "candle", OrderBookL1: "l1", OrderBookL2Snapshot: "l2_snapshot",
          OrderBookL2Update: "l2_update", Liquidation: "liquidation"}
_CLASSES = {name: cls for cls, name in _KINDS.items()}


def _market(m: Market) -> list[Any]:
    i = m.instrument
    return [m.exchange.name, i.base, i.quote, i.kind.name.lower()]


def encode_event(event: Recorded) -> dict[str, Any]:
    """``event`` as a JSON-ready dict (see the module docstring)."""
    if isinstance(event, FeedError):
        return {"type": "feed_error", "exchange": event.exchange, "reason": event.reason, "raw": event.raw,
                "received_ns": event.received_ns}
    if isinstance(event, BookStatusEvent):
        return {"type": "book_status", "market": _market(event.market), "state": event.state.name.lower(),
                "reason": event.reason, "time_ns": event.time_ns}
    kind = event.kind
    name = _KINDS.get(type(kind))
    if name is None:
        raise DataError(f"cannot record a market event of kind {type(kind).__name__}")
    fields = {f.name: getattr(kind, f.name) for f in dataclass_fields(kind)}
    if isinstance(kind, (Trade, Liquidation)):
        fields["side"] = None if kind.side is None else int(kind.side)
    return {"type": name, "time_ns": event.exchange_time_ns, "market": _market(event.market), **fields}


def decode_event(d: dict[str, Any]) -> Recorded:
    """The event ``encode_event`` made ``d`` from; raises ``DataError`` naming what is wrong."""
    try:
        kind = d["type"]
        if kind == "feed_error":
            return FeedError(d["exchange"], d["reason"], d["raw"], int(d["received_ns"]))
        market = Market(d["market"][0], (d["market"][1], d["market"][2], InstrumentKind[d["market"][3].upper()]))
        if kind == "book_status":
            return BookStatusEvent(market, BookState[d["state"].upper()], d["reason"], int(d["time_ns"]))
        cls = _CLASSES[kind]
        values = {f.name: d[f.name] for f in dataclass_fields(cls)}
        if cls in (Trade, Liquidation):
            values["side"] = None if values["side"] is None else Side(values["side"])
        for f in ("bids", "asks"):
            if f in values:
                values[f] = tuple((float(p), float(s)) for p, s in values[f])
        if values.get("decimals") is not None:
            values["decimals"] = tuple(values["decimals"])
        return market_event(int(d["time_ns"]), market, cls(**values))
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
        raise DataError(f"recorded event {str(d)[:200]} is not valid: {type(e).__name__}: {e}") from e


class EventRecorder:
    """Append events (and raw frames, with ``raw=True``) to a recording.

    Use as a context manager, or call ``close()`` (a Parquet recording is readable only after it);
    ``record(stream)`` passes a stream's events through while writing them.

    Parameters
    ----------
    path : str or Path
        A JSON-lines file (appended to), or a new Parquet recording when it ends in ``.parquet``.
    raw : bool
        Also keep the frames given to ``write_raw``.
    """

    def __init__(self, path: Union[str, Path], *, raw: bool = False) -> None:
        self.path = Path(path)
        self.raw = raw
        self.written = 0
        self._sink: Any = ParquetSink(self.path) if is_parquet(self.path) else _JsonLinesSink(self.path)

    def __enter__(self) -> EventRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._sink.close()

    def write(self, event: Any) -> None:
        """Write ``event`` if it is a market, error or book-status event (others are skipped)."""
        if isinstance(event, (MarketEvent, FeedError, BookStatusEvent)):
            self._sink.add(encode_event(event))
            self.written += 1

    def write_raw(self, raw: Union[str, bytes], received_ns: int, exchange: str) -> None:
        """Write one frame as received (when recording raw frames)."""
        if self.raw:
            text = raw if isinstance(raw, str) else raw.decode("utf-8", "backslashreplace")
            self._sink.add({"type": "raw", "exchange": exchange, "raw": text, "received_ns": received_ns})

    async def record(self, stream: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for event in stream:
            self.write(event)
            yield event


class _JsonLinesSink:
    def __init__(self, path: Path) -> None:
        self._file = open(path, "ab")

    def add(self, d: dict[str, Any]) -> None:
        self._file.write(orjson.dumps(d) + b"\n")

    def close(self) -> None:
        self._file.close()


def read_events(path: Union[str, Path]) -> Iterator[Recorded]:
    """Every recorded event of ``path`` (JSON lines or Parquet) in order (raw frames skipped)."""
    if is_parquet(path):
        return (decode_event(d) for d in read_encoded(Path(path)))
    return _read_json_lines(path)


def _read_json_lines(path: Union[str, Path]) -> Iterator[Recorded]:
    with open(path, "rb") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                d = orjson.loads(line)
            except orjson.JSONDecodeError as e:
                raise DataError(f"{path}: line {n} is not JSON: {e}") from e
            if d.get("type") != "raw":
                yield decode_event(d)


class ReplayFeed:
    """A recording (JSON lines or Parquet) replayed as an async stream of the same events, with no
    waiting between them; ``markets`` keeps the market events of those markets (and every error and
    book status). As a trader's feed in ``barter.Engine`` give it the trader's market alone.
    """

    def __init__(self, path: Union[str, Path], markets: Optional[Iterable[Market]] = None) -> None:
        self.path = path
        self.markets = None if markets is None else set(markets)

    def __aiter__(self) -> AsyncIterator[Recorded]:
        return self._run()

    async def _run(self) -> AsyncIterator[Recorded]:
        for event in read_events(self.path):
            if self.markets is None or not isinstance(event, MarketEvent) or event.market in self.markets:
                yield event

    async def market_events(self) -> AsyncIterator[MarketEvent]:
        """The market events alone, as ``ExchangeFeed.market_events`` gives a live trader."""
        async for event in self:
            if isinstance(event, MarketEvent):
                yield event


def _of(path: Union[str, Path], market: Market, kind: type) -> list[MarketEvent]:
    return [e for e in read_events(path) if isinstance(e, MarketEvent) and e.market == market
            and isinstance(e.kind, kind)]


def historical_trades(path: Union[str, Path], market: Market) -> HistoricalTrades:
    """The recorded trades of ``market`` as a backtest's trade data."""
    rows = _of(path, market, Trade)
    k: list[Trade] = [e.kind for e in rows]  # type: ignore[misc]
    return HistoricalTrades.from_arrays(np.array([e.exchange_time_ns for e in rows], np.int64),
                                        [t.price for t in k], [t.amount for t in k],
                                        np.array([int(t.side or 0) for t in k], np.int8), source=str(path))


def historical_candles(path: Union[str, Path], market: Market) -> HistoricalCandles:
    """The recorded candles of ``market`` as a backtest's candle data."""
    rows = _of(path, market, Candle)
    k: list[Candle] = [e.kind for e in rows]  # type: ignore[misc]
    return HistoricalCandles.from_arrays(np.array([e.exchange_time_ns for e in rows], np.int64),
                                         [c.open for c in k], [c.high for c in k], [c.low for c in k],
                                         [c.close for c in k], [c.volume for c in k], source=str(path),
                                         time_unit="ns")  # exchange times: ns by construction
