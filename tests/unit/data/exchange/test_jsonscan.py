"""The compiled Binance frame readers (``barter._core.jsonscan``) give exactly what msgspec's typed
decoders give (the same floats, bit for bit), or None: on every recorded frame, on generated frames
and on the documented forms they leave to msgspec; ``BinanceReader`` builds the events the parser's
generic path gives, or leaves the frame to the parser."""
from __future__ import annotations

import struct

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barter._core import jsonscan
from barter.data.exchange import BINANCE_FUTURES_USD, BINANCE_SPOT, BinanceParser
from barter.data.exchange.binance import market_from_symbol
from barter.data.exchange import _binance_typed as typed
from barter.data.exchange.recording import ws_frames

RECORDINGS = ("binance/cryptofeed/BINANCE.ws.1.0", "binance_futures/cryptofeed/BINANCE_FUTURES.ws.1.0")


def _msgspec_depth(raw):
    try:
        d = typed.DEPTH.decode(raw).data
    except (msgspec.DecodeError, ValueError):
        return None
    return d.s, d.U, d.u, d.E, d.T, d.pu, d.b, d.a


def _msgspec_trade(raw):
    try:
        d = typed.TRADE.decode(raw).data
    except (msgspec.DecodeError, ValueError):
        return None
    return (d.s, d.p, d.q, d.T, d.m) if d.X == "MARKET" else None


def _bits(fields):
    """Every float as its bytes, so 0.1 read two ways must be the same double."""
    return repr([struct.pack("d", v).hex() if isinstance(v, float) else _bits(v) if isinstance(v, tuple) else v
                 for v in fields])


def _agrees(scanned, expected):
    if scanned is None:
        return True  # msgspec decides
    return expected is not None and scanned == expected and _bits(scanned) == _bits(expected)


@pytest.mark.parametrize("path", RECORDINGS)
def test_every_recorded_depth_and_trade_frame_reads_as_msgspec_decodes_it(data_dir, path):
    read = 0
    for f in ws_frames(data_dir / "exchange_messages" / path):
        for raw in (f.payload, f.payload.encode()):
            if '"depthUpdate"' in f.payload:
                scanned, expected = jsonscan.depth_update(raw), _msgspec_depth(raw)
            elif 'Trade"' in f.payload or '"trade"' in f.payload:
                scanned, expected = jsonscan.trade(raw), _msgspec_trade(raw)
            else:
                assert jsonscan.depth_update(raw) is None and jsonscan.trade(raw) is None
                continue
            assert scanned is not None, raw  # the plain form Binance sends is read, not left to msgspec
            assert _agrees(scanned, expected), raw
            read += 1
    assert read > 100


DEPTH = ('{"stream":"bnbbtc@depth@100ms","data":{"e":"depthUpdate","E":1700000000123,"s":"BNBBTC","U":157,'
         '"u":160,"b":[["0.0024","10"]],"a":[["0.0026","100"],["0.0027","0.00000000"]]}}')
TRADE = ('{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1,"s":"BTCUSDT","a":5,"p":"27000.10",'
         '"q":"0.002","f":1,"l":2,"T":1700000000999,"m":true,"M":true}}')


def test_the_documented_forms():
    assert jsonscan.depth_update(DEPTH) == ("BNBBTC", 157, 160, 1700000000123, jsonscan.NONE, jsonscan.NONE,
                                            ((0.0024, 10.0),), ((0.0026, 100.0), (0.0027, 0.0)))
    assert jsonscan.trade(TRADE) == ("BTCUSDT", 27000.1, 0.002, 1700000000999, True)
    futures = DEPTH.replace('"E":', '"T":5,"pu":150,"E":')
    assert jsonscan.depth_update(futures)[3:6] == (1700000000123, 5, 150)
    assert jsonscan.depth_update(DEPTH.replace('"stream":"bnbbtc@depth@100ms",', "")) is not None


@pytest.mark.parametrize("old, new", [
    ('"U":157,', '"U": 157,'),                  # whitespace
    ('"0.0024"', '"2.4e-3"'),                   # exponent
    ('"0.0024"', '"00.0024"'),                  # leading zero
    ('"0.0024"', '"0.002400000000000001"'),     # 16 significant digits
    ('"0.0024"', '"0"'),                        # a price of 0: msgspec rejects it
    ('"0.0024"', '".0024"'),
    ('"0.0024"', '"1."'),
    ('"0.0024"', '0.0024'),                     # a number, not a string
    ('"U":157,', '"U":-157,'),
    ('"U":157,', '"U":"157",'),                 # lax mode reads it: left to msgspec
    ('"U":157,', '"U":157.0,'),
    ('"U":157,', '"U":0157,'),
    ('"U":157,', '"U":1234567890123456789,'),   # beyond 18 digits
    ('"U":157,', '"U":157,"U":158,'),           # twice
    ('"U":157,', '"x":[1],'),                   # an unknown field: left to msgspec
    ('"U":157,', ''),                           # missing
    ('"s":"BNBBTC"', '"s":"BNB\\u0042TC"'),     # escape
    ('"s":"BNBBTC"', '"s":"BNBBTÇ"'),           # not ASCII
    ('"e":"depthUpdate"', '"e":"trade"'),
    ('}}', '}} '),
    ('}}', '},"x":1}'),
])
def test_other_forms_are_left_to_msgspec(old, new):
    raw = DEPTH.replace(old, new, 1)
    assert raw != DEPTH
    assert jsonscan.depth_update(raw) is None and jsonscan.depth_update(raw.encode()) is None


