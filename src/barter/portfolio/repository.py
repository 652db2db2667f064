"""Where an account's state lives: in memory (default) or in Redis, with the seed's keys.

Keys for engine ``E`` (SEED.md section 2), every value JSON (never pickle) tagged with a schema:

- ``{E}_{exchange}_{instrument}_position``: the open position of a market (deleted when flat);
- ``positions_exited_{E}``: a list of exited positions in exit order (RPUSH; the seed LPUSHed and
  then read the list with GET, which always failed);
- ``{E}_balance``: every asset's total and reserved balance;
- ``statistics_{E}``: a hash of per-market statistics by the seed's ``MarketId`` (the seed keyed
  them by ``MarketId`` alone, so two engines sharing a server overwrote each other's);
- ``{E}_fills``: every fill in booking order, one list element (columns) per write; positions
  link their fills by index;
- ``{E}_ledger``: counters, open orders, and the last mark of every market.

Each change (an order, a fill) is written as one transaction (MULTI/EXEC), so a crash leaves the
state before or after it, never half of it. A missing position key means flat; a value that does
not parse or is not barter's raises ``RepositoryError`` naming the key.
"""
from __future__ import annotations

import json
import math
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Optional

from barter.errors import RepositoryError
from barter.portfolio.position import position_id

if TYPE_CHECKING:
    from barter.portfolio.account import Account

SCHEMA = "barter.account/1"
Op = tuple  # ("set", key, value) | ("del", key) | ("rpush", key, [values]) | ("hset", key, field, value)


try:  # orjson is ~10x faster; the values are the same JSON either way
    import orjson

    def _dumps(value: dict[str, Any]) -> Any:
        return orjson.dumps({"schema": SCHEMA, **value})
except ImportError:  # pragma: no cover - orjson comes with the redis and live extras
    def _dumps(value: dict[str, Any]) -> Any:
        return json.dumps({"schema": SCHEMA, **value}, allow_nan=False, separators=(",", ":"))


def _loads(key: str, raw: Any) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (TypeError, ValueError) as e:
        raise RepositoryError(f"key {key!r}: not JSON ({e}): {str(raw)[:80]!r}") from None
    if not isinstance(value, dict) or value.get("schema") != SCHEMA:
        raise RepositoryError(f"key {key!r}: not a {SCHEMA} value: {str(raw)[:80]!r}")
    return value


def _nan_to_none(x: float) -> Optional[float]:
    return None if math.isnan(x) else x


class Keys:
    """The key names of one engine."""

    def __init__(self, engine_id: str) -> None:
        self.engine_id = engine_id
        self.exited = f"positions_exited_{engine_id}"
        self.balance = f"{engine_id}_balance"
        self.statistics = f"statistics_{engine_id}"
        self.fills = f"{engine_id}_fills"
        self.ledger = f"{engine_id}_ledger"

    def position(self, market: Any) -> str:
        return position_id(self.engine_id, market)


