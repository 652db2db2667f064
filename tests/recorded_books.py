"""The real Binance spot depth recording as L2 events: the REST snapshot placed where it arrived,
then the recorded diffs (the shared data, read in place)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlparse

from barter.data.event import MarketEvent
from barter.data.exchange import (BINANCE_FUTURES_USD, BINANCE_SPOT, BinanceParser, market_from_symbol,
                                  parse_depth_snapshot)
from barter.data.exchange.events import OrderBookL2Update
from barter.data.exchange.recording import read_cryptofeed, ws_frames
from barter.instrument import Market


def binance_l2_feed(data_dir: Path) -> tuple[Market, list[MarketEvent]]:
    """One symbol's recorded depth diffs with its REST snapshot placed where it arrived (times kept
    non-decreasing: the snapshot carries the time of the diff before it)."""
    root = data_dir / "exchange_messages" / "binance" / "cryptofeed"
    snapshots = [r for r in read_cryptofeed(root / "BINANCE.http.0.0") if r.kind == "http"]
    snap = snapshots[0]
    market = market_from_symbol(parse_qs(urlparse(snap.url).query)["symbol"][0], BINANCE_SPOT)
    parser = BinanceParser([market], BINANCE_SPOT)
    timeline = [(snap.time_s, 0, snap)] + [(f.time_s, 1, f) for f in ws_frames(root / "BINANCE.ws.1.0")]
    events, last = [], 0
    for _, is_frame, record in sorted(timeline, key=lambda t: (t[0], t[1])):
        if not is_frame:
            events.append(MarketEvent(last, market, parse_depth_snapshot(record.payload)))
            continue
        for e in parser.parse(record.payload, record.received_ns):
            if isinstance(e, MarketEvent) and e.market == market and isinstance(e.kind, OrderBookL2Update):
                events.append(e)
                last = e.exchange_time_ns
    return market, events


def binance_futures_l2_session(data_dir: Path, symbol: str = "SUSHIUSDT",
                               snapshot_ns: Callable[[Any], int] = lambda r: int(r.time_s * 1e9)
                               ) -> tuple[Market, list[MarketEvent]]:
    """One USD-M futures symbol's recorded depth diffs (stamped with the exchange's ``T``) and its
    REST snapshot, in the order they arrived, the snapshot stamped ``snapshot_ns(record)``: by
    default its local receive time, as a live session stamped it before it used the response's."""
    root = data_dir / "exchange_messages" / "binance_futures" / "cryptofeed"
    snap = next(r for r in read_cryptofeed(root / "BINANCE_FUTURES.http.0.0")
                if r.kind == "http" and f"symbol={symbol}&" in r.url)
    market = market_from_symbol(symbol, BINANCE_FUTURES_USD)
    parser = BinanceParser([market], BINANCE_FUTURES_USD)
    timeline = [(snap.time_s, 0, snap)] + [(f.time_s, 1, f) for f in ws_frames(root / "BINANCE_FUTURES.ws.1.0")
                                           if f"{symbol.lower()}@depth" in f.payload]
    events = []
    for _, is_frame, record in sorted(timeline, key=lambda t: (t[0], t[1])):
        if not is_frame:
            events.append(MarketEvent(snapshot_ns(record), market, parse_depth_snapshot(record.payload)))
            continue
        events += [e for e in parser.parse(record.payload, record.received_ns) if isinstance(e, MarketEvent)]
    return market, events
