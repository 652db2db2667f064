"""The ``barter`` command.

``barter backtest [CONFIG.toml]`` runs a backtest (the seed's RSI example on the embedded default
market without a config), ``barter data inspect FILE`` describes a candles file and ``barter report
RUN_DIR`` rewrites the tear sheet of a saved run. Errors are one line on stderr and exit code 2.
On a terminal a long run shows a progress bar (``barter.progress``); ``-v``/``--log-level`` log to
stderr in ``barter.log``'s format; stdout keeps only the results.
"""
from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, TextIO

from barter.errors import BarterError
from barter.log import LEVELS, configure_logging, level_for

TEAR_SHEET = "tear_sheet.html"
log = logging.getLogger(__name__)

_BACKTEST_EPILOG = """\
examples:
  barter backtest                          the seed example on the embedded default market
  barter backtest --data btc_1m.csv        the seed example on your candles
  barter backtest rsi.toml                 markets, strategy and settings from a config file
  barter backtest rsi.toml -o runs/rsi -q  save the run and print only the summary table

a minimal config (all keys: docs/configuration.md):
  [[markets]]
  exchange = "binance"
  base = "btc"
  quote = "usdt"
  data = "btc_1m.csv"          # CSV, Parquet or JSON; relative to the config file

  [strategy]
  path = "barter.strategy:RSIStrategy"
  params = { rsi_period = 14 }

  [output]
  directory = "runs/rsi"       # fills/positions/equity Parquet, summary.json, tear_sheet.html
"""

_INSPECT_EPILOG = """\
example:
  barter data inspect prices/btc-perp-20211231-20220201_1m.csv

prints rows, the UTC time range, the median step between rows and the gaps (steps longer than
1.5x the median). A file that fails validation prints the first bad row and exits with code 2.
"""

_SWEEP_EPILOG = """\
examples:
  barter sweep rsi.toml --grid rsi_period=7,14,21
  barter sweep rsi.toml --grid rsi_period=7,14,28 --metric equity_total_return --executor serial
  barter sweep rsi.toml --grid rsi_period=5,10,20 --executor ray://head:10001 -o sweep.parquet

the config's one market and strategy; [strategy] params apply to every run, --grid overrides them
(strategy parameters only: order_value, fees and the like come from the config). Exits 1 when
every run failed.
executors: process (default, every core), serial, N (processes), ray, ray://HOST:PORT, dask,
tcp://HOST:PORT (a Dask scheduler). Guide: docs/sweep.md
"""

_REPORT_EPILOG = """\
examples:
  barter report runs/rsi                   rewrite runs/rsi/tear_sheet.html
  barter report runs/rsi -o /tmp/rsi.html  write the tear sheet elsewhere
"""


# --------------------------------------------------------------------------- output helpers

class _Status:
    """A one-line status on stdout, only when it is a terminal and not ``--quiet``; also logged (INFO)."""

    def __init__(self, quiet: bool, stream: TextIO = sys.stdout) -> None:
        self.stream = stream
        self.on = not quiet and stream.isatty()
        self.shown = False

    def __call__(self, text: str) -> None:
        log.info("%s", text)
        if self.on:
            self.stream.write("\r\x1b[K" + text)
            self.stream.flush()
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False


def _say(quiet: bool, *lines: str) -> None:
    if not quiet:
        for line in lines:
            print(line)


def _print_run(result: Any, source: str, quiet: bool) -> None:
    """The header lines, the summary table and the balance line (the seed example's output)."""
    engine, portfolio = result.engine, result.portfolio
    rate = engine.events / engine.elapsed_s if engine.elapsed_s else float("inf")
    markets = ", ".join(str(m) for m in portfolio.markets)
    _say(quiet, f"barter backtest: {markets} on {source}",
         f"{engine.events:,} events in {engine.elapsed_s * 1e3:.1f} ms ({rate:,.0f} events/s), "
         f"{portfolio.core.n_fills} fills")
    print(result.summary)
    balance = portfolio.balance
    _say(quiet, f"balance total {balance.total:,.2f}  available {balance.available:,.2f}  "
                f"equity {portfolio.equity:,.2f}  open positions {len(portfolio.open_positions())}")


