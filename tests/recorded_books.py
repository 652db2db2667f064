"""The real Binance spot depth recording as L2 events: the REST snapshot placed where it arrived,
then the recorded diffs (the shared data, read in place)."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

from barter.data.event import MarketEvent
from barter.data.exchange import BINANCE_SPOT, BinanceParser, market_from_symbol, parse_depth_snapshot
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
