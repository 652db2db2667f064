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
  loopback-e2e       every frame of the Binance spot recording (trades, book tickers, depth diffs), sent by
                     a ``websockets`` server on 127.0.0.1 in a child process (no compression, as
                     Binance; frames pre-serialised and written in 1 MiB chunks), received by ``binance_feed`` (``ExchangeFeed``: ``WebSocketClient`` +
                     ``BinanceParser``) until every market event has arrived; counts frames, and the
                     JSON line also has the market events/s. Each run is a new connection
  loopback-recv      the same frames received by a bare ``websockets`` client, nothing parsed: the
                     transport's ceiling on this machine (server and client share its cores)
  cryptofeed-trades  cryptofeed's own ``Binance.message_handler`` on the same aggTrade frames
  cryptofeed-depth   cryptofeed's handler on the same depth frames, with its book (its REST snapshot
                     request answered from the recording, before timing)

cryptofeed is imported from the environment, or from ``--cryptofeed-path`` (a ``pip install
--target`` directory, appended to ``sys.path`` so barter's own dependencies win); where it cannot be
imported its cases print the reason instead of a figure.

Each case is built and warmed up once; then ``--repeat`` rounds each time every case once, in
order, with ``perf_counter_ns``, and a case's best round counts. Interleaving gives every case the
same spread of machine states (this VM's speed changes by up to 2x over minutes), so the ratios to
``orjson-only`` hold even when the absolute figures move. Targets per core (issue 8): >= 700,000
trades/s and >= 300,000 depth updates/s applied to the book, measured where ``orjson-only`` gives
~1.3M/s; on a slower or busier machine compare the ratios to ``orjson-only``. Ratios to cryptofeed's
cases are printed as well when they ran. Peak RSS is the process's (``ru_maxrss``), read after
the last round.

Usage: python benchmarks/bench_feeds.py [--n 200000] [--repeat 8] [--data ../shared/data]
                                        [--cryptofeed-path DIR] [--cases trades,loopback-e2e]
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import queue
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
# Our case -> cryptofeed's case doing the same work (its depth case keeps a book, as both of ours do).
CRYPTOFEED_PAIRS = (("trades", "cryptofeed-trades"), ("depth-book", "cryptofeed-depth"),
                    ("depth-manager", "cryptofeed-depth"))



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


def _loopback_server(data: Path, n: int, ports: Any) -> None:
    """Child process: a WebSocket server on 127.0.0.1 that answers a Binance subscription, then sends
    the spot recording's frames cycled to ``n`` on each connection. The frames are serialised once,
    before any client connects, and written to the socket in large chunks, so the figures measure
    the receiving side rather than the server's per-frame ``send``."""
    import asyncio

    from websockets.asyncio.server import serve
    from websockets.frames import Frame, Opcode

    blob = b"".join(Frame(Opcode.TEXT, f.encode()).serialize(mask=False) for f in cycle(_spot_frames(data), n))

    async def handle(ws: Any) -> None:
        request = orjson.loads(await ws.recv())
        await ws.send(orjson.dumps({"result": None, "id": request["id"]}).decode())
        for i in range(0, len(blob), 1 << 20):
            ws.transport.write(blob[i:i + (1 << 20)])
            while ws.transport.get_write_buffer_size() > 8 << 20:  # keep at most ~8 MiB queued
                await asyncio.sleep(0.001)
        await ws.wait_closed()

    async def main() -> None:
        async with serve(handle, "127.0.0.1", 0, compression=None, max_size=None) as server:
            ports.put(server.sockets[0].getsockname()[1])
            await asyncio.Future()

    asyncio.run(main())


def _spot_frames(data: Path) -> list[str]:
    return [r.payload for r in read_cryptofeed(data / "exchange_messages" / RECORDINGS["spot"][1]) if r.kind == "ws"]


def _loopback(w: dict[str, Any], n: int) -> tuple[str, list[str]]:
    """The loopback server's URL (started once, in a child process) and the frames it sends."""
    import multiprocessing

    if w.get("loopback_n") != n:
        ctx = multiprocessing.get_context("spawn")
        ports = ctx.Queue()
        server = ctx.Process(target=_loopback_server, args=(w["data"], n, ports), daemon=True)
        server.start()
        w.setdefault("children", []).append(server)
        try:
            w["loopback_url"] = f"ws://127.0.0.1:{ports.get(timeout=60)}/stream"
        except queue.Empty:
            raise RuntimeError(f"the loopback server did not start (exit code {server.exitcode})") from None
        w["loopback_n"] = n
    return w["loopback_url"], cycle(_spot_frames(w["data"]), n)


def case_loopback_recv(w: dict[str, Any], n: int) -> tuple[Callable[[], int], int]:
    """The transport alone: ``websockets`` receiving the same frames, nothing parsed (the ceiling)."""
    import asyncio

    from websockets.asyncio.client import connect

    url, frames = _loopback(w, n)

    async def receive() -> None:
        async with connect(url, compression=None, max_size=None, proxy=None) as ws:
            await ws.send(orjson.dumps({"method": "SUBSCRIBE", "params": [], "id": 1}).decode())
            await ws.recv()
            for _ in frames:
                await ws.recv()

    def run() -> int:
        asyncio.run(receive())
        return len(frames)
    return run, len(frames)


def case_loopback(w: dict[str, Any], n: int) -> tuple[Callable[[], int], int]:
    import asyncio

    from barter.data.event import MarketEvent
    from barter.data.exchange import SubKind, Subscription, binance_feed

    url, frames = _loopback(w, n)
    parser = next(parser for rules, parser, *_ in w["books"] if rules == BINANCE_SPOT.rules)
    expected = sum(isinstance(e, MarketEvent) for f in frames for e in parser.parse(f))
    kinds = (SubKind.PUBLIC_TRADES, SubKind.L1, SubKind.L2)
    subs = [Subscription(m, k) for m in parser.markets.values() for k in kinds]

    async def receive() -> None:
        feed = binance_feed(subs, BINANCE_SPOT, url=url, trade_channel="aggTrade", proxy=None, max_reconnects=0)
        events = 0
        async for _ in feed.market_events():
            events += 1
            if events == expected:
                break
        await feed.close()

    def run() -> int:
        asyncio.run(receive())
        return len(frames)
    w["loopback_events"] = expected
    return run, len(frames)


CASES = {"orjson-only": case_orjson("trades"), "orjson-depth": case_orjson("depth"), "trades": case_parse("trades"),
         "l1": case_parse("l1"), "depth-parse": case_parse("depth"), "depth-book": case_depth_book,
         "depth-manager": case_depth_manager,
         "okx-books": case_stream_books("okx/cryptofeed/OKX.ws.1.0", _okx, _okx_parser),
         "kraken-books": case_stream_books("kraken/cryptofeed/KRAKEN.ws.50.0", _kraken, _kraken_parser),
         "loopback-recv": case_loopback_recv, "loopback-e2e": case_loopback,
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
    ap.add_argument("--repeat", type=int, default=8, help="rounds; each times every case once")
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("BARTER_SHARED_DATA", ROOT.parent / "shared" / "data")))
    ap.add_argument("--cryptofeed-path", type=Path, help="a directory holding cryptofeed (pip install --target)")
    ap.add_argument("--cases", help=f"comma-separated cases to run (default: all of {', '.join(CASES)})")
    args = ap.parse_args()
    if args.cryptofeed_path:
        sys.path.append(str(args.cryptofeed_path))
    w = load(args.data)
    rows: list[dict[str, Any]] = []
    names = args.cases.split(",") if args.cases else list(CASES)
    unknown = sorted(set(names) - set(CASES))
    if unknown:
        ap.error(f"unknown cases {unknown}; choose from {', '.join(CASES)}")
    runs: dict[str, tuple[Callable[[], int], int]] = {}
    for name in names:
        try:
            runs[name] = CASES[name](w, args.n)
        except ImportError as e:
            print(f"{name}: not measured: cannot import cryptofeed ({e}); pip install cryptofeed, or give "
                  "--cryptofeed-path")
            continue
        runs[name][0]()  # warm-up
    best = {name: min(times) for name, times in _rounds(runs, args.repeat).items()}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for name, (_, frames) in runs.items():
        rows.append({"case": name, "frames": frames, "events_per_s": frames / (best[name] / 1e9),
                     "ns_per_event": best[name] / frames, "peak_rss_kib": rss, "target_per_s": TARGETS.get(name),
                     "rounds": args.repeat})
        if name == "loopback-e2e":
            rows[-1]["market_events_per_s"] = w["loopback_events"] / (best[name] / 1e9)
    for child in w.get("children", []):
        child.terminate()
    print(f"{'case':<18} {'frames':>9} {'frames/s':>12} {'ns/frame':>9} {'target/s':>10}")
    for r in rows:
        target = f"{r['target_per_s']:,}" if r["target_per_s"] else "-"
        print(f"{r['case']:<18} {r['frames']:>9,} {r['events_per_s']:>12,.0f} {r['ns_per_event']:>9.0f} {target:>10}")
    meta = {"git_sha": git_sha(), "python": platform.python_version(), "orjson": version("orjson"),
            "msgspec": version("msgspec"), "websockets": version("websockets"), "numpy": version("numpy")}
    speed = {r["case"]: r["events_per_s"] for r in rows}
    _print_ratios(speed, "orjson-only", [r["case"] for r in rows if r["case"] != "orjson-only"])
    vs_cryptofeed = [f"{ours} {speed[ours] / speed[theirs]:.1f}x" for ours, theirs in CRYPTOFEED_PAIRS
                     if ours in speed and theirs in speed]
    if vs_cryptofeed:
        print("frames/s as a multiple of cryptofeed's same work: " + ", ".join(vs_cryptofeed))
    for r in rows:
        print(json.dumps({"bench": "feeds", **r, **meta}))


def _timed(run: Callable[[], int]) -> int:
    t0 = time.perf_counter_ns()
    run()
    return time.perf_counter_ns() - t0


def _rounds(runs: dict[str, tuple[Callable[[], int], int]], repeat: int) -> dict[str, list[int]]:
    """``repeat`` rounds, each timing every case once in order: ns per run, by case."""
    times: dict[str, list[int]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, (run, _) in runs.items():
            times[name].append(_timed(run))
    return times


def _print_ratios(speed: dict[str, float], base: str, cases: list[str]) -> None:
    """Frames/s of ``cases`` as a fraction of ``base``'s, if it ran."""
    if base in speed and cases:
        print(f"frames/s as a fraction of {base}: " + ", ".join(f"{c} {speed[c] / speed[base]:.2f}" for c in cases))


if __name__ == "__main__":
    main()