# --------------------------------------------------------------------------- parser

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="barter", description="Event-driven backtesting on a compiled core.",
        epilog="run 'barter COMMAND --help' for a command's options and examples")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    quiet = argparse.ArgumentParser(add_help=False)
    quiet.add_argument("-q", "--quiet", action="store_true",
                       help="print only the summary table (or the result); no progress bar")
    quiet.add_argument("-v", "--verbose", action="count", default=0,
                       help="log what happens to stderr: -v info, -vv debug (default: warnings only)")
    quiet.add_argument("--log-level", choices=LEVELS, type=str.lower, metavar="LEVEL",
                       help=f"log level ({', '.join(LEVELS)}); overrides -v")

    bt = commands.add_parser(
        "backtest", parents=[quiet], help="run a backtest and print the trading summary",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_BACKTEST_EPILOG,
        description="Run a backtest and print the seed's trading summary table.\n\n"
                    "Without CONFIG: the seed example - one market, RSIStrategy (thresholds 40/60), the "
                    "default\nallocator and risk manager, simulated fills with fees - on the embedded "
                    "default market\n(synthetic BTC/USDT minutes) or on --data FILE.\n"
                    "With CONFIG (TOML): markets, data files, strategy, portfolio, fees, statistics and "
                    "output\nfrom the file; every key is checked before the run.")
    bt.add_argument("config", nargs="?", metavar="CONFIG.toml", help="backtest configuration (TOML)")
    bt.add_argument("-o", "--output", metavar="DIR",
                    help="save the run and its tear sheet here (overrides [output] directory)")
    seed = bt.add_argument_group("seed example options (without CONFIG)")
    seed.add_argument("--data", metavar="FILE", help="candles as CSV, Parquet or JSON (default: embedded market)")
    seed.add_argument("--bars", type=_positive(int),
                      help="length of the embedded market (default 100000); an error with --data")
    seed.add_argument("--rsi-period", type=_positive(int), help="RSI period (default 14)")
    seed.add_argument("--cash", type=_positive(float), help="starting cash, quote currency (default 10000)")
    seed.add_argument("--order-value", type=_positive(float), help="entry size in quote currency (default 100)")
    seed.add_argument("--exchange-fee", type=_fee_rate("exchange"), metavar="RATE",
                      help="exchange fee as a fraction of fill value, in (-1, 1); negative is a rebate "
                           "(default 0.001 = 0.1%%)")
    seed.add_argument("--slippage-fee", type=_fee_rate("slippage"), metavar="RATE",
                      help="slippage fee as a fraction of fill value, in [0, 1) (default 0.0005 = 0.05%%)")

    data = commands.add_parser("data", help="inspect market data files",
                               description="Work with market data files.")
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="SUBCOMMAND")
    inspect = data_commands.add_parser(
        "inspect", parents=[quiet], help="rows, time range, step and gaps of a candles file",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_INSPECT_EPILOG,
        description="Validate a candles file (CSV, Parquet or JSON) as a backtest would load it and "
                    "describe it.")
    inspect.add_argument("file", metavar="FILE", help="candles file")
    inspect.add_argument("--time-column", metavar="NAME", help="time column (default: inferred)")
    inspect.add_argument("--time-unit", choices=("s", "ms", "us", "ns"),
                         help="unit of a numeric time column (default: inferred)")

    _sweep_parser(commands, quiet)

    report = commands.add_parser(
        "report", parents=[quiet], help="rebuild the tear sheet of a saved run",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_REPORT_EPILOG,
        description="Load a run saved by 'barter backtest' ([output] directory or -o) or by "
                    "BacktestResult.save,\nwrite its HTML tear sheet and print its summary table.")
    report.add_argument("run_dir", metavar="RUN_DIR", help="directory of a saved run")
    report.add_argument("-o", "--output", metavar="PATH", help=f"tear sheet file (default RUN_DIR/{TEAR_SHEET})")
    return parser


def _sweep_parser(commands: Any, quiet: argparse.ArgumentParser) -> None:
    sw = commands.add_parser(
        "sweep", parents=[quiet], help="backtest a config over a grid of strategy parameters",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_SWEEP_EPILOG,
        description="Run a config's strategy once per parameter set on all cores or a cluster and print\n"
                    "the best runs by a metric.")
    sw.add_argument("config", metavar="CONFIG.toml", help="backtest configuration (TOML), one market")
    sw.add_argument("--grid", action="append", required=True, metavar="NAME=V1,V2,...",
                    help="strategy parameter values (repeat for more parameters: every combination runs)")
    sw.add_argument("--executor", metavar="WHERE", help="process (default), serial, N, ray, ray://HOST:PORT, "
                                                        "dask or tcp://HOST:PORT")
    sw.add_argument("--metric", default="equity_sharpe", help="statistic to sort by, best first "
                                                               "(default equity_sharpe)")
    sw.add_argument("--top", type=int, default=10, help="rows to print (default 10)")
    sw.add_argument("-o", "--output", metavar="FILE", help="save every row (.csv, or .parquet)")


