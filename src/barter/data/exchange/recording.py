"""Read cryptofeed ``AsyncFileCallback`` recordings of raw exchange traffic (one record per line).

Line forms (shared/data README section 1): ``configuration: {json}``; ``<url> <-> <ts>`` (a
WebSocket opened); ``<url> <- <ts>: <payload>`` (sent); ``<url> -> <ts>: <body>[ header: {json}]``
(an HTTP response); ``<ts>: <payload>`` (a WebSocket message received). Payloads are kept as the
exact text received, to be parsed as a live frame would be. Python bytes literals (``b'...'``,
Huobi's gzip frames) are decoded to bytes and gunzipped.
"""
from __future__ import annotations

import ast
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal, Optional, Union

RecordKind = Literal["config", "open", "sent", "http", "ws"]


@dataclass(frozen=True, slots=True)
class Record:
    """One line of a recording.

    Attributes
    ----------
    kind : "config", "open", "sent", "http" or "ws"
    time_s : float
        Local time of the line, UNIX epoch seconds (0.0 for the configuration line).
    url : str or None
        The WebSocket or HTTP URL (None for received WebSocket messages).
    payload : str or bytes
        The message, request or response body as recorded (an HTTP body without its headers).
    """

    kind: RecordKind
    time_s: float
    url: Optional[str]
    payload: Union[str, bytes]

    @property
    def received_ns(self) -> int:
        return int(round(self.time_s * 1e9))


def read_cryptofeed(path: Union[str, Path]) -> Iterator[Record]:
    """Every record of a cryptofeed recording, in file order (blank lines skipped)."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            if line.startswith("configuration: "):
                yield Record("config", 0.0, None, line.split(": ", 1)[1])
                continue
            if line.startswith(("ws", "http")):
                seps = [s for s in (" <-> ", " <- ", " -> ") if s in line]
                sep = min(seps, key=line.index)
                url, rest = line.split(sep, 1)
                if sep == " <-> ":
                    yield Record("open", float(rest), url, "")
                    continue
                ts, payload = rest.split(": ", 1)
                if sep == " -> ":
                    end = json.JSONDecoder().raw_decode(payload)[1]  # drop a trailing " header: {...}"
                    yield Record("http", float(ts), url, payload[:end])
                else:
                    yield Record("sent", float(ts), url, _payload(payload))
                continue
            ts, payload = line.split(": ", 1)
            yield Record("ws", float(ts), None, _payload(payload))


def _payload(text: str) -> Union[str, bytes]:
    if text.startswith(("b'", 'b"')):
        data = ast.literal_eval(text)
        return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    return text


def ws_frames(path: Union[str, Path]) -> list[Record]:
    """The WebSocket messages received, in order."""
    return [r for r in read_cryptofeed(path) if r.kind == "ws"]
