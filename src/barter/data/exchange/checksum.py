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
from typing import Callable, Optional

import numpy as np

from barter.data.book import ASK, BID, OrderBook

__all__ = ["TextCache", "kraken_checksum", "okx_checksum", "okx_text"]

TextCache = dict[float, str]  # a book's value -> its text in the checksum; levels repeat across updates
_CACHE_MAX = 100_000  # values kept per cache before it starts afresh (bounds memory)


def okx_text(x: float) -> str:
    """The shortest decimal text of ``x`` without exponent or trailing ``.0`` (``1e-05`` -> ``0.00001``)."""
    text = repr(x)
    if "e" in text:
        return np.format_float_positional(x, trim="-")
    return text[:-2] if text.endswith(".0") else text


def _texts(values: list[float], cache: TextCache, fmt: Callable[[float], str]) -> list[str]:
    """``fmt`` of each value, computed once per distinct value while ``cache`` holds it."""
    get = cache.get
    out = [get(x) for x in values]
    if None in out:
        if len(cache) > _CACHE_MAX:
            cache.clear()
        for i, x in enumerate(values):
            if out[i] is None:
                out[i] = cache[x] = fmt(x)
    return out  # type: ignore[return-value]  # every None was replaced


def _top(book: OrderBook, side: int, n: int, cache: TextCache, fmt: Callable[[float], str]) -> list[str]:
    """``"price:size"`` texts of the best ``n`` levels of ``side``."""
    prices, sizes = book.depth(side, n)
    return [f"{p}:{s}" for p, s in zip(_texts(prices.tolist(), cache, fmt), _texts(sizes.tolist(), cache, fmt))]


def okx_checksum(book: OrderBook, cache: Optional[TextCache] = None) -> int:
    """OKX's checksum of ``book`` (signed 32-bit). Pass the same ``cache`` on each update of a book
    so that each price and size is formatted once."""
    cache = {} if cache is None else cache
    bids, asks = _top(book, BID, 25, cache, okx_text), _top(book, ASK, 25, cache, okx_text)
    n = min(len(bids), len(asks))
    parts = [t for pair in zip(bids, asks) for t in pair] + bids[n:] + asks[n:]  # a shorter side ends
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def _kraken_format(decimals: int) -> Callable[[float], str]:
    return lambda x: f"{x:.{decimals}f}".replace(".", "").lstrip("0")


def kraken_checksum(book: OrderBook, price_decimals: int, size_decimals: int,
                    cache: Optional[tuple[TextCache, TextCache]] = None) -> int:
    """Kraken's checksum of ``book`` (unsigned 32-bit) with the pair's decimals. ``cache`` (price
    texts, size texts) must be kept per book, as the decimals are the pair's."""
    prices_cache, sizes_cache = ({}, {}) if cache is None else cache
    text = []
    for side in (ASK, BID):
        prices, sizes = book.depth(side, 10)
        text += [p + s for p, s in zip(_texts(prices.tolist(), prices_cache, _kraken_format(price_decimals)),
                                        _texts(sizes.tolist(), sizes_cache, _kraken_format(size_decimals)))]
    return zlib.crc32("".join(text).encode())