def _sweep(args: argparse.Namespace) -> int:
    from barter.sweep import command

    executor = int(args.executor) if args.executor and args.executor.isdigit() else args.executor
    table = command.run(args.config, args.grid, executor=executor, workers=None, metric=args.metric,
                        progress=False if args.quiet else None)
    a = table.attrs
    failure = None if a["interrupted"] else command.all_failed(table)
    if failure:
        print(f"barter: error: {failure}", file=sys.stderr)
        return 1
    _say(args.quiet, f"barter sweep: {args.config}, {len(table)} of {a['runs']} runs on {a['executor']}, "
                     f"{a['failed']} failed, best by {a['metric']}")
    print(command.show(table, list(command.parse_grid(args.grid)), args.top))
    if args.output:
        command.save(table, Path(args.output))
        _say(args.quiet, f"saved {len(table)} rows to {args.output}")
    if a["interrupted"]:
        print("barter: interrupted, the finished runs are shown", file=sys.stderr)
        return 130
    return 0


_SEED_DEFAULTS = {"bars": 100_000, "rsi_period": 14, "cash": 10_000.0, "order_value": 100.0,
                  "exchange_fee": None, "slippage_fee": None}


# --------------------------------------------------------------------------- backtest

def _seed_backtest(args: argparse.Namespace) -> None:
    from barter.backtest import DEFAULT_FEES, backtest, load
    from barter.data.default import default_candles
    from barter.execution.events import Fees
    from barter.progress import ProgressBar
    from barter.strategy.rsi import RSIStrategy

    if args.data and args.bars is not None:  # it was ignored silently
        raise BarterError("--bars sets the length of the embedded market; it does not apply with --data "
                          "(all of the file's candles are used)")
    opts: dict[str, Any] = {k: (getattr(args, k) if getattr(args, k) is not None else v) for k, v in _SEED_DEFAULTS.items()}
    exchange_fee = DEFAULT_FEES.exchange if opts["exchange_fee"] is None else opts["exchange_fee"]
    slippage_fee = DEFAULT_FEES.slippage if opts["slippage_fee"] is None else opts["slippage_fee"]
    status = _Status(args.quiet)
    status(f"loading {args.data} ..." if args.data else "building the embedded market ...")
    data = load(args.data) if args.data else default_candles(opts["bars"])
    status.clear()
    with ProgressBar("backtest", quiet=args.quiet) as bar:
        result = backtest(data, RSIStrategy(opts["rsi_period"]), starting_cash=opts["cash"],
                          order_value=opts["order_value"], fees=Fees(exchange=exchange_fee, slippage=slippage_fee),
                          progress=bar)
    source = args.data or f"embedded default market (synthetic, {len(data)} one-minute candles)"
    _print_run(result, source, args.quiet)
    if args.output:
        _save(result, Path(args.output), None, prices=True, tear_sheet=True, quiet=args.quiet)


def _save(result: Any, out: Path, config: Optional[Path], *, prices: bool, tear_sheet: bool, quiet: bool) -> None:
    """Save ``result`` to ``out`` (Parquet and JSON, see ``BacktestResult.save``) and its tear sheet."""
    status = _Status(quiet)
    sheet = None
    try:
        status(f"saving to {out} ...")
        result.save(out, config=config, prices=prices)
        if tear_sheet:
            status(f"writing {out / TEAR_SHEET} ...")
            sheet = result.tear_sheet(out / TEAR_SHEET)
    finally:
        status.clear()
    _say(quiet, f"saved to {out}" + (f", tear sheet {sheet}" if sheet else ""))


def _config_backtest(args: argparse.Namespace) -> None:
    from barter.backtest import BacktestResult
    from barter.config import build_engine, load_config, load_market_data
    from barter.progress import ProgressBar

    given = [f"--{k.replace('_', '-')}" for k in (*_SEED_DEFAULTS, "data") if getattr(args, k) is not None]
    if given:
        raise BarterError(f"{given[0]} applies to the seed example only; with a config file set it in the file")
    config = load_config(args.config)
    status = _Status(args.quiet)
    try:
        feeds = []
        for n, m in enumerate(config.markets, 1):
            status(f"loading {n}/{len(config.markets)}: {m.data.name} ...")
            feeds.append(load_market_data(m))
        engine = build_engine(config, feeds)
        status.clear()
        log.info("running %s events on %d market(s)", f"{sum(len(f) for f in feeds):,}", len(feeds))
        try:
            with ProgressBar(config.strategy.name, quiet=args.quiet) as bar:
                engine.run(progress=bar)
        except BarterError:
            raise
        except Exception as exc:  # a user strategy raised: one line, not a traceback
            where = "; ".join(getattr(exc, "__notes__", ()))  # the engine notes the event: index, market, time
            raise BarterError(f"the run stopped: {config.strategy.path} raised {type(exc).__name__}: {exc}"
                              + (f" ({where})" if where else "")) from None
        result = BacktestResult(engine)
    finally:
        status.clear()
    _print_run(result, f"{args.config} ({config.strategy.name})", args.quiet)

    out = Path(args.output) if args.output else config.output
    if out is not None:
        _save(result, out, config.source, prices=config.save_prices, tear_sheet=config.tear_sheet,
              quiet=args.quiet)


