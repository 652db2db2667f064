"""Repositories: the account written as it changes and read back exactly, in memory and in a real
redis-server (started by the test), through a SIGKILL; corrupt or foreign values name their key."""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest

from barter.errors import RepositoryError
from barter.instrument import Market
from barter.portfolio.account import Account
from barter.portfolio.repository import InMemoryRepository, RedisRepository

BTC = Market("binance", ("btc", "usd"))
GOOG = Market("nasdaq", ("goog", "usd"))
ETHBTC = Market("binance", ("eth", "btc"))
MARKETS = [BTC, GOOG, ETHBTC]
START = {"usd": 1_000_000.0, "btc": 2.0}


def new_account(repository=None, engine_id: str = "engine-1") -> Account:
    return Account(MARKETS, START, "usd", engine_id=engine_id, repository=repository, allow_margin=True)


def operations(data_dir: Path, n: int) -> list[Callable[[Account], object]]:
    """Orders and partial fills on real closes (BTCUSD monthly, GOOG daily), buys and sells of
    varying size, so positions open, grow, shrink, close and flip."""
    btc = pd.read_csv(data_dir / "prices/crypto/BTCUSD.csv")["Close"].to_numpy()
    goog = pd.read_csv(data_dir / "prices/equity_daily/GOOG.csv")["Close"].to_numpy()
    rng = np.random.default_rng(11)
    ops: list[Callable[[Account], object]] = []
    for i in range(n):
        market = MARKETS[i % 3]
        price = {0: btc[i % len(btc)], 1: goog[i % len(goog)], 2: 0.05 + 0.01 * np.sin(i)}[i % 3]
        size = float(rng.integers(1, 6)) * (0.01 if market is not GOOG else 1.0)
        qty = size if rng.random() < 0.55 else -size
        t = 1_000 + i
        ops.append(lambda a, m=market, q=qty, p=float(price), t=t: a.submit(m, q, p, t))
        ops.append(lambda a, q=qty / 2, p=float(price), t=t: a.fill(a.next_order_id - 1, q, p, abs(q) * p * 1e-3, t))
        ops.append(lambda a, q=qty / 2, p=float(price), t=t: a.fill(a.next_order_id - 1, q, p, abs(q) * p * 1e-3, t))
    return ops


def same(a: Account, b: Account) -> bool:
    return json.dumps(a.state(), sort_keys=True) == json.dumps(b.state(), sort_keys=True)


def test_in_memory_round_trip(data_dir: Path) -> None:
    repo = InMemoryRepository()
    account = new_account(repo)
    for op in operations(data_dir, 200):
        op(account)
    assert account.ledger.n_closed >= 5 and account.open_positions()
    restored = new_account()
    repo.load(restored)
    assert same(account, restored)
    assert restored.exited_positions() == account.exited_positions()
    stats = repo.statistics(BTC)
    btc_exits = [p for p in account.exited_positions() if p.market == BTC]
    assert stats["positions"] == len(btc_exits)
    assert stats["realised"] == pytest.approx(sum(p.realised for p in btc_exits), rel=1e-12)


def test_seed_key_formats() -> None:
    repo = InMemoryRepository()
    account = new_account(repo, engine_id="e7")
    order = account.submit(BTC, 0.5, 100.0, 1)
    account.fill(order, 0.5, 100.0, 0.1, 2)
    order = account.submit(BTC, -0.5, 110.0, 3)
    account.fill(order, -0.5, 110.0, 0.1, 4)
    order = account.submit(GOOG, 1.0, 50.0, 5)
    account.fill(order, 1.0, 50.0, 0.0, 6)
    keys = set(repo.values)
    assert "e7_nasdaq_(goog_usd, spot)_position" in keys  # open
    assert "e7_binance_(btc_usd, spot)_position" not in keys  # flat
    assert {"positions_exited_e7", "e7_balance", "statistics_e7"} <= keys
    assert list(repo.values["statistics_e7"]) == ["binance_btc_usd_spot"]
    assert len(repo.values["positions_exited_e7"]) == 1