class Repository:
    """Turns an account's changes into key/value operations and reads them back.

    Subclasses store the operations: ``_commit(ops)`` atomically, and ``_get``, ``_lrange`` and
    ``_hget`` to read.
    """

    def __init__(self) -> None:
        self._keys: Optional[Keys] = None
        self._account: Optional["Account"] = None
        self._written_fills = 0
        self._written_closed = 0
        self._stats: dict[int, dict[str, Any]] = {}
        self._dirty: set[int] = set()   # markets whose position changed since the last write
        self._stale = False             # a write failed: the next one rewrites everything
        self._batching = False

    def bind(self, account: "Account") -> None:
        """Attach to ``account`` and write its whole current state."""
        self._keys, self._account, self._stale = Keys(account.engine_id), account, True
        self._flush()

    def record(self, account: "Account", mid: int) -> None:
        """Store what an order or fill changed in market ``mid``, as one transaction (at the end
        of the batch when inside ``batch()``).

        Raises ``RepositoryError`` when the write fails; the account has booked the change all the
        same, and the next write that succeeds stores the whole account again.
        """
        self._dirty.add(mid)
        if not self._batching:
            self._flush()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Store the changes made inside as one transaction when the block ends (pipelined):
        one round trip, and each key written once. A crash inside the block loses the block's
        changes from storage (none of them was acknowledged)."""
        if self._batching:
            raise RepositoryError("batches do not nest")
        self._batching = True
        try:
            yield
        finally:
            self._batching = False
            self._flush()

    def _flush(self) -> None:
        saved = self._written_fills, self._written_closed, {k: dict(v) for k, v in self._stats.items()}
        try:
            self._commit(self._everything() if self._stale else self._changes())
        except Exception as e:
            self._stale = True
            self._written_fills, self._written_closed, self._stats = saved
            raise RepositoryError(f"engine {self.keys.engine_id!r}: change not stored ({e!r}); "
                                  "the next successful write stores the whole account") from e
        finally:
            self._dirty.clear()
        self._stale = False

    # -- writing ------------------------------------------------------------------------------------

    def _everything(self) -> list[Op]:
        self._written_fills, self._written_closed, self._stats = 0, 0, {}
        self._dirty = set(range(len(self.account.markets)))
        return [("del", self.keys.fills), ("del", self.keys.exited), ("del", self.keys.statistics),
                *self._changes()]

    def _changes(self) -> list[Op]:
        return [*(self._position_op(mid) for mid in sorted(self._dirty)), *self._fill_ops(),
                *self._closed_ops(), *self._common_ops(self.account)]

    def _position_op(self, mid: int) -> Op:
        key = self.keys.position(self.account.markets[mid])
        h = self.account.ledger.holding(mid)
        if h["position_id"] < 0:
            return ("del", key)
        return ("set", key, _dumps({"market_id": mid, "holding": _holding(h)}))

    def _fill_ops(self) -> list[Op]:
        """New fills as one list element: columns of values from ``first`` on (a value per fill
        would cost a JSON object and a Redis argument each)."""
        ledger = self.account.ledger
        first, self._written_fills = self._written_fills, ledger.n_fills
        if first == ledger.n_fills:
            return []
        rows = ledger.fills_array(first, ledger.n_fills)
        columns = {name: rows[name].tolist() for name in rows.dtype.names or ()}
        return [("rpush", self.keys.fills, [_dumps({"first": first, "columns": columns})])]

    def _closed_ops(self) -> list[Op]:
        ledger, markets = self.account.ledger, self.account.markets
        first, self._written_closed = self._written_closed, ledger.n_closed
        new = [ledger.closed(k) for k in range(first, ledger.n_closed)]
        if not new:
            return []
        for c in new:
            _add_exit(self._stats.setdefault(c["market_id"], _no_statistics()), c)
        return [("rpush", self.keys.exited, [_dumps({"index": first + i, **c}) for i, c in enumerate(new)]),
                *(("hset", self.keys.statistics, markets[mid].market_id, _dumps(self._stats[mid]))
                  for mid in sorted({c["market_id"] for c in new}))]

    def _common_ops(self, account: "Account") -> list[Op]:
        ledger = account.ledger
        balance = {"assets": account.assets, "total": [ledger.total(a) for a in range(ledger.n_assets)],
                   "reserved": [ledger.reserved(a) for a in range(ledger.n_assets)]}
        marks = [(_nan_to_none(h["mark"]), h["update_time_ns"])
                 for h in map(ledger.holding, range(ledger.n_markets))]
        meta = {"markets": [str(m) for m in account.markets], "n_fills": ledger.n_fills,
                "n_closed": ledger.n_closed, "next_position_id": ledger.next_position_id,
                "next_order_id": account.next_order_id,
                "orders": [account._order_state(o) for o in account.orders.values()], "marks": marks}
        return [("set", self.keys.balance, _dumps(balance)), ("set", self.keys.ledger, _dumps(meta))]

    @property
    def account(self) -> "Account":
        if self._account is None:
            raise RepositoryError("the repository is not bound to an account yet")
        return self._account

    @property
    def keys(self) -> Keys:
        if self._keys is None:
            raise RepositoryError("the repository is not bound to an account yet")
        return self._keys

    # -- reading ------------------------------------------------------------------------------------

    def load(self, account: "Account") -> None:
        """Restore ``account`` (freshly built with the same markets and engine id) from storage,
        then keep recording its changes here."""
        keys = Keys(account.engine_id)
        meta = self._read(keys.ledger)
        if meta.get("markets") != [str(m) for m in account.markets]:
            raise RepositoryError(f"key {keys.ledger!r}: markets {meta.get('markets')} differ from the "
                                  f"account's {[str(m) for m in account.markets]}")
        balance = self._read(keys.balance)
        if balance.get("assets") != account.assets:
            raise RepositoryError(f"key {keys.balance!r}: assets {balance.get('assets')} differ from {account.assets}")
        try:
            state = {
                "balances": balance["total"], "reserved": balance["reserved"],
                "holdings": [self._holding(keys, account, mid, mark) for mid, mark in enumerate(meta["marks"])],
                "fills": self._fills(keys.fills, meta["n_fills"]),
                "closed": self._list(keys.exited, meta["n_closed"]),
                "next_position_id": meta["next_position_id"],
            }
            account.restore({"ledger": state, "next_order_id": meta["next_order_id"], "orders": meta["orders"]})
        except (KeyError, TypeError, ValueError) as e:
            raise RepositoryError(f"engine {account.engine_id!r}: stored state is incomplete or corrupt ({e!r})") from None
        self._keys, self._account = keys, account
        self._written_fills, self._written_closed = meta["n_fills"], meta["n_closed"]
        self._stats = {mid: self.statistics(m) for mid, m in enumerate(account.markets)}
        account.repository = self

    def _holding(self, keys: Keys, account: "Account", mid: int, mark: list[Any]) -> dict[str, Any]:
        key = keys.position(account.markets[mid])
        raw = self._get(key)
        if raw is None:
            return _flat(mark)
        h = self._parse(key, raw).get("holding")
        if not isinstance(h, dict):
            raise RepositoryError(f"key {key!r}: no holding in the stored position")
        return {**h, "mark": math.nan if h["mark"] is None else h["mark"]}

    def _list(self, key: str, expected: int) -> list[dict[str, Any]]:
        rows = [self._parse(key, raw) for raw in self._lrange(key)]
        if len(rows) != expected or any(r.get("index") != i for i, r in enumerate(rows)):
            raise RepositoryError(f"key {key!r}: holds {len(rows)} entries out of order or missing, expected {expected}")
        for r in rows:
            del r["index"], r["schema"]
        return rows

    def _fills(self, key: str, expected: int) -> list[dict[str, Any]]:
        fills: list[dict[str, Any]] = []
        for raw in self._lrange(key):
            chunk = self._parse(key, raw)
            columns = chunk.get("columns")
            if chunk.get("first") != len(fills) or not isinstance(columns, dict):
                raise RepositoryError(f"key {key!r}: a chunk of fills is missing or out of order at fill {len(fills)}")
            fills += [dict(zip(columns, values)) for values in zip(*columns.values())]
        if len(fills) != expected:
            raise RepositoryError(f"key {key!r}: holds {len(fills)} fills, expected {expected}")
        return fills

    def _read(self, key: str) -> dict[str, Any]:
        raw = self._get(key)
        if raw is None:
            raise RepositoryError(f"key {key!r} is missing: nothing stored for this engine")
        return self._parse(key, raw)

    @staticmethod
    def _parse(key: str, raw: Any) -> dict[str, Any]:
        return _loads(key, raw)

    def statistics(self, market: Any) -> dict[str, Any]:
        """The stored per-market statistics (positions, wins, losses, realised, fees)."""
        raw = self._hget(self.keys.statistics, market.market_id)
        if raw is None:
            return _no_statistics()
        value = _loads(f"{self.keys.statistics}[{market.market_id}]", raw)
        del value["schema"]
        return value

    # -- storage primitives -------------------------------------------------------------------------

    def _commit(self, ops: Iterable[Op]) -> None:
        raise NotImplementedError

    def _get(self, key: str) -> Any:
        raise NotImplementedError

    def _lrange(self, key: str) -> list[Any]:
        raise NotImplementedError

    def _hget(self, key: str, field: str) -> Any:
        raise NotImplementedError


class InMemoryRepository(Repository):
    """The default: the same values as Redis would hold, in dicts (so both share every code path)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, Any] = {}

    def _commit(self, ops: Iterable[Op]) -> None:
        for op in ops:
            if op[0] == "set":
                self.values[op[1]] = op[2]
            elif op[0] == "del":
                self.values.pop(op[1], None)
            elif op[0] == "rpush":
                self.values.setdefault(op[1], []).extend(op[2])
            else:
                self.values.setdefault(op[1], {})[op[2]] = op[3]

    def _get(self, key: str) -> Any:
        value = self.values.get(key)
        if value is not None and not isinstance(value, (str, bytes)):
            raise RepositoryError(f"key {key!r} holds a {type(value).__name__}, not a string")
        return value

    def _lrange(self, key: str) -> list[Any]:
        return list(self.values.get(key, []))

    def _hget(self, key: str, field: str) -> Any:
        return self.values.get(key, {}).get(field)


