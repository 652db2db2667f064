"""``barter.data.exchange.binance`` on real recorded Binance spot and USD-M futures traffic
(../shared/data/exchange_messages, README sections 1-3): every message of a supported kind parses to
the expected normalised event, the L2 book rebuilt through the parser stays valid and uncrossed, and
random or mutated frames give error events, never an exception."""
from __future__ import annotations

import json
import math
from collections import Counter
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from barter.data.book import BookStatus, DeltaResult, SequencedBook
from barter.data.event import Candle, MarketEvent, Trade
from barter.data.exchange import (BINANCE_FUTURES_USD, BINANCE_SPOT, BinanceConnection, BinanceParser, FeedError,
                                  Liquidation, OrderBookL1, OrderBookL2Update, SubKind, Subscription,
                                  binance_symbol, market_from_symbol, parse_depth_snapshot)
from barter.data.exchange.binance import BinanceValidator, depth_snapshot_time_ns, stream_name
from barter.data.exchange.recording import read_cryptofeed, ws_frames
from barter.errors import BookOutOfSync, ConfigError, DataError
from barter.instrument import InstrumentKind, Market, Side
from barter.integration import SubscriptionRejected

MS = 1_000_000
REL = 1e-12

RECORDINGS = {
    "spot": (BINANCE_SPOT, "binance/cryptofeed/BINANCE.ws.1.0", "binance/cryptofeed/BINANCE.http.0.0"),
    "futures": (BINANCE_FUTURES_USD, "binance_futures/cryptofeed/BINANCE_FUTURES.ws.1.0",
                "binance_futures/cryptofeed/BINANCE_FUTURES.http.0.0"),
}
# README section 1: received messages by channel
COUNTS = {
    "spot": {"depth@100ms": 177, "bookTicker": 84, "aggTrade": 2, "kline_1m": 2},
    "futures": {"depth@100ms": 764, "bookTicker": 613, "aggTrade": 91, "kline_1m": 67},
}
KIND_OF_CHANNEL = {"depth@100ms": OrderBookL2Update, "bookTicker": OrderBookL1, "aggTrade": Trade,
                   "kline_1m": Candle}


@lru_cache(maxsize=None)
def _recording(root: Path, name: str):
    venue, ws, http = RECORDINGS[name]
    frames = ws_frames(root / "exchange_messages" / ws)
    opened = next(r for r in read_cryptofeed(root / "exchange_messages" / ws) if r.kind == "open")
    streams = parse_qs(urlparse(opened.url).query)["streams"][0].split("/")
    markets = sorted({market_from_symbol(s.split("@")[0], venue) for s in streams}, key=str)
    snapshots = [r for r in read_cryptofeed(root / "exchange_messages" / http) if r.kind == "http"]
    return venue, frames, markets, snapshots


@pytest.fixture(params=["spot", "futures"])
def recording(request, data_dir):
    return (request.param, *_recording(data_dir, request.param))


def _spot(base="btc", quote="usdt") -> Market:
    return Market("binance", (base, quote, InstrumentKind.SPOT))


def _perp(base="btc", quote="usdt") -> Market:
    return Market("binance_futures_usd", (base, quote, InstrumentKind.PERPETUAL))


# --------------------------------------------------------------------------------------------------
# Symbols and subscriptions
# --------------------------------------------------------------------------------------------------
def test_markets_map_to_symbols_both_ways():
    assert binance_symbol(_spot()) == "BTCUSDT"
    assert binance_symbol(_perp("eth")) == "ETHUSDT"
    assert market_from_symbol("BTCUSDT") == _spot()
    assert market_from_symbol("ethusdt", BINANCE_FUTURES_USD) == _perp("eth")
    assert market_from_symbol("LRCBTC") == _spot("lrc", "btc")
    assert market_from_symbol("RUNEEUR") == _spot("rune", "eur")
    for market in (_spot("nkn"), _spot("blz", "eth"), _spot("sol", "fdusd")):
        assert market_from_symbol(binance_symbol(market)) == market
    with pytest.raises(ConfigError, match="cannot split symbol 'XYZ'"):
        market_from_symbol("XYZ")
    with pytest.raises(ConfigError, match="only spot and perpetual"):
        binance_symbol(Market("binance", ("btc", "usdt", InstrumentKind.OPTION)))