@pytest.mark.parametrize("key, value, kind", [
    ("e_balance", "not json", "not JSON"),
    ("e_balance", json.dumps({"schema": "someone.else/2", "total": [1]}), "not a barter.account/1 value"),
    ("e_ledger", json.dumps([1, 2, 3]), "not a barter.account/1 value"),
])
def test_corrupt_value_names_its_key(key: str, value: str, kind: str) -> None:
    repo = InMemoryRepository()
    account = new_account(repo, engine_id="e")
    account.fill(account.submit(BTC, 0.1, 100.0, 1), 0.1, 100.0, 0.0, 1)
    repo.values[key] = value
    with pytest.raises(RepositoryError, match=f"{key}.*{kind}"):
        repo.load(new_account(engine_id="e"))


def test_missing_fill_is_detected() -> None:
    repo = InMemoryRepository()
    account = new_account(repo, engine_id="e")
    account.fill(account.submit(BTC, 0.1, 100.0, 1), 0.1, 100.0, 0.0, 1)
    account.fill(account.submit(BTC, 0.1, 100.0, 2), 0.1, 100.0, 0.0, 2)
    repo.values["e_fills"].pop()
    with pytest.raises(RepositoryError, match="e_fills"):
        repo.load(new_account(engine_id="e"))


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_unmarked_market_restores_to_an_equal_state(kind: str, request: pytest.FixtureRequest) -> None:
    """docs/portfolio.md's check ``restored.state() == account.state()`` with a market never
    marked (its mark was NaN, which equals nothing)."""
    if kind == "memory":
        repo = InMemoryRepository()
        reader = repo
    else:
        url = request.getfixturevalue("redis_server").url
        repo, reader = RedisRepository(url), RedisRepository(url)
    account = new_account(repo)
    order = account.submit(BTC, 0.5, 100.0, 1)
    account.fill(order, 0.25, 100.0, 0.1, 2)  # GOOG and ETHBTC never marked; an order stays open
    restored = new_account()
    reader.load(restored)
    assert restored.state() == account.state()
    assert account.state() == account.state()


def test_redis_round_trip_and_foreign_values(redis_server, data_dir: Path) -> None:
    repo = RedisRepository(redis_server.url)
    account = new_account(repo)
    for op in operations(data_dir, 60):
        op(account)
    restored = new_account()
    RedisRepository(redis_server.url).load(restored)
    assert same(account, restored)
    client = repo.client
    client.delete("engine-1_fills")
    client.set("engine-1_fills", "a string where a list belongs")
    with pytest.raises(RepositoryError, match="engine-1_fills"):
        RedisRepository(redis_server.url).load(new_account())
    client.hset("engine-1_balance-x", "a", "b")
    client.rename("engine-1_balance-x", "engine-1_balance")
    with pytest.raises(RepositoryError, match="engine-1_balance"):
        RedisRepository(redis_server.url).load(new_account())


def test_redis_sigkill_mid_run_loses_nothing_acknowledged(redis_server, data_dir: Path) -> None:
    import redis

    ops = operations(data_dir, 400)
    client = redis.Redis.from_url(redis_server.url, socket_timeout=2)
    account = new_account(RedisRepository(client=client))
    acknowledged = 0
    killer = threading.Timer(0.3, redis_server.kill)
    killer.start()
    for op in ops:
        try:
            op(account)
        except RepositoryError:
            break  # the server is gone: this change was booked but not acknowledged as stored
        acknowledged += 1
    killer.join()
    assert 0 < acknowledged < len(ops), "the kill must land mid-run"

    redis_server.start()  # same directory: the append-only file is replayed
    reloaded = new_account()
    RedisRepository(redis_server.url).load(reloaded)
    # the stored state is every acknowledged change, plus at most the one in flight
    replica = new_account()
    done = 0
    while not same(replica, reloaded) and done <= acknowledged:
        ops[done](replica)
        done += 1
    assert same(replica, reloaded) and done in (acknowledged, acknowledged + 1)

    # and it carries on exactly where it stopped
    for op in ops[done:]:
        op(reloaded)
        op(replica)
    assert same(replica, reloaded)
    again = new_account()
    RedisRepository(redis_server.url).load(again)
    assert same(again, replica)