# --------------------------------------------------------------------------- data inspect

def _duration(ns: float) -> str:
    """A time step as text: ``1m``, ``1h 30m``, ``2d``, ``250ms``."""
    if ns <= 0:
        return "0s"
    if ns < 1e9:
        return f"{ns / 1e6:g}ms" if ns >= 1e6 else f"{ns:g}ns"
    secs = int(round(ns / 1e9))
    parts = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        if secs >= size:
            parts.append(f"{secs // size}{unit}")
            secs %= size
    return " ".join(parts[:2])


def _iso(ns: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ns // 1_000_000_000, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def _inspect(args: argparse.Namespace) -> None:
    import numpy as np

    from barter.data.historic import HistoricalCandles

    path = Path(args.file)
    if not path.is_file():
        raise BarterError(f"data file not found: {path}")
    candles = HistoricalCandles.from_file(path, time_column=args.time_column, time_unit=args.time_unit)
    t = candles.time_ns
    lines = [f"file        {path}", f"rows        {len(t):,}"]
    if len(t):
        lines.append(f"time range  {_iso(int(t[0]))} .. {_iso(int(t[-1]))} (UTC)")
    if len(t) > 1:
        steps = np.diff(t)
        median = float(np.median(steps))
        lines.append(f"median step {_duration(median)}")
        duplicates = int(np.count_nonzero(steps == 0))
        gap_mask = steps > 1.5 * median
        n_gaps = int(np.count_nonzero(gap_mask))
        if n_gaps:
            i = int(np.argmax(steps))
            lines.append(f"gaps        {n_gaps:,} (steps > 1.5x median); largest {_duration(float(steps[i]))} "
                         f"from {_iso(int(t[i]))} to {_iso(int(t[i + 1]))}")
        else:
            lines.append("gaps        none")
        if duplicates:
            lines.append(f"duplicates  {duplicates:,} rows repeat the previous timestamp")
    close = candles.close
    if len(close):
        lines.append(f"close       first {close[0]:g}  last {close[-1]:g}  min {close.min():g}  max {close.max():g}")
    lines.append("valid       yes")
    for line in lines if not args.quiet else lines[1:2]:
        print(line)


# --------------------------------------------------------------------------- report

def _report(args: argparse.Namespace) -> None:
    from barter.backtest import BacktestResult

    run = Path(args.run_dir)
    saved = BacktestResult.load(run)
    target = Path(args.output) if args.output else run / TEAR_SHEET
    status = _Status(args.quiet)
    try:
        status(f"writing {target} ...")
        sheet = saved.tear_sheet(target)
    finally:
        status.clear()
    markets = ", ".join(str(m) for m in saved.markets)
    _say(args.quiet, f"barter report: {markets} from {run} ({saved.meta.get('events', 0):,} events, "
                     f"{len(saved.fills)} fills)")
    print(saved.summary)
    _say(args.quiet, f"tear sheet {sheet}")


# --------------------------------------------------------------------------- main

def _positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type: a finite ``kind`` above 0 (argparse reports anything else as a usage error)."""
    def parse(text: str) -> Any:
        value = kind(text)  # ValueError: argparse says "invalid ... value"
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"must be > 0, was {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _fee_rate(name: str) -> Callable[[str], float]:
    """An argparse type: a fee rate of kind ``name`` as ``SimulatedExecution`` takes it."""
    def parse(text: str) -> float:
        from barter.execution.simulated import fee_rate_ok, fee_rate_range

        value = float(text)  # ValueError: argparse says "invalid ... value"
        if not fee_rate_ok(name, value):
            raise argparse.ArgumentTypeError(f"must be in {fee_rate_range(name)}, was {text}")
        return value

    parse.__name__ = "fee rate"
    return parse


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the ``barter`` command; returns the exit code (0 ok, 2 usage, data or config error)."""
    args = _parser().parse_args(argv)
    configure_logging(level_for(getattr(args, "log_level", None), getattr(args, "verbose", 0)))
    try:
        if args.command == "backtest":
            _config_backtest(args) if args.config else _seed_backtest(args)
        elif args.command == "data":
            _inspect(args)
        elif args.command == "report":
            _report(args)
        elif args.command == "sweep":
            return _sweep(args)
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (BarterError, OSError) as exc:
        print(f"barter: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("barter: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