def test_subscription_messages_name_each_stream():
    subs = [Subscription(_spot(), k) for k in ("public_trades", "l1", "l2", "candles")]
    conn = BinanceConnection(subs, trade_channel="aggTrade", batch=3)
    assert conn.streams == ["btcusdt@aggTrade", "btcusdt@bookTicker", "btcusdt@depth@100ms", "btcusdt@kline_1m"]
    assert [orjson.loads(r) for r in conn.requests()] == [
        {"method": "SUBSCRIBE", "params": conn.streams[:3], "id": 1},
        {"method": "SUBSCRIBE", "params": conn.streams[3:], "id": 2}]
    assert conn.url == "wss://stream.binance.com:9443/stream"
    assert stream_name(Subscription(_perp(), SubKind.LIQUIDATIONS)) == "btcusdt@forceOrder"
    assert stream_name(Subscription(_spot(), SubKind.PUBLIC_TRADES)) == "btcusdt@trade"  # the seed's channel


def test_subscriptions_a_venue_cannot_serve_are_config_errors():
    with pytest.raises(ConfigError, match="does not publish liquidations"):
        BinanceConnection([Subscription(_spot(), SubKind.LIQUIDATIONS)])
    with pytest.raises(ConfigError, match="is for exchange binance_futures_usd"):
        BinanceConnection([Subscription(_perp(), SubKind.L2)], BINANCE_SPOT)
    with pytest.raises(ConfigError, match="unknown subscription kind 'l3'"):
        Subscription(_spot(), "l3")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="cannot parse frames of"):
        BinanceParser([_perp()], BINANCE_SPOT)


def test_validator_confirms_null_results_and_names_a_rejected_subscription(data_dir):
    raws = [json.loads(line)["raw"] for line in
            (data_dir / "exchange_messages/binance/barter_rs/test_inputs.jsonl").read_text().splitlines()]
    ok = next(r for r in raws if '"result":null' in r.replace(" ", ""))
    bad = next(r for r in raws if '"result": []' in r)
    v = BinanceValidator("binance", {1: ["btcusdt@trade"]})
    assert not v.done and v.pending == ["id 1 (btcusdt@trade)"]
    assert not v.check('{"stream":"btcusdt@trade","data":{}}')  # market data is not an answer
    assert not v.check("garbage")
    assert v.check(ok) and v.done
    v = BinanceValidator("binance", {1: ["btcusdt@trade"]})
    with pytest.raises(SubscriptionRejected, match=r"binance: subscription SUBSCRIBE id 1 \['btcusdt@trade'\]"):
        v.check(bad)
    v = BinanceValidator("binance_futures_usd", {7: ["nope@trade"]})
    with pytest.raises(SubscriptionRejected, match="code 2: Invalid request") as e:
        v.check('{"error": {"code": 2, "msg": "Invalid request: unknown variant"}, "id": 7}')
    assert e.value.exchange == "binance_futures_usd" and "nope@trade" in e.value.subscription


# --------------------------------------------------------------------------------------------------
# The recordings
# --------------------------------------------------------------------------------------------------
def test_every_recorded_message_parses_to_its_event(recording):
    name, venue, frames, markets, _ = recording
    parser = BinanceParser(markets, venue, partial_candles=True)
    channels: Counter[str] = Counter()
    for frame in frames:
        stream = orjson.loads(frame.payload)["stream"]
        symbol, channel = stream.split("@", 1)
        events = parser.parse(frame.payload, frame.received_ns)
        assert len(events) == 1, (frame.payload, events)
        (event,) = events
        assert isinstance(event, MarketEvent), event
        assert isinstance(event.kind, KIND_OF_CHANNEL[channel])
        assert binance_symbol(event.market) == symbol.upper() and event.market in markets
        assert event.market.exchange.name == venue.exchange
        channels[channel] += 1
    assert dict(channels) == COUNTS[name]
    assert parser.errors == 0 and parser.frames == len(frames)


def test_open_candles_are_skipped_unless_asked_for(recording):
    name, venue, frames, markets, _ = recording
    parser = BinanceParser(markets, venue)
    candles = [e for f in frames for e in parser.parse(f.payload, f.received_ns)
               if isinstance(e, MarketEvent) and isinstance(e.kind, Candle)]
    assert len(candles) == {"spot": 0, "futures": 4}[name]  # klines with "x": true
    assert parser.ignored == COUNTS[name]["kline_1m"] - len(candles)


