"""What a WebSocket client needs to know about one exchange connection.

An ``ExchangeConnection`` says where to connect, what to send to subscribe, how to recognise the
exchange's answers (``SubscriptionValidator``) and which application-level heartbeats the exchange
wants. Protocol-level pings (RFC 6455 ping/pong frames, which Binance uses) are answered by the
``websockets`` package itself and need nothing here.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Optional, Union

Message = Union[str, bytes]


class SubscriptionValidator(ABC):
    """Checks the exchange's answers to one connection's subscription requests.

    ``check`` sees every frame received until ``done``; frames that are not answers are kept by
    the client and delivered after the subscriptions are confirmed (none is lost).
    """

    @property
    @abstractmethod
    def done(self) -> bool:
        """Every request has been confirmed."""

    @property
    @abstractmethod
    def pending(self) -> list[str]:
        """The requests not yet answered, for error messages."""

    @abstractmethod
    def check(self, raw: Message) -> bool:
        """True if ``raw`` answers a request (consumed); False for any other frame.

        Raises ``SubscriptionRejected`` naming the exchange and the request if the answer is an error.
        """


class ExchangeConnection(ABC):
    """One exchange endpoint and the subscriptions to make on every (re)connect.

    Attributes
    ----------
    exchange : str
        Named in events and errors.
    url : str
        WebSocket URL.
    heartbeat_s : float or None
        Send ``heartbeat()`` this often (seconds); None when the exchange needs no app-level ping.
    """

    exchange: str
    url: str
    heartbeat_s: Optional[float] = None

    @abstractmethod
    def requests(self) -> list[Message]:
        """The subscription requests, sent in order right after connecting."""

    @abstractmethod
    def validator(self) -> SubscriptionValidator:
        """A fresh validator for the requests of one connection."""

    def heartbeat(self) -> Message:
        """The app-level ping to send every ``heartbeat_s``."""
        raise NotImplementedError(f"{self.exchange} has no app-level heartbeat")

    def answer(self, raw: Message) -> Optional[Message]:
        """The reply to an app-level ping from the exchange (the frame is then not delivered), or
        None if ``raw`` is not one. Binance pings at the protocol level, so the default is None."""
        return None
