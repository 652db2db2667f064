"""The README's main command and the CLI on real files, run as subprocesses."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def barter(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "barter", *args], capture_output=True, text=True, timeout=300)


def test_readme_main_command_prints_the_summary_table():
    readme = (ROOT / "README.md").read_text()
    assert "python -m pip install -e . && python -m barter backtest" in readme
    out = barter("backtest")
    assert out.returncode == 0, out.stderr
    assert "embedded default market (synthetic, 100000 one-minute candles)" in out.stdout
    row = next(line for line in out.stdout.splitlines() if line.startswith("| binance_btc_usdt_spot"))
    total = next(line for line in out.stdout.splitlines() if "Total" in line)
    assert row.split("|")[2:] == total.split("|")[2:]  # one market: its row equals the Total row
    assert int(row.split("|")[2]) > 100  # trades


def test_backtest_on_a_real_file(data_dir: Path):
    path = data_dir / "prices/crypto/btc-perp-20211231-20220201_1m.csv"
    out = barter("backtest", "--data", str(path))
    assert out.returncode == 0, out.stderr
    assert re.search(r"45,031 events", out.stdout)
    assert "Total" in out.stdout


@pytest.mark.parametrize("content, needle", [
    ("time,open,high,low,close\n2020-01-01,1,2,0.5,nan\n", "column 'close'"),
    ("time,open,high,low\n2020-01-01,1,2,0.5\n", "close"),
])
def test_bad_data_exits_nonzero_with_one_line_error(tmp_path: Path, content: str, needle: str):
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    out = barter("backtest", "--data", str(bad))
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.csv" in lines[0] and needle in lines[0].lower()


def test_missing_file_is_a_clear_error(tmp_path: Path):
    out = barter("backtest", "--data", str(tmp_path / "nope.csv"))
    assert out.returncode != 0 and "nope.csv" in out.stderr and "Traceback" not in out.stderr


def test_readme_strategy_snippet_runs():
    readme = (ROOT / "README.md").read_text()
    snippet = re.search(r"## A strategy in ten lines\n\n```python\n(.*?)```", readme, re.S).group(1)
    namespace: dict = {}
    exec(compile(snippet.replace("default_candles()", "default_candles(5_000)"), "README", "exec"), namespace)
    result = namespace["result"]
    assert result.summary.total.trades > 0
    assert len(result.fills) == result.portfolio.core.n_fills
    assert len(result.equity) == 5_000


def test_seed_example_reproduces_the_seed(tmp_path: Path):
    out = subprocess.run([sys.executable, str(ROOT / "examples/seed_example.py")], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "quantity=-0.0943" in out.stdout and "enter_value_gross=99.958" in out.stdout
    assert "available=9885.0483" in out.stdout


def test_seed_engine_example_runs():
    out = subprocess.run([sys.executable, str(ROOT / "examples/seed_engine.py")], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "open positions at the start: []" in out.stdout
    assert "binance_eth_usdt_spot" in out.stdout and "Total" in out.stdout