class RedisRepository(Repository):
    """Account state in Redis (redis-py). Each change is one MULTI/EXEC transaction.

    Parameters
    ----------
    url : str
        e.g. ``redis://127.0.0.1:6379/0``.
    """

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", client: Any = None) -> None:
        super().__init__()
        if client is None:
            import redis  # optional dependency: the `redis` extra
            client = redis.Redis.from_url(url)
        self.client = client

    def _commit(self, ops: Iterable[Op]) -> None:
        pipe = self.client.pipeline(transaction=True)
        for op in ops:
            if op[0] == "set":
                pipe.set(op[1], op[2])
            elif op[0] == "del":
                pipe.delete(op[1])
            elif op[0] == "rpush":
                pipe.rpush(op[1], *op[2])
            else:
                pipe.hset(op[1], op[2], op[3])
        pipe.execute()

    def _get(self, key: str) -> Any:
        import redis
        try:
            return self.client.get(key)
        except redis.ResponseError as e:  # WRONGTYPE: a foreign value under our key
            raise RepositoryError(f"key {key!r}: {e}") from None

    def _lrange(self, key: str) -> list[Any]:
        import redis
        try:
            return self.client.lrange(key, 0, -1)
        except redis.ResponseError as e:
            raise RepositoryError(f"key {key!r}: {e}") from None

    def _hget(self, key: str, field: str) -> Any:
        return self.client.hget(key, field)


def _holding(h: dict[str, Any]) -> dict[str, Any]:
    return {**h, "mark": _nan_to_none(h["mark"])}


def _flat(mark: list[Any]) -> dict[str, Any]:
    price, t = mark
    return {"quantity": 0.0, "avg_price": 0.0, "realised": 0.0, "fees": 0.0, "max_quantity": 0.0,
            "mark": math.nan if price is None else price, "open_time_ns": -2**63, "update_time_ns": t,
            "position_id": -1, "last_fill": -1}


def _no_statistics() -> dict[str, Any]:
    return {"positions": 0, "wins": 0, "losses": 0, "realised": 0.0, "fees": 0.0}


def _add_exit(stats: dict[str, Any], closed: dict[str, Any]) -> None:
    stats["positions"] += 1
    stats["wins"] += closed["realised"] > 0
    stats["losses"] += closed["realised"] < 0
    stats["realised"] += closed["realised"]
    stats["fees"] += closed["fees"]
