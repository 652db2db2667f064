"""The ``barter`` command: ``barter backtest`` runs the seed example on the embedded default market."""
from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from barter.backtest import DEFAULT_FEES, backtest, load
from barter.data.default import default_candles
from barter.errors import BarterError
from barter.execution.events import Fees
from barter.strategy.rsi import RSIStrategy


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="barter", description="Event-driven backtesting on a compiled core.")
    commands = parser.add_subparsers(dest="command", required=True)
    bt = commands.add_parser(
        "backtest", help="run the seed's RSI example and print the trading summary",
        description="The seed example: one market, RSIStrategy (thresholds 40/60), the default "
                    "allocator and risk manager, simulated fills with fees, the seed's summary table. "
                    "Without --data it runs on the embedded default market (synthetic BTC/USDT minutes).")
    bt.add_argument("--data", metavar="FILE", help="candles as CSV, Parquet or JSON (default: embedded market)")
    bt.add_argument("--bars", type=int, default=100_000, help="length of the embedded market (default 100000)")
    bt.add_argument("--rsi-period", type=int, default=14, help="RSI period (default 14)")
    bt.add_argument("--cash", type=float, default=10_000.0, help="starting cash, quote currency (default 10000)")
    bt.add_argument("--order-value", type=float, default=100.0, help="entry size in quote currency (default 100)")
    bt.add_argument("--exchange-fee", type=float, default=DEFAULT_FEES.exchange,
                    help="exchange fee as a fraction of fill value (default 0.001 = 0.1%%)")
    bt.add_argument("--slippage-fee", type=float, default=DEFAULT_FEES.slippage,
                    help="slippage fee as a fraction of fill value (default 0.0005 = 0.05%%)")
    return parser


def _backtest(args: argparse.Namespace) -> None:
    data = load(args.data) if args.data else default_candles(args.bars)
    result = backtest(data, RSIStrategy(args.rsi_period), starting_cash=args.cash, order_value=args.order_value,
                      fees=Fees(exchange=args.exchange_fee, slippage=args.slippage_fee))
    engine, portfolio = result.engine, result.portfolio
    source = args.data or f"embedded default market (synthetic, {len(data)} one-minute candles)"
    rate = engine.events / engine.elapsed_s if engine.elapsed_s else float("inf")
    print(f"barter backtest: {portfolio.markets[0]} on {source}")
    print(f"{engine.events:,} events in {engine.elapsed_s * 1e3:.1f} ms ({rate:,.0f} events/s), "
          f"{portfolio.core.n_fills} fills")
    print(result.summary)
    balance = portfolio.balance
    print(f"balance total {balance.total:,.2f}  available {balance.available:,.2f}  "
          f"equity {portfolio.equity:,.2f}  open positions {len(portfolio.open_positions())}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "backtest":
            _backtest(args)
    except (BarterError, OSError) as exc:
        print(f"barter: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