@pytest.mark.parametrize("old, new", [
    ('"m":true', '"m":1'), ('"m":true', '"m":"true"'), ('"a":5', '"a":-5'), ('"a":5', '"a":5.5'),
    ('"a":5', '"a":[5]'), ('"p":"27000.10"', '"p":"0.0"'), ('"q":"0.002"', '"q":"0"'),
    ('"M":true', '"M":true,"X":"LIQUIDATION"'), ('"e":"aggTrade"', '"e":"depthUpdate"'),
])
def test_other_trade_forms_are_left_to_msgspec(old, new):
    raw = TRADE.replace(old, new, 1)
    assert raw != TRADE and jsonscan.trade(raw) is None


def test_bytes_and_other_types():
    assert jsonscan.depth_update(DEPTH.encode()) == jsonscan.depth_update(DEPTH)
    assert jsonscan.depth_update(bytearray(DEPTH.encode())) is None
    assert jsonscan.depth_update(DEPTH[:-5]) is None and jsonscan.trade("") is None


_plain = st.from_regex(r"\A(0|[1-9][0-9]{0,9})(\.[0-9]{1,12})?\Z")  # as Binance writes them
_odd = st.one_of(  # digits beyond the exact range, exponents, leading zeros, ...
    st.decimals(min_value=0, max_value=10 ** 12, allow_nan=False, allow_infinity=False, places=8).map(str),
    st.from_regex(r"\A[0-9]{1,20}(\.[0-9]{1,25})?\Z"),
    st.floats(min_value=0, allow_infinity=False, allow_nan=False).map(repr),
)
_decimals = st.one_of(_plain, _odd)
# Half the frames have only plain values, so that many are read rather than left to msgspec.
_levels = st.one_of(st.lists(st.tuples(_plain, _plain), max_size=8),
                    st.lists(st.tuples(_decimals, _decimals), max_size=8))
_ids = st.one_of(st.integers(min_value=0, max_value=10 ** 18 - 1), st.integers(min_value=0, max_value=10 ** 19),
                 st.integers(min_value=-5, max_value=-1))


def _rows(levels):
    return "[" + ",".join(f'["{p}","{q}"]' for p, q in levels) + "]"


@settings(max_examples=300, deadline=None)
@given(bids=_levels, asks=_levels, first=_ids, last=_ids, time=_ids, pu=st.none() | _ids, shuffle=st.randoms())
def test_generated_depth_frames_read_as_msgspec_decodes_them(bids, asks, first, last, time, pu, shuffle):
    fields = [f'"e":"depthUpdate"', f'"E":{time}', '"s":"BTCUSDT"', f'"U":{first}', f'"u":{last}',
              f'"b":{_rows(bids)}', f'"a":{_rows(asks)}'] + ([] if pu is None else [f'"pu":{pu}'])
    shuffle.shuffle(fields)
    raw = '{"stream":"btcusdt@depth@100ms","data":{' + ",".join(fields) + "}}"
    assert _agrees(jsonscan.depth_update(raw), _msgspec_depth(raw)), raw
    assert _agrees(jsonscan.depth_update(raw.encode()), _msgspec_depth(raw.encode())), raw


@settings(max_examples=300, deadline=None)
@given(p=_decimals, q=_decimals, t=_ids, m=st.sampled_from(["true", "false", "0", '"x"']),
       extra=st.lists(st.sampled_from(['"a":1', '"f":"x"', '"M":null', '"E":-1', '"l":false', '"X":"MARKET"',
                                       '"X":"ADL"', '"n":1.5']), max_size=3), shuffle=st.randoms())
def test_generated_trade_frames_read_as_msgspec_decodes_them(p, q, t, m, extra, shuffle):
    fields = ['"e":"trade"', '"s":"BTCUSDT"', f'"p":"{p}"', f'"q":"{q}"', f'"T":{t}', f'"m":{m}'] + extra
    shuffle.shuffle(fields)
    raw = '{"stream":"btcusdt@trade","data":{' + ",".join(fields) + "}}"
    assert _agrees(jsonscan.trade(raw), _msgspec_trade(raw)), raw


# --------------------------------------------------------------------------------------------------
# BinanceReader: frames straight to events
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("venue, path", [(BINANCE_SPOT, RECORDINGS[0]), (BINANCE_FUTURES_USD, RECORDINGS[1])])
def test_the_reader_builds_the_generic_paths_events_from_every_recorded_frame(data_dir, venue, path):
    frames = ws_frames(data_dir / "exchange_messages" / path)
    symbols = {f.payload.split('"stream":"', 1)[1].split("@", 1)[0] for f in frames if '"stream"' in f.payload}
    parser = BinanceParser([market_from_symbol(s, venue) for s in symbols], venue)
    read = 0
    for f in frames:
        for raw in (f.payload, f.payload.encode()):
            events = parser._read(raw)
            if events is not None:
                assert events == parser._parse_generic(raw, f.received_ns), raw
                read += 1
            elif '"depthUpdate"' in f.payload or 'Trade"' in f.payload:
                pytest.fail(f"not read: {raw!r}")
    assert read > 100


@pytest.mark.parametrize("old, new", [
    ('"s":"BNBBTC"', '"s":"DOGEBTC"'),  # not a market of the parser
    ('"U":157', '"U":161'),  # U after u: the generic path names it
    ('"E":1700000000123', '"E":9223372036855'),  # its ns would not fit int64
    ('"E":1700000000123,', ''),  # no time
])
def test_the_reader_leaves_what_the_parser_must_decide(old, new):
    parser = BinanceParser([market_from_symbol("bnbbtc")])
    assert parser._read(DEPTH) is not None
    raw = DEPTH.replace(old, new, 1)
    assert raw != DEPTH and parser._read(raw) is None
    assert parser.parse(raw) == parser._parse_generic(raw, 0)