def _first(frames, parser, stream_suffix, symbol=None):
    for f in frames:
        stream = orjson.loads(f.payload)["stream"]
        if stream.endswith(stream_suffix) and (symbol is None or stream.startswith(symbol)):
            return f, parser.parse(f.payload, f.received_ns)[0]
    raise AssertionError(stream_suffix)


def test_hand_checked_spot_values(data_dir):
    venue, frames, markets, _ = _recording(data_dir, "spot")
    parser = BinanceParser(markets, venue, partial_candles=True)
    _, trade = _first(frames, parser, "@aggTrade", "nknusdt")
    # {"e":"aggTrade","E":1633998523963,"s":"NKNUSDT","a":15683430,"p":"0.35280000","q":"58.00000000",...,
    #  "T":1633998523963,"m":false,"M":true}
    assert trade == MarketEvent(1633998523963 * MS, _spot("nkn"), Trade(0.3528, 58.0, Side.BUY))
    frame, l1 = _first(frames, parser, "@bookTicker", "nknusdt")
    # {"u":499869768,"s":"NKNUSDT","b":"0.35210000","B":"672.00000000","a":"0.35260000","A":"3199.00000000"}
    assert l1.kind == OrderBookL1(0.3521, 672.0, 0.3526, 3199.0, 499869768)
    assert l1.exchange_time_ns == frame.received_ns  # spot book tickers carry no time
    assert l1.kind.mid_price == pytest.approx(0.35235, rel=REL)
    assert l1.kind.volume_weighted_mid_price == pytest.approx(
        (0.3521 * 3199 + 0.3526 * 672) / (672 + 3199), rel=REL)
    _, depth = _first(frames, parser, "@depth@100ms", "nknusdt")
    assert depth.exchange_time_ns == 1633998512068 * MS
    assert depth.kind == OrderBookL2Update(499869750, 499869752, None,
                                           ((0.3513, 6195.0), (0.3475, 5548.0), (0.3464, 6222.0)), ())
    _, candle = _first(frames, parser, "@kline_1m", "nknusdt")
    # "k":{"t":1633998480000,"T":1633998539999,"o":"0.35270000","c":"0.35280000","h":"0.35280000",
    #      "l":"0.35220000","v":"25877.00000000","x":false}
    assert candle == MarketEvent(1633998539999 * MS, _spot("nkn"), Candle(0.3527, 0.3528, 0.3522, 0.3528, 25877.0))


def test_hand_checked_futures_values(data_dir):
    venue, frames, markets, _ = _recording(data_dir, "futures")
    parser = BinanceParser(markets, venue, partial_candles=True)
    _, l1 = _first(frames, parser, "@bookTicker", "sushiusdt")
    # {"e":"bookTicker","u":600859600576,"s":"SUSHIUSDT","b":"7.6110","B":"2","a":"7.6120","A":"297",
    #  "T":1626992741012,"E":1626992741017}
    assert l1 == MarketEvent(1626992741012 * MS, _perp("sushi"), OrderBookL1(7.611, 2.0, 7.612, 297.0, 600859600576))
    _, depth = _first(frames, parser, "@depth@100ms", "sushiusdt")
    assert depth.exchange_time_ns == 1626992741024 * MS
    assert depth.kind == OrderBookL2Update(600859599090, 600859600917, 600859598061,
                                           ((7.504, 813.0), (7.609, 0.0), (7.611, 2.0)),
                                           ((7.615, 1563.0), (7.622, 3284.0)))
    _, trade = _first(frames, parser, "@aggTrade", "ctkusdt")
    assert trade == MarketEvent(1626992741421 * MS, _perp("ctk"), Trade(1.011, 10.0, Side.BUY))
    _, candle = _first(frames, parser, "@kline_1m", "ctkusdt")
    assert candle == MarketEvent(1626992759999 * MS, _perp("ctk"), Candle(1.01, 1.011, 1.01, 1.011, 3917.0))


# --------------------------------------------------------------------------------------------------
# nautilus fixtures (documentation-derived, current API) and barter-rs's own test inputs
# --------------------------------------------------------------------------------------------------
def _fixture(data_dir, name):
    return (data_dir / "exchange_messages/binance/nautilus/futures/market_data_json" / name).read_bytes()


