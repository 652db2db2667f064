"""What a WebSocket client yields besides the exchange's frames: the state of its connection."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True, slots=True)
class Frame:
    """One WebSocket message as received.

    Attributes
    ----------
    raw : str or bytes
        The payload exactly as received (text frames as ``str``, binary frames as ``bytes``).
    received_ns : int
        Local receive time, UNIX epoch ns (UTC).
    connection : int
        Which connection it came on: 1 for the first, +1 per reconnect.
    """

    raw: Union[str, bytes]
    received_ns: int
    connection: int


@dataclass(frozen=True, slots=True)
class Connected:
    """Connected and every subscription confirmed; frames of connection ``connection`` follow."""

    exchange: str
    url: str
    connection: int
    time_ns: int


@dataclass(frozen=True, slots=True)
class Reconnecting:
    """The connection ended; the client waits ``delay_s`` and connects again (seed: ``Reconnecting``).

    Attributes
    ----------
    reason : str
        Why the connection ended, e.g. ``"connection lost: no close frame received or sent"``.
    attempt : int
        Consecutive failed attempts, 1 for the first retry (resets once connected).
    delay_s : float
        Seconds until the next attempt (backoff with jitter).
    """

    exchange: str
    reason: str
    attempt: int
    delay_s: float
    time_ns: int


ConnectionEvent = Union[Connected, Reconnecting]
