"""Backtest configuration files (TOML): read, validate and build the engine they describe.

A config names markets and their data files, a strategy, an allocator and a risk manager (each an
import path and its keyword arguments), the portfolio, execution fees, statistics settings and
where to save the result::

    [[markets]]
    exchange = "binance"
    base = "btc"
    quote = "usdt"
    kind = "perpetual"
    data = "btc-perp-1m.csv"

    [strategy]
    path = "barter.strategy:RSIStrategy"
    params = { rsi_period = 14 }

Every key is checked before anything runs. An error names the file, the section and the key and
says what was expected (``config.toml: [portfolio] starting_cash must be a number > 0, got "abc"``);
unknown sections and keys are errors. The full reference is ``docs/configuration.md``.
"""
from __future__ import annotations

import difflib
import importlib
import json
import math
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Union

from barter.errors import ConfigError
from barter.instrument import InstrumentKind, Market

PathLike = Union[str, Path]

SECTIONS = ("markets", "strategy", "allocator", "risk", "portfolio", "execution", "statistics", "output")
MARKET_KEYS = ("exchange", "base", "quote", "kind", "data", "time_column", "time_unit", "bad_rows")
OBJECT_KEYS = ("path", "params")  # [strategy], [allocator], [risk]
PORTFOLIO_KEYS = ("starting_cash", "order_value", "size_decimals")
EXECUTION_KEYS = ("fees",)
FEE_KEYS = ("exchange", "slippage", "network")
STATISTICS_KEYS = ("starting_equity", "trading_days_per_year", "risk_free_return")
OUTPUT_KEYS = ("directory", "tear_sheet", "prices")
TIME_UNITS = ("s", "ms", "us", "ns")
DEFAULT_STRATEGY = "barter.strategy:RSIStrategy"
DEFAULT_ALLOCATOR = "barter.portfolio:DefaultAllocator"
DEFAULT_RISK = "barter.portfolio:DefaultRisk"


class ConfigFileError(ConfigError):
    """A configuration file that cannot be used; the message names the file, section and key."""


@dataclass(frozen=True, slots=True)
class MarketConfig:
    """One ``[[markets]]`` entry: the market and its historic candles.

    Attributes
    ----------
    market : Market
    data : pathlib.Path
        Candles file (CSV, Parquet or JSON), resolved against the config file's directory.
    time_column : str or None
        Time column of a CSV/Parquet file (default: inferred).
    time_unit : str or None
        Unit of a numeric time column: ``"s"``, ``"ms"``, ``"us"`` or ``"ns"`` (default: inferred).
    bad_rows : str
        ``"raise"`` (default) or ``"drop"`` (bad rows dropped with a warning).
    """

    market: Market
    data: Path
    time_column: Optional[str] = None
    time_unit: Optional[str] = None
    bad_rows: str = "raise"


@dataclass(frozen=True, slots=True)
class ObjectConfig:
    """A section naming a class or factory by import path, and its keyword arguments.

    ``[strategy]`` (``factory(**params)`` once per market), ``[allocator]`` and ``[risk]`` (once, for
    the shared portfolio). ``path`` is ``"module:Name"``.
    """

    path: str = DEFAULT_STRATEGY
    params: Mapping[str, Any] = field(default_factory=dict)
    factory: Callable[..., Any] = field(default=None, compare=False)  # type: ignore[assignment]

    @property
    def name(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.path.rpartition(':')[2]}({args})"


StrategyConfig = ObjectConfig  # the [strategy] section's type (its earlier name)


