"""The CRC32 checksums OKX and Kraken publish with their L2 books, computed from our own book.

OKX: the top 25 bids and asks interleaved as ``bid:size:ask:size:...`` (a shorter side simply
ends), in OKX's own decimal text, as a signed 32-bit CRC32. OKX writes the shortest decimal
(``30261``, ``0.05452``), which is what ``repr`` of the float gives once ``.0`` and exponents are
removed: checked on every update of the real recording.

Kraken: the top 10 asks (best first) then the top 10 bids, each price and size written with the
pair's fixed decimals, the point removed and leading zeros stripped, concatenated; unsigned CRC32.
"""
from __future__ import annotations

import zlib

import numpy as np

from barter.data.book import ASK, BID, OrderBook

__all__ = ["kraken_checksum", "okx_checksum", "okx_text"]


def okx_text(x: float) -> str:
    """The shortest decimal text of ``x`` without exponent or trailing ``.0`` (``1e-05`` -> ``0.00001``)."""
    text = repr(x)
    if "e" in text:
        return np.format_float_positional(x, trim="-")
    return text[:-2] if text.endswith(".0") else text


def okx_checksum(book: OrderBook) -> int:
    """OKX's checksum of ``book`` (signed 32-bit)."""
    bid_p, bid_s = book.depth(BID, 25)
    ask_p, ask_s = book.depth(ASK, 25)
    bids = list(zip(bid_p.tolist(), bid_s.tolist()))
    asks = list(zip(ask_p.tolist(), ask_s.tolist()))
    parts: list[str] = []
    for i in range(max(len(bids), len(asks))):
        if i < len(bids):
            parts += (okx_text(bids[i][0]), okx_text(bids[i][1]))
        if i < len(asks):
            parts += (okx_text(asks[i][0]), okx_text(asks[i][1]))
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def _kraken_side(book: OrderBook, side: int, price_decimals: int, size_decimals: int) -> str:
    prices, sizes = book.depth(side, 10)
    return "".join(f"{p:.{price_decimals}f}".replace(".", "").lstrip("0")
                   + f"{s:.{size_decimals}f}".replace(".", "").lstrip("0")
                   for p, s in zip(prices.tolist(), sizes.tolist()))


def kraken_checksum(book: OrderBook, price_decimals: int, size_decimals: int) -> int:
    """Kraken's checksum of ``book`` (unsigned 32-bit) with the pair's decimals."""
    text = _kraken_side(book, ASK, price_decimals, size_decimals) + _kraken_side(book, BID, price_decimals,
                                                                               size_decimals)
    return zlib.crc32(text.encode())
