"""Exchange feed throughput: frames parsed and normalised per second per exchange and path (issue 8).

Input: the real recorded WebSocket messages (../shared/data/exchange_messages, README section 1),
read before timing; each case cycles its frames up to ``--n`` frames. Cases:

  orjson-only        ``orjson.loads`` of the Binance trade frames alone: the machine's baseline
  orjson-depth       ``orjson.loads`` of the Binance depth frames alone
  trades             aggTrade frames -> ``MarketEvent(Trade)`` (``BinanceParser.parse``, typed path)
  l1                 bookTicker frames -> ``MarketEvent(OrderBookL1)``
  depth-parse        depth@100ms frames -> ``MarketEvent(OrderBookL2Update)``
  depth-book         the same, then applied to a ``SequencedBook`` (``delta(event.kind)``); each pass
                     loads the REST snapshots into fresh books first (inside the timing)
  depth-manager      the same through ``BookManager.process`` (what ``barter.data.streams`` runs)
  okx-books          an OKX recording through its parser and a ``BookManager`` (CRC32 per update)
  kraken-books       the same for Kraken
  cryptofeed-trades  cryptofeed's own ``Binance.message_handler`` on the same aggTrade frames
  cryptofeed-depth   cryptofeed's handler on the same depth frames, with its book (its REST snapshot
                     request answered from the recording, before timing)

cryptofeed is imported from the environment, or from ``--cryptofeed-path`` (a ``pip install
--target`` directory, appended to ``sys.path`` so barter's own dependencies win); where it cannot be
imported its cases print the reason instead of a figure.

Each case: one warm-up pass, then ``--repeat`` timed runs with ``perf_counter_ns``; the best counts.
Targets per core (issue 8): >= 700,000 trades/s and >= 300,000 depth updates/s applied to the book,
measured where ``orjson-only`` gives ~1.3M/s; on a slower or busier machine compare the ratios to
``orjson-only``. Peak RSS is the process's (``ru_maxrss``), so it only grows from case to case.

Usage: python benchmarks/bench_feeds.py [--n 200000] [--repeat 5] [--data ../shared/data]
                                        [--cryptofeed-path DIR]
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlparse

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from barter.data.book import SequencedBook  # noqa: E402
from barter.data.exchange import (BINANCE_FUTURES_USD, BINANCE_SPOT, BinanceParser, market_from_symbol,  # noqa: E402
                                  parse_depth_snapshot)
from barter.data.exchange.events import market_event  # noqa: E402
from barter.data.exchange.recording import read_cryptofeed  # noqa: E402

RECORDINGS = {
    "spot": (BINANCE_SPOT, "binance/cryptofeed/BINANCE.ws.1.0", "binance/cryptofeed/BINANCE.http.0.0"),
    "futures": (BINANCE_FUTURES_USD, "binance_futures/cryptofeed/BINANCE_FUTURES.ws.1.0",
                "binance_futures/cryptofeed/BINANCE_FUTURES.http.0.0"),
}
TARGETS = {"trades": 700_000, "depth-book": 300_000, "depth-manager": 300_000}



def load(data: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"trades": [], "l1": [], "depth": [], "parsers": {}, "books": [], "data": data}
    for name, (venue, ws, http) in RECORDINGS.items():
        records = list(read_cryptofeed(data / "exchange_messages" / ws))
        streams = parse_qs(urlparse(str(next(r for r in records if r.kind == "open").url)).query)["streams"][0]
        markets = {market_from_symbol(s.split("@")[0], venue) for s in streams.split("/")}
        parser = BinanceParser(markets, venue)
        frames = [(r.payload, r.received_ns) for r in records if r.kind == "ws"]
        by_channel: dict[str, list[tuple[Any, int]]] = {}
        for f in frames:
            by_channel.setdefault(orjson.loads(f[0])["stream"].split("@", 1)[1], []).append(f)
        out["trades"] += [(parser, *f) for f in by_channel["aggTrade"]]
        out["l1"] += [(parser, *f) for f in by_channel["bookTicker"]]
        out["depth"] += [(parser, *f) for f in by_channel["depth@100ms"]]
        bodies = {parse_qs(urlparse(str(r.url)).query)["symbol"][0]: r
                  for r in read_cryptofeed(data / "exchange_messages" / http) if r.kind == "http"}
        out.setdefault("snapshot_bodies", {})[venue.rules] = bodies
        snaps = {symbol: parse_depth_snapshot(r.payload).to_snapshot() for symbol, r in bodies.items()}
        out["books"].append((venue.rules, parser, snaps, by_channel["depth@100ms"]))
    return out


def cycle(items: list[Any], n: int) -> list[Any]:
    return (items * (n // len(items) + 1))[:n]


def case_orjson(key: str) -> Callable[[dict[str, Any], int], tuple[Callable[[], int], int]]:
    def make(w: dict[str, Any], n: int) -> tuple[Callable[[], int], int]:
        raws = [raw for _, raw, _ in cycle(w[key], n)]
        loads = orjson.loads

        def run() -> int:
            for raw in raws:
                loads(raw)
            return len(raws)
        return run, len(raws)
    return make


def case_parse(key: str) -> Callable[[dict[str, Any], int], tuple[Callable[[], int], int]]:
    def make(w: dict[str, Any], n: int) -> tuple[Callable[[], int], int]:
        items = cycle(w[key], n)

        def run() -> int:
            events = 0
            for parser, raw, ns in items:
                events += len(parser.parse(raw, ns))
            return events
        return run, len(items)
    return make


def case_depth_manager(w: dict[str, Any], n: int) -> tuple[Callable[[], int], int]:
    from barter.data.exchange.books import BookManager

    total = sum(len(frames) for *_, frames in w["books"])
    passes = max(1, n // total)

    snaps = {rules: {sym: parse_depth_snapshot(r.payload) for sym, r in bodies.items()}
             for rules, bodies in w["snapshot_bodies"].items()}

    def run() -> int:
        for _ in range(passes):
            for rules, parser, _, frames in w["books"]:
                manager = BookManager()
                for symbol, snap in snaps[rules].items():
                    market = parser.markets[symbol]
                    manager.add(market)
                    manager.process(market_event(0, market, snap))
                process = manager.process
                for raw, ns in frames:
                    for event in parser.parse(raw, ns):
                        process(event)
        return passes * total
    return run, passes * total


def case_depth_book(w: dict[str, Any], n: int) -> tuple[Callable[[], int], int]:
    total = sum(len(frames) for *_, frames in w["books"])
    passes = max(1, n // total)

    def run() -> int:
        applied = 0
        for _ in range(passes):
            for rules, parser, snaps, frames in w["books"]:
                books = {}
                for symbol, snap in snaps.items():
                    book = books[parser.markets[symbol]] = SequencedBook(rules, name=symbol)
                    book.snapshot(snap)
                for raw, ns in frames:
                    for event in parser.parse(raw, ns):
                        books[event.market].delta(event.kind)
                        applied += 1
        return applied
    return run, passes * total


def case_stream_books(rel: str, markets: Callable[[], Any], make_parser: Callable[[Any], Any]
                      ) -> Callable[[dict[str, Any], int], tuple[Callable[[], int], int]]:
    """A recording through its parser and a ``BookManager`` (sequence rules and checksums), a fresh
    manager per pass; frames/s counts every frame (books, trades, tickers, answers)."""
    def make(w: dict[str, Any], n: int) -> tuple[Callable[[], int], int]:
        from barter.data.exchange.books import BookManager
        from barter.data.exchange.recording import ws_frames

        frames = [(r.payload, r.received_ns) for r in ws_frames(w["data"] / "exchange_messages" / rel)]
        passes = max(1, n // len(frames))

        def run() -> int:
            for _ in range(passes):
                parser, manager = make_parser(markets()), BookManager()
                for m in markets():
                    manager.add(m)
                for raw, ns in frames:
                    for event in parser.parse(raw, ns):
                        manager.process(event)
            return passes * len(frames)
        return run, passes * len(frames)
    return make


def _okx() -> Any:
    from barter.data.exchange.okx import okx_market
    return [okx_market(i) for i in ("BTC-USD-220527", "UNI-USD-SWAP", "BTC-USDT")]


def _kraken() -> Any:
    from barter.data.exchange.kraken import kraken_market
    return [kraken_market(p) for p in ("WAVES/EUR", "XMR/USD", "KSM/XBT", "GRT/ETH", "SC/EUR", "ETH/CHF", "OCEAN/XBT",
                                       "OMG/USD", "XBT/CHF", "ADA/XBT")]


def _okx_parser(markets: Any) -> Any:
    from barter.data.exchange.okx import OkxParser
    return OkxParser({"BTC-USD-220527": markets[0], "UNI-USD-SWAP": markets[1], "BTC-USDT": markets[2]})


def _kraken_parser(markets: Any) -> Any:
    from barter.data.exchange.kraken import KrakenParser
    return KrakenParser(markets)


def _cryptofeed_feeds(w: dict[str, Any]) -> dict[str, Any]:
    """cryptofeed's Binance spot and futures feeds, offline: symbols given, REST snapshots answered
    from the recording, callbacks that count."""
    from cryptofeed.defines import L2_BOOK, TRADES
    from cryptofeed.exchanges import Binance, BinanceFutures
    from cryptofeed.symbols import Symbols

    logging.getLogger("feedhandler").setLevel(logging.ERROR)  # no per-message warnings in the timing
    feeds = {}
    for (rules, parser, _snaps, _frames), cls, suffix in zip(w["books"], (Binance, BinanceFutures), ("", "-PERP")):
        names = {f"{m.instrument.base}-{m.instrument.quote}{suffix}".upper(): sym for sym, m in parser.markets.items()}
        Symbols.set(cls.id, names, {})

        async def count(*args: Any) -> None:
            w["cf_events"] = w.get("cf_events", 0) + 1
        feed = cls(symbols=list(names), channels=[TRADES, L2_BOOK], callbacks={TRADES: count, L2_BOOK: count})
        bodies = {s: r.payload for s, r in w["snapshot_bodies"][rules].items()}

        async def read(url: str, _bodies: dict[str, str] = bodies, **_: Any) -> str:
            return _bodies[parse_qs(urlparse(url).query)["symbol"][0]]
        feed.http_conn.read = read
        feeds[rules] = feed
    return feeds


def case_cryptofeed_depth(w: dict[str, Any], n: int) -> tuple[Callable[[], int], int]:
    """As ``depth-book``: each pass over a recording starts with empty books (``_reset``), so its
    first update per symbol fetches (here: reads) the REST snapshot, inside the timing as ours is."""
    import asyncio

    feeds = _cryptofeed_feeds(w)
    total = sum(len(frames) for *_, frames in w["books"])
    passes = max(1, n // total)
    runs = [(feeds[rules], [(raw, ns / 1e9) for raw, ns in frames]) for rules, _, _, frames in w["books"]]

    async def drive() -> None:
        for _ in range(passes):
            for feed, frames in runs:
                feed._reset()
                handler = feed.message_handler
                for raw, ts in frames:
                    await handler(raw, None, ts)

    def run() -> int:
        asyncio.run(drive())
        return passes * total
    return run, passes * total


def case_cryptofeed(key: str) -> Callable[[dict[str, Any], int], tuple[Callable[[], int], int]]:
    def make(w: dict[str, Any], n: int) -> tuple[Callable[[], int], int]:
        import asyncio

        feeds = _cryptofeed_feeds(w)
        rules_of = {id(parser): rules for rules, parser, *_ in w["books"]}
        items = [(feeds[rules_of[id(parser)]].message_handler, raw, ns / 1e9) for parser, raw, ns in cycle(w[key], n)]

        async def drive() -> None:
            for handler, raw, ts in items:
                await handler(raw, None, ts)

        def run() -> int:
            asyncio.run(drive())
            return len(items)
        return run, len(items)
    return make


CASES = {"orjson-only": case_orjson("trades"), "orjson-depth": case_orjson("depth"), "trades": case_parse("trades"),
         "l1": case_parse("l1"), "depth-parse": case_parse("depth"), "depth-book": case_depth_book,
         "depth-manager": case_depth_manager,
         "okx-books": case_stream_books("okx/cryptofeed/OKX.ws.1.0", _okx, _okx_parser),
         "kraken-books": case_stream_books("kraken/cryptofeed/KRAKEN.ws.50.0", _kraken, _kraken_parser),
         "cryptofeed-trades": case_cryptofeed("trades"), "cryptofeed-depth": case_cryptofeed_depth}


def git_sha() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()
    except OSError:
        return ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("BARTER_SHARED_DATA", ROOT.parent / "shared" / "data")))
    ap.add_argument("--cryptofeed-path", type=Path, help="a directory holding cryptofeed (pip install --target)")
    args = ap.parse_args()
    if args.cryptofeed_path:
        sys.path.append(str(args.cryptofeed_path))
    w = load(args.data)
    rows: list[dict[str, Any]] = []
    for name, make in CASES.items():
        try:
            run, frames = make(w, args.n)
        except ImportError as e:
            print(f"{name}: not measured: cannot import cryptofeed ({e}); pip install cryptofeed, or give "
                  "--cryptofeed-path")
            continue
        run()  # warm-up
        best = min(_timed(run) for _ in range(args.repeat))
        rows.append({"case": name, "frames": frames, "events_per_s": frames / (best / 1e9),
                     "ns_per_event": best / frames, "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                     "target_per_s": TARGETS.get(name)})
    print(f"{'case':<18} {'frames':>9} {'frames/s':>12} {'ns/frame':>9} {'target/s':>10}")
    for r in rows:
        target = f"{r['target_per_s']:,}" if r["target_per_s"] else "-"
        print(f"{r['case']:<18} {r['frames']:>9,} {r['events_per_s']:>12,.0f} {r['ns_per_event']:>9.0f} {target:>10}")
    meta = {"git_sha": git_sha(), "python": platform.python_version(), "orjson": version("orjson"),
            "msgspec": version("msgspec"), "websockets": version("websockets"), "numpy": version("numpy")}
    base = next((r["events_per_s"] for r in rows if r["case"] == "orjson-only"), None)
    if base:
        print("frames/s as a fraction of orjson-only: " + ", ".join(
            f"{r['case']} {r['events_per_s'] / base:.2f}" for r in rows if r["case"] != "orjson-only"))
    for r in rows:
        print(json.dumps({"bench": "feeds", **r, **meta}))


def _timed(run: Callable[[], int]) -> int:
    t0 = time.perf_counter_ns()
    run()
    return time.perf_counter_ns() - t0


if __name__ == "__main__":
    main()
