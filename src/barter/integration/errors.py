"""Errors of the WebSocket/REST plumbing: each names the exchange and what failed."""
from __future__ import annotations

from barter.errors import BarterError


class IntegrationError(BarterError):
    """A connection to an exchange that cannot be used."""


class SubscriptionRejected(IntegrationError):
    """The exchange answered a subscription request with an error. Terminal: retrying the same
    request would be rejected again, so the client stops instead of reconnecting.

    Attributes
    ----------
    exchange : str
    subscription : str
        The rejected request (or the part of it the exchange named).
    reason : str
        The exchange's own error text.
    """

    def __init__(self, exchange: str, subscription: str, reason: str) -> None:
        self.exchange, self.subscription, self.reason = exchange, subscription, reason
        super().__init__(f"{exchange}: subscription {subscription} rejected: {reason}")


class SubscriptionTimeout(IntegrationError):
    """No answer to a subscription request within the timeout (the connection is retried)."""

    def __init__(self, exchange: str, pending: list[str], timeout_s: float) -> None:
        self.exchange, self.pending, self.timeout_s = exchange, pending, timeout_s
        super().__init__(f"{exchange}: no answer to subscription(s) {', '.join(pending)} within {timeout_s} s")