@dataclass(frozen=True, slots=True)
class BacktestConfig:
    """A validated backtest configuration.

    Attributes
    ----------
    source : pathlib.Path
        The TOML file it was read from.
    markets : tuple of MarketConfig
    strategy : ObjectConfig
    allocator, risk : ObjectConfig or None
        ``[allocator]`` and ``[risk]``; None: ``DefaultAllocator(order_value, size_decimals)`` and
        ``DefaultRisk()``.
    starting_cash : float
        Quote currency.
    order_value : float
        Entry size, quote currency.
    size_decimals : int or None
        Decimals of base units entry quantities are floored to (None: no rounding).
    fees : dict
        ``exchange``, ``slippage``, ``network`` as fractions of the fill value.
    starting_equity : float or None
        Quote currency; None means ``starting_cash``.
    trading_days_per_year : int
    risk_free_return : float
        Per trade, as a fraction.
    output : pathlib.Path or None
        Run directory to save the result in.
    tear_sheet : bool
        Write ``tear_sheet.html`` into ``output``.
    save_prices : bool
        Save the traded prices with the result.
    raw : dict
        The TOML document as parsed.
    """

    source: Path
    markets: tuple[MarketConfig, ...]
    strategy: ObjectConfig
    starting_cash: float = 10_000.0
    order_value: float = 100.0
    size_decimals: Optional[int] = 4
    fees: Mapping[str, float] = field(default_factory=lambda: {"exchange": 0.001, "slippage": 0.0005,
                                                                "network": 0.0})
    starting_equity: Optional[float] = None
    trading_days_per_year: int = 365
    risk_free_return: float = 0.0
    output: Optional[Path] = None
    tear_sheet: bool = True
    save_prices: bool = True
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)
    allocator: Optional[ObjectConfig] = None
    risk: Optional[ObjectConfig] = None


# --------------------------------------------------------------------------- checking

