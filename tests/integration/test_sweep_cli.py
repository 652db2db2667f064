"""``barter sweep CONFIG.toml --grid ...`` run as a subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

BTC = "prices/crypto/btc-perp-20211231-20220201_1m.csv"
# A strategy module beside the config: workers must import it from the config's directory.
LOCAL_STRATEGY = """\
from barter.strategy import RSIStrategy


class Local(RSIStrategy):
    def __init__(self, rsi_period: int = 14, label: str = "x", fail: bool = False) -> None:
        if fail:
            raise RuntimeError(f"refused rsi_period={rsi_period}")
        super().__init__(rsi_period)
"""


def barter(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "barter", *args], capture_output=True, text=True, timeout=120)


def config(tmp_path: Path, data: Path, markets: int = 1) -> Path:
    text = "".join(f'[[markets]]\nexchange = "binance"\nbase = "b{i}"\nquote = "usdt"\n'
                   f"data = {json.dumps(str(data))}\n\n" for i in range(markets))
    text += '[strategy]\npath = "local_strategy:Local"\nparams = { label = "base" }\n'
    (tmp_path / "local_strategy.py").write_text(LOCAL_STRATEGY)
    path = tmp_path / "sweep.toml"
    path.write_text(text)
    return path


def test_sweep_prints_the_best_runs_and_saves_every_row(tmp_path: Path, data_dir: Path) -> None:
    out = barter("sweep", str(config(tmp_path, data_dir / BTC)), "--grid", "rsi_period=5,9,20",
                 "--executor", "2", "--top", "2", "-o", str(tmp_path / "rows.csv"))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "3 of 3 runs on process, 0 failed, best by equity_sharpe" in lines[0]
    assert lines[1].split()[:3] == ["run", "rsi_period", "equity_sharpe"] and len(lines) == 5
    rows = pd.read_csv(tmp_path / "rows.csv")
    assert len(rows) == 3 and set(rows["label"]) == {"base"} and rows["error"].isna().all()
    assert rows["equity_sharpe"].is_monotonic_decreasing
    assert lines[2].split()[:2] == [str(rows["run"][0]), str(rows["rsi_period"][0])]


def test_sweep_needs_one_market(tmp_path: Path, data_dir: Path) -> None:
    out = barter("sweep", str(config(tmp_path, data_dir / BTC, markets=2)), "--grid", "rsi_period=5")
    assert out.returncode == 2 and out.stderr.strip().splitlines() == [
        "barter: error: sweep.toml: a sweep runs on one market, the config has 2"]


def test_sweep_rejects_a_bad_grid_in_one_line(tmp_path: Path, data_dir: Path) -> None:
    out = barter("sweep", str(config(tmp_path, data_dir / BTC)), "--grid", "rsi_period")
    assert out.returncode == 2 and "--grid must be NAME=V1,V2" in out.stderr and "Traceback" not in out.stderr


def test_a_grid_name_the_strategy_lacks_is_rejected_before_any_run(tmp_path: Path, data_dir: Path) -> None:
    # order_value is a backtest option: it used to reach the strategy and fail every run, exit 0
    out = barter("sweep", str(config(tmp_path, data_dir / BTC)), "--grid", "rsi_period=7,14",
                 "--grid", "order_value=50,100", "--executor", "serial")
    [line] = out.stderr.strip().splitlines()
    assert out.returncode == 2 and line.startswith("barter: error: parameters {")
    assert "local_strategy:Local(rsi_period" in line and "'order_value'" in line
    assert "order_value is a backtest option" in line and out.stdout == ""


def test_every_run_failing_exits_1_with_one_line(tmp_path: Path, data_dir: Path) -> None:
    out = barter("sweep", str(config(tmp_path, data_dir / BTC)), "--grid", "rsi_period=7,14",
                 "--grid", "fail=true", "--executor", "serial")
    assert out.returncode == 1 and out.stderr.strip().splitlines() == [
        "barter: error: every run failed (2); run 0: RuntimeError: refused rsi_period=7"]


def shm_blocks() -> set[str]:
    """Python's shared memory blocks."""
    return {n for n in os.listdir("/dev/shm") if n.startswith("psm_")}


def test_ctrl_c_prints_the_finished_runs_and_exits_130(tmp_path: Path, data_dir: Path) -> None:
    import re
    import signal
    import time

    periods = ",".join(str(p) for p in range(2, 3002))  # far more work than the wait below
    before = shm_blocks()
    proc = subprocess.Popen([sys.executable, "-m", "barter", "sweep", str(config(tmp_path, data_dir / BTC)),
                             "--grid", f"rsi_period={periods}", "--executor", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    time.sleep(8)  # the workers start and finish some runs
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    finished = int(re.search(r"(\d+) of 3000 runs", out).group(1))  # type: ignore[union-attr]
    assert 0 < finished < 3000 and "interrupted" in err and "Traceback" not in err
    assert shm_blocks() <= before  # shared block freed


def test_sweep_makes_the_configs_risk_manager_in_each_run(tmp_path: Path, data_dir: Path) -> None:
    path = config(tmp_path, data_dir / BTC)
    (tmp_path / "local_risk.py").write_text("from barter.portfolio import DefaultRisk\n\n"
                                            "class NoEntries(DefaultRisk):\n"
                                            "    def evaluate_order(self, order):\n"
                                            "        return None if order.decision.is_entry else order\n")
    path.write_text(path.read_text() + '\n[risk]\npath = "local_risk:NoEntries"\n')
    out = barter("sweep", str(path), "--grid", "rsi_period=5,9", "--executor", "2", "-o", str(tmp_path / "rows.csv"))
    assert out.returncode == 0, out.stderr
    rows = pd.read_csv(tmp_path / "rows.csv")
    assert len(rows) == 2 and rows["error"].isna().all() and (rows["trades"] == 0).all()
