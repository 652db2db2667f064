"""WebSocket plumbing for live market data: connect, subscribe and validate, heartbeats, reconnect
with backoff, resubscribe, clean shutdown (the seed's barter-integration)."""
from barter.integration.backoff import Backoff
from barter.integration.errors import IntegrationError, SubscriptionRejected, SubscriptionTimeout
from barter.integration.events import Connected, ConnectionEvent, Frame, Reconnecting
from barter.integration.protocol import ExchangeConnection, SubscriptionValidator
from barter.integration.websocket import WebSocketClient

__all__ = ["Backoff", "Connected", "ConnectionEvent", "ExchangeConnection", "Frame", "IntegrationError",
           "Reconnecting", "SubscriptionRejected", "SubscriptionTimeout", "SubscriptionValidator",
           "WebSocketClient"]
