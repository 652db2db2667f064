"""``barter backtest CONFIG.toml``, ``barter data inspect`` and ``barter report``, run as subprocesses."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BTC = "prices/crypto/btc-perp-20211231-20220201_1m.csv"
XRP = "prices/crypto/UNITTEST_BTC-1m.json"


def barter(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "barter", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def market(path: Path, base: str = "btc", quote: str = "usdt", kind: str = "perpetual") -> str:
    return (f'[[markets]]\nexchange = "binance"\nbase = "{base}"\nquote = "{quote}"\nkind = "{kind}"\n'
            f'data = {json.dumps(str(path))}\n\n')


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def one_error_line(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("barter: error: ") and "Traceback" not in out.stderr
    return lines[0]


@pytest.fixture(scope="module")
def saved_run(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One config run on the real BTC file, saved with its tear sheet (shared by the tests below)."""
    tmp = tmp_path_factory.mktemp("run")
    config = write(tmp, market(data_dir / BTC)
                   + '[strategy]\npath = "barter.strategy:RSIStrategy"\nparams = { rsi_period = 14 }\n\n'
                   + "[portfolio]\nstarting_cash = 10000\norder_value = 100\nsize_decimals = 4\n\n"
                   + "[execution.fees]\nexchange = 0.001\nslippage = 0.0005\nnetwork = 0.0\n\n"
                   + "[statistics]\ntrading_days_per_year = 365\nrisk_free_return = 0.0\n\n"
                   + '[output]\ndirectory = "out"\n')
    return tmp / "out", barter("backtest", str(config))


def test_config_run_prints_the_table_and_saves_the_run(saved_run, data_dir: Path):
    run, out = saved_run
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    assert "binance_btc_usdt_perpetual" in out.stdout and "RSIStrategy(rsi_period=14)" in out.stdout
    assert "45,031 events" in out.stdout and "Total" in out.stdout
    for name in ("meta.json", "summary.json", "fills.parquet", "positions.parquet", "equity.parquet",
                 "config.toml", "tear_sheet.html"):
        assert (run / name).is_file(), name
    assert (run / "tear_sheet.html").stat().st_size > 100_000
    # the same settings as the seed example give the same summary as `backtest --data`
    seed = barter("backtest", "--data", str(data_dir / BTC))
    rows = lambda text: [line.split("|")[2:] for line in text.splitlines() if line.startswith("|")][1:]
    assert rows(out.stdout) == rows(seed.stdout)


def test_quiet_prints_only_the_table(data_dir: Path, tmp_path: Path):
    config = write(tmp_path, market(data_dir / BTC))
    out = barter("backtest", str(config), "--quiet")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert all(line[0] in "+|" for line in lines) and any("Total" in line for line in lines)