def _show(value: Any) -> str:
    """A value as it would look in TOML (strings in double quotes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return str(value)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class _Checker:
    """Builds error messages of the form ``file: [section] key must be ..., got ...``."""

    def __init__(self, source: Path) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> ConfigFileError:
        prefix = f"{self.source.name}: " + (f"[{where}] " if where else "")
        return ConfigFileError(_one_line(prefix + message))

    def table(self, doc: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
        value = doc.get(key, {})
        if not isinstance(value, dict):
            raise self.fail("", f"{key} must be a table [{key}], got {_show(value)}")
        return value

    def known(self, table: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"; did you mean {_show(close[0])}?" if close else f"; expected one of {', '.join(allowed)}"
                what = f"unknown section [{key}]" if not where else f"unknown key {_show(key)}"
                raise self.fail(where, what + hint)

    def number(self, table: Mapping[str, Any], key: str, where: str, default: Optional[float], *,
               minimum: float, inclusive: bool) -> Optional[float]:
        if key not in table:
            return default
        value = table[key]
        op = ">=" if inclusive else ">"
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
              and (value >= minimum if inclusive else value > minimum))
        if not ok:
            raise self.fail(where, f"{key} must be a number {op} {minimum:g}, got {_show(value)}")
        return float(value)

    def fee_rate(self, table: Mapping[str, Any], key: str, where: str, default: float) -> float:
        """A ``SimulatedExecution`` rate: exchange in (-1, 1) (negative: a rebate), others in [0, 1)."""
        from barter.execution.simulated import fee_rate_ok, fee_rate_range

        if key not in table:
            return default
        value = table[key]
        if not fee_rate_ok(key, value):
            raise self.fail(where, f"{key} must be a number in {fee_rate_range(key)}, got {_show(value)}")
        return float(value)

    def finite(self, table: Mapping[str, Any], key: str, where: str, default: float) -> float:
        if key not in table:
            return default
        value = table[key]
        if not (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)):
            raise self.fail(where, f"{key} must be a finite number, got {_show(value)}")
        return float(value)

    def integer(self, table: Mapping[str, Any], key: str, where: str, default: int, lo: int,
                hi: Optional[int] = None) -> int:
        if key not in table:
            return default
        value = table[key]
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= lo
                and (hi is None or value <= hi)):
            rng = f"in [{lo}, {hi}]" if hi is not None else f">= {lo}"
            raise self.fail(where, f"{key} must be an integer {rng}, got {_show(value)}")
        return value

    def string(self, table: Mapping[str, Any], key: str, where: str, default: Optional[str] = None, *,
               required: bool = False, choices: Optional[tuple[str, ...]] = None) -> Optional[str]:
        if key not in table:
            if required:
                raise self.fail(where, f"{key} is required (a string)")
            return default
        value = table[key]
        if not isinstance(value, str) or not value:
            raise self.fail(where, f"{key} must be a non-empty string, got {_show(value)}")
        if choices is not None and value.lower() not in choices:
            raise self.fail(where, f"{key} must be one of {', '.join(choices)}, got {_show(value)}")
        return value

    def boolean(self, table: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
        if key not in table:
            return default
        value = table[key]
        if not isinstance(value, bool):
            raise self.fail(where, f"{key} must be true or false, got {_show(value)}")
        return value

    def path(self, table: Mapping[str, Any], key: str, where: str, *, required: bool) -> Optional[Path]:
        text = self.string(table, key, where, required=required)
        if text is None:
            return None
        path = Path(text).expanduser()
        return path if path.is_absolute() else self.source.parent / path


# --------------------------------------------------------------------------- strategy import

def import_object(path: str) -> Any:
    """``"package.module:Name"`` (or ``"package.module.Name"``) → the object; ``ImportError`` or
    ``AttributeError`` with a one-line message when it cannot be found."""
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise ImportError(f"expected \"module:Name\", got {_show(path)}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(f"cannot import module {module_name!r} ({_one_line(str(exc))})") from None
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AttributeError(f"module {module_name!r} has no attribute {attr!r}") from None
    return obj


# What each object section must make: (method the engine calls, how it is called).
_CONTRACTS = {
    "strategy": ("generate_signal", "generate_signal(market)"),
    "allocator": ("allocate_order", "allocate_order(order, position, strength)"),
    "risk": ("evaluate_order", "evaluate_order(order)"),
}


def _import_factory(chk: _Checker, where: str, path: str) -> Callable[..., Any]:
    """The class or function ``path`` names; modules beside the config file can be imported."""
    here = str(chk.source.parent.resolve())
    added = here not in sys.path
    if added:
        sys.path.insert(0, here)
    try:
        factory = import_object(path)
    except (ImportError, AttributeError) as exc:
        raise chk.fail(where, f"path {_show(path)} cannot be imported: {exc}") from None
    except Exception as exc:  # the module itself raised while importing
        raise chk.fail(where, f"path {_show(path)}: importing it raised "
                              f"{type(exc).__name__}: {exc}") from None
    finally:
        if added and here in sys.path:
            sys.path.remove(here)
    if not callable(factory):
        raise chk.fail(where, f"path {_show(path)} must name a class or function, got {type(factory).__name__}")
    return factory


def _object_section(chk: _Checker, table: Mapping[str, Any], where: str, default_path: str) -> ObjectConfig:
    """``[where]``: ``path`` and ``params``, imported and made once now (bad params fail before any data)."""
    chk.known(table, OBJECT_KEYS, where)
    path = chk.string(table, "path", where, default_path)
    assert path is not None
    params = table.get("params", {})
    if not isinstance(params, dict):
        raise chk.fail(where, f"params must be a table of keyword arguments, got {_show(params)}")
    config = ObjectConfig(path, dict(params), _import_factory(chk, where, path))
    make_object(config, where, chk.source)
    return config


def make_object(config: ObjectConfig, where: str, source: Optional[Path] = None) -> Any:
    """A new object of section ``where`` (``strategy``, ``allocator`` or ``risk``):
    ``config.factory(**config.params)``, checked for the method the engine calls on it."""
    chk = _Checker(source or Path("config"))
    try:
        made = config.factory(**config.params)
    except TypeError as exc:
        raise chk.fail(where, f"params do not fit {config.path}: {exc}") from None
    except Exception as exc:
        raise chk.fail(where, f"params rejected by {config.path}: {type(exc).__name__}: {exc}") from None
    method, call = _CONTRACTS[where]
    from barter.strategy.base import PrecomputedSignals

    if not (callable(getattr(made, method, None)) or (where == "strategy" and isinstance(made, PrecomputedSignals))):
        raise chk.fail(where, f"path {_show(config.path)} must make an object with the method {call}, "
                              f"got {type(made).__name__}")
    return made


def make_strategy(config: ObjectConfig, source: Optional[Path] = None) -> Any:
    """A new strategy: ``config.factory(**config.params)``, checked for ``generate_signal``."""
    return make_object(config, "strategy", source)


def _allocator(chk: _Checker, doc: Mapping[str, Any]) -> Optional[ObjectConfig]:
    """``[allocator]``, or None for the default one sized by ``[portfolio]``; not both."""
    if "allocator" not in doc:
        return None
    shorthand = [k for k in ("order_value", "size_decimals") if k in doc.get("portfolio", {})]
    if shorthand:
        raise chk.fail("portfolio", f"{shorthand[0]} sizes the default allocator; with an [allocator] "
                                    f"section pass it in [allocator] params instead")
    return _object_section(chk, doc["allocator"], "allocator", DEFAULT_ALLOCATOR)


# --------------------------------------------------------------------------- whole file

def _markets(chk: _Checker, doc: Mapping[str, Any]) -> tuple[MarketConfig, ...]:
    entries = doc.get("markets")
    if entries is None:
        raise chk.fail("", "[[markets]] is required: at least one market with a data file")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise chk.fail("", f"markets must be an array of tables [[markets]], got {_show(entries)}")
    kinds = tuple(k.name.lower() for k in InstrumentKind)
    out = []
    for n, entry in enumerate(entries, 1):
        where = "markets" if len(entries) == 1 else f"markets #{n}"
        chk.known(entry, MARKET_KEYS, where)
        exchange = chk.string(entry, "exchange", where, "simulated")
        base = chk.string(entry, "base", where, required=True)
        quote = chk.string(entry, "quote", where, required=True)
        kind = chk.string(entry, "kind", where, "spot", choices=kinds)
        data = chk.path(entry, "data", where, required=True)
        assert exchange and base and quote and kind and data
        if not data.is_file():
            raise chk.fail(where, f"data file not found: {data}")
        unit = chk.string(entry, "time_unit", where, None, choices=TIME_UNITS)
        market = Market(exchange, (base, quote, kind))
        bad_rows = chk.string(entry, "bad_rows", where, "raise", choices=("raise", "drop"))
        assert bad_rows
        out.append(MarketConfig(market, data, chk.string(entry, "time_column", where), unit, bad_rows.lower()))
    ids = [m.market.market_id for m in out]
    for market_id in ids:
        if ids.count(market_id) > 1:
            raise chk.fail("", f"markets must be distinct, {market_id} is named {ids.count(market_id)} times")
    return tuple(out)


def parse_config(doc: Mapping[str, Any], source: PathLike = "config.toml") -> BacktestConfig:
    """Validate a parsed TOML document (``source`` names it in errors and anchors relative paths)."""
    chk = _Checker(Path(source))
    chk.known(doc, SECTIONS, "")
    for name in SECTIONS[1:]:
        chk.table(doc, name, name)
    markets = _markets(chk, doc)
    strategy = _object_section(chk, doc.get("strategy", {}), "strategy", DEFAULT_STRATEGY)
    allocator = _allocator(chk, doc)
    risk = _object_section(chk, doc["risk"], "risk", DEFAULT_RISK) if "risk" in doc else None

    pf = doc.get("portfolio", {})
    chk.known(pf, PORTFOLIO_KEYS, "portfolio")
    starting_cash = chk.number(pf, "starting_cash", "portfolio", 10_000.0, minimum=0, inclusive=False)
    order_value = chk.number(pf, "order_value", "portfolio", 100.0, minimum=0, inclusive=False)
    size_decimals: Optional[int] = 4
    if pf.get("size_decimals") is False:
        size_decimals = None
    else:
        try:
            size_decimals = chk.integer(pf, "size_decimals", "portfolio", 4, 0, 12)
        except ConfigFileError:
            raise chk.fail("portfolio", f"size_decimals must be an integer in [0, 12] or false, "
                                        f"got {_show(pf['size_decimals'])}") from None

    ex = doc.get("execution", {})
    chk.known(ex, EXECUTION_KEYS, "execution")
    fees_table = ex.get("fees", {})
    if not isinstance(fees_table, dict):
        raise chk.fail("execution", f"fees must be a table, got {_show(fees_table)}")
    chk.known(fees_table, FEE_KEYS, "execution.fees")
    defaults = {"exchange": 0.001, "slippage": 0.0005, "network": 0.0}
    fees = {k: chk.fee_rate(fees_table, k, "execution.fees", defaults[k]) for k in FEE_KEYS}

    st = doc.get("statistics", {})
    chk.known(st, STATISTICS_KEYS, "statistics")
    starting_equity = chk.number(st, "starting_equity", "statistics", None, minimum=0, inclusive=False)
    days = chk.integer(st, "trading_days_per_year", "statistics", 365, 1)
    risk_free = chk.finite(st, "risk_free_return", "statistics", 0.0)

    out = doc.get("output", {})
    chk.known(out, OUTPUT_KEYS, "output")
    return BacktestConfig(
        source=chk.source, markets=markets, strategy=strategy,
        starting_cash=starting_cash or 10_000.0, order_value=order_value or 100.0,
        size_decimals=size_decimals, fees=fees, starting_equity=starting_equity,
        trading_days_per_year=days, risk_free_return=risk_free,
        output=chk.path(out, "directory", "output", required=False),
        tear_sheet=chk.boolean(out, "tear_sheet", "output", True),
        save_prices=chk.boolean(out, "prices", "output", True),
        raw=dict(doc), allocator=allocator, risk=risk,
    )


def load_config(path: PathLike) -> BacktestConfig:
    """Read and validate a TOML backtest configuration.

    Raises
    ------
    ConfigFileError
        The file is missing, is not valid TOML, or a key is unknown, missing, of the wrong type or
        out of range; the one-line message names the file, section and key.
    """
    source = Path(path)
    if not source.is_file():
        raise ConfigFileError(f"config file not found: {source}")
    try:
        with source.open("rb") as fh:
            doc = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(_one_line(f"{source.name}: invalid TOML: {exc}")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(_one_line(f"{source.name}: cannot be read: {exc}")) from None
    return parse_config(doc, source)


# --------------------------------------------------------------------------- building

def load_market_data(m: MarketConfig) -> Any:
    """The market's candles, read with ``barter.data.HistoricalCandles.from_file`` (by file name)."""
    from barter.data.historic import HistoricalCandles

    return HistoricalCandles.from_file(m.data, time_column=m.time_column, time_unit=m.time_unit,
                                       bad_rows=m.bad_rows)  # type: ignore[arg-type]  # checked: raise/drop