def test_nautilus_futures_fixtures(data_dir):
    parser = BinanceParser([_perp(), _perp("bnb")], BINANCE_FUTURES_USD, partial_candles=True)
    expected = {
        "agg_trade_stream.json": MarketEvent(123456785 * MS, _perp(), Trade(0.001, 100.0, Side.SELL)),
        "trade_stream.json": MarketEvent(123456785 * MS, _perp(), Trade(0.001, 100.0, Side.SELL)),
        "book_ticker_stream.json": MarketEvent(1568014460891 * MS, _perp("bnb"),
                                               OrderBookL1(25.3519, 31.21, 25.3652, 40.66, 400900217)),
        "depth_update_stream.json": MarketEvent(123456788 * MS, _perp(),
                                                OrderBookL2Update(157, 160, 149, ((0.0024, 10.0),), ((0.0026, 100.0),))),
        "kline_stream_closed.json": MarketEvent(1638747719999 * MS, _perp(), Candle(0.001, 0.0025, 0.001, 0.002, 1000.0)),
        "liquidation_stream.json": MarketEvent(1568014460893 * MS, _perp(), Liquidation(Side.SELL, 9910.0, 0.014)),
    }
    for name, event in expected.items():
        assert parser.parse(_fixture(data_dir, name)) == [event], name
        wrapped = b'{"stream":"x@y","data":' + _fixture(data_dir, name) + b"}"
        assert parser.parse(wrapped) == [event], name
    assert parser.errors == 0
    assert BinanceParser([_perp()], BINANCE_FUTURES_USD).parse(_fixture(data_dir, "kline_stream_open.json")) == []
    # A "derived variant" (data README section 2): its low 0.0015 is above its open 0.0010, which no
    # real bar can be, so it is reported rather than passed on.
    (error,) = parser.parse(_fixture(data_dir, "kline_stream_open.json"))
    assert isinstance(error, FeedError) and "is not low <= open, close <= high" in error.reason
    for unsupported in ("mark_price_stream.json", "ticker_stream.json"):
        (error,) = parser.parse(_fixture(data_dir, unsupported), 5)
        assert isinstance(error, FeedError) and "unknown event type" in error.reason and error.received_ns == 5
        assert error.raw == _fixture(data_dir, unsupported).decode()


def test_nautilus_spot_depth_snapshot(data_dir):
    body = (data_dir / "exchange_messages/binance/nautilus/spot/http_json/depth_response.json").read_bytes()
    snap = parse_depth_snapshot(body)
    assert (snap.last_update_id, snap.bids, snap.asks) == (1027024, ((4.0, 431.0),), ((4.000002, 12.0),))
    with pytest.raises(DataError, match="binance depth snapshot: .*lastUpdateId"):
        parse_depth_snapshot('{"bids": [], "asks": []}')


def test_barter_rs_inputs(data_dir):
    rows = [json.loads(line) for line in
            (data_dir / "exchange_messages/binance/barter_rs/test_inputs.jsonl").read_text().splitlines()]
    raw = {r["src"].split("barter-data/src/exchange/binance/")[1]: r["raw"] for r in rows}
    spot = BinanceParser([_spot("eth")])
    futures = BinanceParser([_perp(), _perp("eth")], BINANCE_FUTURES_USD)
    assert spot.parse(raw["book/l1.rs:131"], 7) == [
        MarketEvent(7, _spot("eth"), OrderBookL1(1215.27, 32.4911, 1215.28, 13.939, 22606535573))]
    assert futures.parse(raw["book/l1.rs:152"]) == [
        MarketEvent(1671621244670 * MS, _perp(), OrderBookL1(16858.9, 13.692, 16859.0, 30.219, 2286618712950))]
    assert spot.parse(raw["spot/l2.rs:357"])[0].kind == OrderBookL2Update(
        22611425143, 22611425151, None, ((1209.67, 85.4821), (1209.66, 20.6879)), ())
    assert futures.parse(raw["futures/l2.rs:373"])[0].kind.prev_last_id == 149
    assert futures.parse(raw["futures/liquidation.rs:135"]) == [
        MarketEvent(1665523974217 * MS, _perp(), Liquidation(Side.SELL, 18917.15, 0.009))]
    assert spot.parse(raw["trade.rs:153"]) == [
        MarketEvent(1749354825200 * MS, _spot("eth"), Trade(10000.19, 0.239, Side.BUY))]
    (bad,) = spot.parse(raw["trade.rs:173"])  # "m":"yes": barter-rs's negative case
    assert isinstance(bad, FeedError) and "m must be a bool, was 'yes'" in bad.reason
    assert futures.parse(raw["trade.rs:185"])[0].kind == Trade(10000.19, 0.239, Side.SELL)
    # Not market prints: barter-rs keeps them as trades, we skip them (see the module docstring).
    assert futures.parse(raw["trade.rs:204"]) == [] and futures.parse(raw["trade.rs:223"]) == []
    assert spot.parse(raw["subscription.rs:63"]) == []  # an answer, not an error
    assert isinstance(spot.parse(raw["subscription.rs:71"])[0], FeedError)
    snap = parse_depth_snapshot(raw["book/l2.rs:158"])
    assert snap.last_update_id == 1027024