def test_two_markets_and_relative_paths(data_dir: Path, tmp_path: Path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "xrp.json").write_bytes((data_dir / XRP).read_bytes())
    config = write(tmp_path, market(data_dir / BTC) + market(Path("data/xrp.json"), "xrp", "btc", "spot")
                   + "[strategy]\nparams = { rsi_period = 10 }\n[output]\ntear_sheet = false\n")
    out = barter("backtest", "config.toml", "-o", "elsewhere", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    table = [line for line in out.stdout.splitlines() if line.startswith("|")]
    assert [line.split("|")[1].strip() for line in table[1:]] == [
        "binance_btc_usdt_perpetual", "binance_xrp_btc_spot", "Total"]
    assert (tmp_path / "elsewhere" / "meta.json").is_file()
    assert not (tmp_path / "elsewhere" / "tear_sheet.html").exists()
    meta = json.loads((tmp_path / "elsewhere" / "meta.json").read_text())
    assert [m["id"] for m in meta["markets"]] == ["binance_btc_usdt_perpetual", "binance_xrp_btc_spot"]


def test_a_strategy_module_beside_the_config(data_dir: Path, tmp_path: Path):
    (tmp_path / "mystrategy.py").write_text(
        "from barter.strategy import RSIStrategy\n\n"
        "class Slow(RSIStrategy):\n"
        "    def __init__(self, period, scale=1):\n"
        "        super().__init__(period * scale)\n")
    config = write(tmp_path, market(data_dir / BTC)
                   + '[strategy]\npath = "mystrategy:Slow"\nparams = { period = 7, scale = 4 }\n')
    out = barter("backtest", str(config))
    assert out.returncode == 0, out.stderr
    assert "Slow(period=7, scale=4)" in out.stdout and "Total" in out.stdout


def test_a_strategy_that_raises_is_one_line_naming_the_event(data_dir: Path, tmp_path: Path):
    (tmp_path / "fragile.py").write_text(
        "from barter.strategy import Strategy\n\n"
        "class Fragile(Strategy):\n"
        "    def __init__(self):\n"
        "        self.n = 0\n\n"
        "    def generate_signal(self, market):\n"
        "        self.n += 1\n"
        "        if self.n == 5:\n"
        "            raise KeyError('missing')\n")
    config = write(tmp_path, market(data_dir / BTC) + '[strategy]\npath = "fragile:Fragile"\n')
    line = one_error_line(barter("backtest", "-q", str(config)))
    assert "fragile:Fragile raised KeyError: 'missing'" in line and "event 4" in line and "time_ns=" in line


@pytest.mark.parametrize("extra, needles", [
    ("[portfolio]\nstarting_cash = \"abc\"\n", ['[portfolio] starting_cash must be a number > 0, got "abc"']),
    ("[portfolio]\ncash = 5\n", ["[portfolio]", '"cash"']),
    ("[risk]\nmax = 1\n", ['[risk] unknown key "max"']),
    ("[execution.fees]\nexchange = -1.5\n", ["[execution.fees] exchange must be a number in (-1, 1), got -1.5"]),
    ("[execution.fees]\nslippage = -0.1\n", ["[execution.fees] slippage must be a number in [0, 1), got -0.1"]),
    ("[execution.fees]\nnetwork = 1.0\n", ["[execution.fees] network must be a number in [0, 1), got 1.0"]),
    ("[statistics]\ntrading_days_per_year = 252.5\n", ["trading_days_per_year must be an integer"]),
    ("[portfolio]\nsize_decimals = true\n", ["size_decimals", "got true"]),
    ('[strategy]\npath = "no_such_module_xyz:Strategy"\n', ["[strategy] path", "no_such_module_xyz"]),
    ('[strategy]\npath = "barter.strategy:NoSuchStrategy"\n', ["[strategy] path", "NoSuchStrategy"]),
    ("[strategy]\nparams = { period = 3 }\n", ["[strategy] params", "period"]),
    ('[output]\ndirectory = 3\n', ["[output] directory must be a non-empty string, got 3"]),
])
def test_bad_config_is_one_line_naming_the_key(data_dir: Path, tmp_path: Path, extra: str, needles: list[str]):
    config = write(tmp_path, market(data_dir / BTC) + extra)
    line = one_error_line(barter("backtest", str(config)))
    assert "config.toml" in line
    for needle in needles:
        assert needle in line, line


@pytest.mark.parametrize("text, needles", [
    ('[[markets]]\nbase = "btc"\nquote = "usdt"\ndata = "missing-file.csv"\n', ["[markets] data", "missing-file.csv"]),
    ('[[markets]]\nbase = "btc"\nquote = "usdt"\ndata = "x.csv"\nkind = "swap"\n', ["kind must be one of"]),
    ('[[markets]]\nbase = "btc"\ndata = "x.csv"\n', ["[markets] quote is required"]),
    ('[strategy]\nparams = {}\n', ["[[markets]] is required"]),
    ("[[markets]\n", ["invalid TOML"]),
])
def test_bad_markets_are_one_line_errors(tmp_path: Path, text: str, needles: list[str]):
    (tmp_path / "x.csv").write_text("time,open,high,low,close\n2020-01-01,1,2,0.5,1\n")
    line = one_error_line(barter("backtest", str(write(tmp_path, text))))
    for needle in needles:
        assert needle in line, line


def test_bad_data_file_in_a_config_names_the_file(tmp_path: Path):
    (tmp_path / "bad.csv").write_text("time,open,high,low,close\n2020-01-01,1,2,0.5,nan\n")
    config = write(tmp_path, '[[markets]]\nbase = "btc"\nquote = "usdt"\ndata = "bad.csv"\n')
    line = one_error_line(barter("backtest", str(config)))
    assert "bad.csv" in line and "close" in line


def test_missing_config_and_seed_flags_with_a_config(tmp_path: Path):
    assert "nope.toml" in one_error_line(barter("backtest", str(tmp_path / "nope.toml")))
    config = write(tmp_path, "")
    assert "--data" in one_error_line(barter("backtest", str(config), "--data", "x.csv"))


def test_data_inspect_on_a_real_file(data_dir: Path):
    out = barter("data", "inspect", str(data_dir / BTC))
    assert out.returncode == 0, out.stderr
    assert "rows        45,031" in out.stdout
    assert "2021-12-31T23:01:00Z .. 2022-02-01T05:31:00Z" in out.stdout
    assert "median step 1m" in out.stdout and "valid       yes" in out.stdout


def test_data_inspect_reports_gaps(data_dir: Path):
    out = barter("data", "inspect", str(data_dir / "prices/equity_daily/GOOG.csv"))
    assert out.returncode == 0, out.stderr
    assert "median step 1d" in out.stdout
    gaps = next(line for line in out.stdout.splitlines() if line.startswith("gaps"))
    assert "largest" in gaps and int(gaps.split()[1].replace(",", "")) > 100  # weekends


def test_data_inspect_on_a_bad_file(tmp_path: Path):
    bad = tmp_path / "bad.csv"
    bad.write_text("time,open,high,low,close\n2020-01-01,1,2,0.5,1\n2020-01-02,1,2,0.5,nan\n")
    line = one_error_line(barter("data", "inspect", str(bad)))
    assert "bad.csv" in line and "row 2" in line and "close" in line
    assert "nope.csv" in one_error_line(barter("data", "inspect", str(tmp_path / "nope.csv")))


def test_data_inspect_on_gzipped_json_and_on_a_binary_file(data_dir: Path, tmp_path: Path):
    import gzip

    packed = tmp_path / "candles.json.gz"
    packed.write_bytes(gzip.compress((data_dir / XRP).read_bytes()))
    out = barter("data", "inspect", str(packed))
    assert out.returncode == 0 and "rows        13,681" in out.stdout, out.stderr
    binary = tmp_path / "candles.dat"
    binary.write_bytes(gzip.compress(b"time,open\n"))  # not text
    assert "not a text CSV file" in one_error_line(barter("data", "inspect", str(binary)))


@pytest.mark.parametrize("flag, value", [("--rsi-period", "0"), ("--bars", "-5"), ("--cash", "nan"),
                                         ("--order-value", "x")])
def test_bad_seed_options_are_usage_errors(flag: str, value: str):
    out = barter("backtest", "-q", flag, value)
    assert out.returncode == 2 and f"argument {flag}" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("flag, value, rule", [("--exchange-fee", "-1.5", "(-1, 1)"), ("--exchange-fee", "1", "(-1, 1)"),
                                               ("--slippage-fee", "-0.1", "[0, 1)"), ("--exchange-fee", "inf", "(-1, 1)")])
def test_fee_rates_outside_the_api_rule_are_usage_errors(flag: str, value: str, rule: str):
    # The CLI took any float, the config file only >= 0 and the API (-1, 1): now one rule for all.
    out = barter("backtest", "-q", flag, value)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"argument {flag}: must be in {rule}, was {value}" in out.stderr.strip().splitlines()[-1]


def test_a_rebate_runs_everywhere(tmp_path: Path, data_dir: Path):
    assert barter("backtest", "-q", "--bars", "3000", "--exchange-fee", "-0.0001").returncode == 0
    config = write(tmp_path, market(data_dir / BTC) + "[execution.fees]\nexchange = -0.0001\n")
    out = barter("backtest", "-q", str(config))
    assert out.returncode == 0, out.stderr


def test_bars_with_data_is_an_error(data_dir: Path):
    # --bars was ignored silently with --data; it is the length of the embedded market only.
    line = one_error_line(barter("backtest", "-q", "--data", str(data_dir / BTC), "--bars", "100"))
    assert "--bars" in line and "--data" in line


def test_a_closed_pipe_ends_quietly(data_dir: Path):
    inspect = subprocess.Popen([sys.executable, "-m", "barter", "data", "inspect", str(data_dir / BTC)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    inspect.stdout.close()  # the reader is gone before anything is written
    assert inspect.wait(timeout=120) in (0, 141) and inspect.stderr.read() == b""


def test_report_rewrites_the_tear_sheet(saved_run, tmp_path: Path):
    run, first = saved_run
    assert first.returncode == 0, first.stderr
    (run / "tear_sheet.html").unlink()
    out = barter("report", str(run))
    assert out.returncode == 0, out.stderr
    assert (run / "tear_sheet.html").stat().st_size > 100_000
    table = lambda text: [line for line in text.splitlines() if line.startswith("|")]
    assert table(out.stdout) == table(first.stdout)
    elsewhere = tmp_path / "sheet.html"
    quiet = barter("report", str(run), "-o", str(elsewhere), "-q")
    assert quiet.returncode == 0 and elsewhere.is_file()
    assert all(line[0] in "+|" for line in quiet.stdout.strip().splitlines())


def test_report_on_a_directory_without_a_run(tmp_path: Path):
    assert "meta.json" in one_error_line(barter("report", str(tmp_path)))


@pytest.mark.parametrize("command", [["backtest"], ["data", "inspect"], ["report"]])
def test_help_has_an_example(command: list[str]):
    out = barter(*command, "--help")
    assert out.returncode == 0 and "example" in out.stdout and "barter " in out.stdout