def build_engine(config: BacktestConfig, data: Optional[list[Any]] = None, *, record_equity: bool = True) -> Any:
    """The ``barter.Engine`` a config describes: one trader per market sharing one portfolio.

    ``data`` are the markets' candles in order (read from the files when None).
    """
    from barter.engine.engine import Engine, Trader
    from barter.execution.events import Fees
    from barter.execution.simulated import SimulatedExecution
    from barter.portfolio.allocator import DefaultAllocator
    from barter.portfolio.portfolio import Portfolio
    from barter.statistic.summary import StatisticConfig

    feeds = data if data is not None else [load_market_data(m) for m in config.markets]
    stats = StatisticConfig(starting_equity=config.starting_equity or config.starting_cash,
                            trading_days_per_year=config.trading_days_per_year,
                            risk_free_return=config.risk_free_return)
    allocator = (DefaultAllocator(config.order_value, config.size_decimals) if config.allocator is None
                 else make_object(config.allocator, "allocator", config.source))
    risk = None if config.risk is None else make_object(config.risk, "risk", config.source)
    portfolio = Portfolio(starting_cash=config.starting_cash, allocator=allocator, risk=risk,
                          statistic_config=stats)
    traders = [Trader(m.market, feed, make_strategy(config.strategy, config.source),
                      SimulatedExecution(Fees(**config.fees)))
               for m, feed in zip(config.markets, feeds)]
    return Engine(traders, portfolio, record_equity=record_equity)


__all__ = ["BacktestConfig", "ConfigFileError", "MarketConfig", "ObjectConfig", "StrategyConfig", "build_engine",
           "import_object", "load_config", "load_market_data", "make_object", "make_strategy", "parse_config"]