@pytest.mark.parametrize("raw, reason", [
    (b"not json", "not JSON"),
    ("[1, 2]", "expected a JSON object, got list"),
    ('{"stream": "a", "data": 3}', "data must be an object"),
    ('{"e": "trade", "s": "BTCUSDT", "p": "1", "q": "1", "T": 1, "m": true, "X": "MARKET", "z": 0}', None),
    ('{"e": "trade", "s": "DOGEUSDT", "p": "1", "q": "1", "T": 1, "m": true}', "unknown symbol 'DOGEUSDT'"),
    ('{"e": "trade", "s": "BTCUSDT", "p": "nan", "q": "1", "T": 1, "m": true}', "p must be a finite price > 0"),
    ('{"e": "trade", "s": "BTCUSDT", "p": "1", "q": "-1", "T": 1, "m": true}', "q must be a finite amount > 0"),
    ('{"e": "trade", "s": "BTCUSDT", "p": "1", "q": "1", "T": "1", "m": true}', "T must be a non-negative integer"),
    ('{"e": "trade", "s": "BTCUSDT", "q": "1", "T": 1, "m": true}', "missing field 'p'"),
    ('{"e": "depthUpdate", "s": "BTCUSDT", "E": 1, "U": 5, "u": 4, "b": [], "a": []}', "U=5 is after u=4"),
    ('{"e": "depthUpdate", "s": "BTCUSDT", "E": 1, "U": 1, "u": 4, "b": [["1", "inf"]], "a": []}', "b level"),
    ('{"e": "depthUpdate", "s": "BTCUSDT", "E": 1, "U": 1, "u": 4, "b": [["1"]], "a": []}', "bad field"),
    ('{"e": "kline", "s": "BTCUSDT", "k": {"T": 1, "x": true, "o": "2", "h": "1", "l": "1", "c": "1", "v": "0"}}',
     "is not low <= open, close <= high"),
    ('{"e": "outboundAccountPosition"}', "unknown event type 'outboundAccountPosition'"),
    ('{"code": -1121, "msg": "Invalid symbol.", "id": 3}', "error answer to request id 3"),
])
def test_malformed_frames_are_error_events(raw, reason):
    parser = BinanceParser([_spot()])
    events = parser.parse(raw, 42)
    if reason is None:
        assert isinstance(events[0], MarketEvent)
        return
    (error,) = events
    assert isinstance(error, FeedError), events
    assert reason in error.reason and error.exchange == "binance" and error.received_ns == 42
    assert error.raw == (raw.decode() if isinstance(raw, bytes) else raw)
    assert parser.errors == 1


# --------------------------------------------------------------------------------------------------
# L2 rebuild through the parser: REST snapshot + recorded diffs, Binance's update-id rules
# --------------------------------------------------------------------------------------------------
def test_l2_rebuild_from_snapshot_and_recorded_diffs_stays_valid_and_uncrossed(recording):
    name, venue, frames, markets, snapshots = recording
    parser = BinanceParser(markets, venue)
    books = {m: SequencedBook(venue.rules, name=binance_symbol(m)) for m in markets}
    # Replay in arrival order: diffs before a symbol's snapshot are buffered, the snapshot replays them.
    timeline = [(s.time_s, 0, s) for s in snapshots] + [(f.time_s, 1, f) for f in frames]
    results: Counter[DeltaResult] = Counter()
    checked = 0
    for _, is_frame, record in sorted(timeline, key=lambda t: (t[0], t[1])):
        if not is_frame:
            symbol = parse_qs(urlparse(record.url).query)["symbol"][0]
            book = books[market_from_symbol(symbol, venue)]
            book.snapshot(parse_depth_snapshot(record.payload).to_snapshot())
        else:
            events = parser.parse(record.payload, record.received_ns)
            if not events or not isinstance(events[0].kind, OrderBookL2Update):
                continue
            (event,) = events
            book = books[event.market]
            try:
                results[book.delta(event.kind.to_delta())] += 1
            except BookOutOfSync as e:  # pragma: no cover - the recordings have no gaps
                pytest.fail(f"{name}: {e}")
        if book.status == BookStatus.VALID:
            assert not book.book.is_crossed, book.name
            assert book.book.bid_price < book.book.ask_price
            checked += 1
    assert all(b.status == BookStatus.VALID and b.gaps == 0 and b.crossings == 0 for b in books.values())
    assert results[DeltaResult.APPLIED] > 0 and checked > 0
    assert sum(results.values()) == COUNTS[name]["depth@100ms"]


