"""A JSON subscription connection shared by OKX, Bybit, Kraken and Coinbase: requests are sent once
per connect, and a validator counts the exchange's acknowledgements until every expected one came."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

import orjson

from barter.data.exchange.events import raw_text
from barter.data.exchange.subscription import Subscription
from barter.errors import ConfigError
from barter.instrument import Market
from barter.integration.errors import SubscriptionRejected
from barter.integration.protocol import ExchangeConnection, Message, SubscriptionValidator

# An answer classifier: returns None (not an answer), the key acknowledged, or raises
# SubscriptionRejected for an error answer.
Classifier = Callable[[Any, str], Optional[str]]


class AckValidator(SubscriptionValidator):
    """Done once every key in ``expected`` has been acknowledged (keys may repeat)."""

    def __init__(self, exchange: str, expected: Iterable[str], classify: Classifier) -> None:
        self.exchange = exchange
        self._waiting: dict[str, int] = {}
        for key in expected:
            self._waiting[key] = self._waiting.get(key, 0) + 1
        self._classify = classify

    @property
    def done(self) -> bool:
        return not self._waiting

    @property
    def pending(self) -> list[str]:
        return list(self._waiting)

    def check(self, raw: Message) -> bool:
        try:
            msg = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return False
        key = self._classify(msg, raw_text(raw))
        if key is None:
            return False
        left = self._waiting.get(key)
        if left is not None:
            if left <= 1:
                del self._waiting[key]
            else:
                self._waiting[key] = left - 1
        return True


def rejected(exchange: str, what: str, reason: Any) -> SubscriptionRejected:
    return SubscriptionRejected(exchange, what, str(reason)[:300])


class JsonConnection(ExchangeConnection):
    """One WebSocket endpoint with fixed JSON requests and the acknowledgement keys they expect.

    Parameters
    ----------
    exchange, url : str
    subscriptions : iterable of Subscription
    requests : list of dict
        Sent in order on every connect.
    expected : list of str
        The acknowledgement keys ``classify`` returns, one per expected answer.
    classify : Classifier
    heartbeat : str or None
        App-level ping text sent every ``heartbeat_s`` seconds.
    """

    def __init__(self, exchange: str, url: str, subscriptions: Iterable[Subscription], requests: list[Any],
                 expected: list[str], classify: Classifier, *, heartbeat: Optional[str] = None,
                 heartbeat_s: Optional[float] = None) -> None:
        self.exchange = exchange
        self.url = url
        self.subscriptions = list(dict.fromkeys(subscriptions))
        if not self.subscriptions:
            raise ConfigError(f"{exchange}: no subscriptions")
        self._requests = [orjson.dumps(r).decode() for r in requests]
        self._expected = expected
        self._classify = classify
        self._heartbeat = heartbeat
        self.heartbeat_s = heartbeat_s if heartbeat is not None else None

    def requests(self) -> list[Message]:
        return list(self._requests)

    def validator(self) -> AckValidator:
        return AckValidator(self.exchange, self._expected, self._classify)

    def heartbeat(self) -> Message:
        if self._heartbeat is None:
            raise NotImplementedError(f"{self.exchange} has no app-level heartbeat")
        return self._heartbeat

    @property
    def markets(self) -> list[Market]:
        return list(dict.fromkeys(s.market for s in self.subscriptions))


def check_kinds(exchange: str, sub: Subscription, kinds: Iterable[Any]) -> None:
    if sub.market.exchange.name != exchange:
        raise ConfigError(f"{exchange}: subscription {sub} is for exchange {sub.market.exchange}")
    if sub.kind not in set(kinds):
        raise ConfigError(f"{exchange}: does not publish {sub.kind} (subscription {sub})")
