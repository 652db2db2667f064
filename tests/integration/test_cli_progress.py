"""The CLI's progress bar (on a terminal only) and its logging, run as subprocesses."""
from __future__ import annotations

import os
import pty
import re
import subprocess
import sys

BARS = "200000"  # three progress calls (every 65,536 events) and the final one


def barter_on_a_terminal(*args: str) -> tuple[int, str]:
    """Run ``barter`` with stdout on a pseudo-terminal; (exit code, everything it drew)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "barter", *args], stdout=slave, stderr=subprocess.DEVNULL,
                            env={**os.environ, "COLUMNS": "160", "BARTER_PROGRESS_DELAY": "0"})
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return proc.wait(timeout=300), b"".join(chunks).decode(errors="replace")


def barter_piped(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "barter", *args], capture_output=True, text=True, timeout=300)


def test_terminal_shows_a_progress_bar_with_rate_and_eta():
    code, out = barter_on_a_terminal("backtest", "--bars", BARS)
    assert code == 0
    assert "65536/200000" in out and "200000/200000" in out  # every report drawn: no delay, 4 redraws/s at most
    assert re.search(r"[\d,]+ events/s", out) and " eta " in out
    assert re.search(r"\| +Total \|", out)  # the results follow the bar


def test_quiet_terminal_has_no_bar():
    code, out = barter_on_a_terminal("backtest", "--bars", BARS, "-q")
    assert code == 0 and re.search(r"\| +Total \|", out)
    assert "/200000" not in out and " eta " not in out and "\x1b[" not in out


def test_piped_output_has_no_bar_and_no_escape_codes():
    out = barter_piped("backtest", "--bars", BARS)
    assert out.returncode == 0, out.stderr
    assert "\x1b[" not in out.stdout and " eta " not in out.stdout and "/200000" not in out.stdout
    assert out.stderr == ""  # warnings only by default: nothing to say


def test_verbose_logs_to_stderr_in_the_default_format():
    out = barter_piped("backtest", "--bars", "20000", "-v")
    assert out.returncode == 0, out.stderr
    line = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO barter\.[a-z.]+: "
    lines = out.stderr.splitlines()
    assert lines and all(re.match(line, x) for x in lines), out.stderr
    assert any("barter.cli: building the embedded market" in x for x in lines)
    assert any(re.search(r"barter\.backtest: backtest of binance_btc_usdt_spot: 20000 events", x) for x in lines)
    assert "INFO" not in out.stdout  # results and logs stay apart


def test_log_level_overrides_verbose_and_rejects_unknown_levels():
    quiet = barter_piped("backtest", "--bars", "5000", "-vv", "--log-level", "ERROR")
    assert quiet.returncode == 0 and quiet.stderr == ""
    bad = barter_piped("backtest", "--log-level", "loud")
    assert bad.returncode == 2 and "--log-level" in bad.stderr and "loud" in bad.stderr