# --------------------------------------------------------------------------------------------------
# Fuzz: random bytes and mutated real frames never raise; they give events or error events
# --------------------------------------------------------------------------------------------------
def _check_events(events, raw):
    for event in events:
        assert isinstance(event, (MarketEvent, FeedError)), (raw, event)
        if isinstance(event, MarketEvent):
            kind = event.kind
            values = [getattr(kind, f) for f in ("price", "amount", "open", "high", "low", "close", "volume",
                                                  "bid_price", "ask_price", "bid_amount", "ask_amount", "quantity")
                      if hasattr(kind, f)]
            if isinstance(kind, OrderBookL2Update):
                values += [v for level in kind.bids + kind.asks for v in level]
            assert all(math.isfinite(v) and v >= 0 for v in values), (raw, event)
            assert event.exchange_time_ns >= 0


@lru_cache(maxsize=1)
def _sample_frames(root: Path) -> list[bytes]:
    """The first frame of each channel of both recordings, and every 25th frame."""
    out = []
    for name in RECORDINGS:
        seen: set[str] = set()
        for i, f in enumerate(_recording(root, name)[1]):
            channel = orjson.loads(f.payload)["stream"].split("@", 1)[1]
            if channel not in seen or i % 25 == 0:
                seen.add(channel)
                out.append(f.payload.encode())
    return out


_FUZZ_PARSERS = [BinanceParser([_spot("nkn"), _spot("blz", "eth"), _spot("lrc", "btc"), _spot("rune", "eur")]),
                 BinanceParser([_perp("sushi"), _perp("akro"), _perp("keep"), _perp("ctk")], BINANCE_FUTURES_USD,
                               partial_candles=True)]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_random_bytes(raw):
    for parser in _FUZZ_PARSERS:
        _check_events(parser.parse(raw), raw)


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                     max_size=3), max_leaves=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_mutated_real_frames(data_dir, data):
    frames = _sample_frames(data_dir)
    raw = bytearray(data.draw(st.sampled_from(frames)))
    how = data.draw(st.sampled_from(["bytes", "field", "drop"]))
    if how == "bytes":
        for _ in range(data.draw(st.integers(1, 4))):
            i = data.draw(st.integers(0, len(raw) - 1))
            raw[i] = data.draw(st.integers(0, 255))
        mutated = bytes(raw)
    else:
        msg = orjson.loads(raw)
        body = msg["data"]
        key = data.draw(st.sampled_from(sorted(body)))
        if how == "drop":
            del body[key]
        else:
            body[key] = data.draw(JSON_VALUES)
        mutated = json.dumps(msg).encode()  # stdlib: also big ints and NaN, which orjson rejects
    for parser in _FUZZ_PARSERS:
        _check_events(parser.parse(mutated), mutated)


def test_a_depth_snapshot_is_stamped_with_the_exchanges_time_when_it_carries_one(data_dir):
    root = data_dir / "exchange_messages"
    futures = next(r for r in read_cryptofeed(root / "binance_futures/cryptofeed/BINANCE_FUTURES.http.0.0")
                   if r.kind == "http")
    body = orjson.loads(futures.payload)
    assert depth_snapshot_time_ns(futures.payload) == depth_snapshot_time_ns(body) == body["T"] * 1_000_000
    assert depth_snapshot_time_ns({k: v for k, v in body.items() if k != "T"}) == body["E"] * 1_000_000
    spot = next(r for r in read_cryptofeed(root / "binance/cryptofeed/BINANCE.http.0.0") if r.kind == "http")
    assert depth_snapshot_time_ns(spot.payload) is None  # spot's has no time: stamped on receipt
    with pytest.raises(DataError, match="binance depth snapshot: T must be"):
        depth_snapshot_time_ns({**body, "T": "soon"})
