"""``[allocator]`` and ``[risk]`` config sections: import paths, params, and errors naming the key."""
from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from barter.config import ConfigFileError, build_engine, load_config, parse_config
from barter.portfolio import DefaultAllocator, DefaultRisk

MODULE = '''
import dataclasses
from barter.portfolio import DefaultAllocator


class Half(DefaultAllocator):
    """Half the default entry size."""

    def __init__(self, order_value=100.0):
        super().__init__(order_value / 2, None)


class VetoAll:
    """Vetoes every order: no fills."""

    def __init__(self, reason="none"):
        self.reason = reason

    def evaluate_order(self, order):
        return None


class NoMethod:
    pass
'''


@pytest.fixture()
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delitem(sys.modules, "myrisk", raising=False)  # imported afresh from this directory
    (tmp_path / "myrisk.py").write_text(MODULE)
    c = [100.0 + (i % 17) - (i % 5) * 1.5 for i in range(400)]
    rows = "".join(f"{1_600_000_000 + 60 * i},{x},{x + 1},{x - 1},{x},1\n" for i, x in enumerate(c))
    (tmp_path / "bars.csv").write_text("time,open,high,low,close,volume\n" + rows)
    return tmp_path


def config(directory: Path, extra: str) -> Path:
    path = directory / "config.toml"
    path.write_text('[[markets]]\nbase = "btc"\nquote = "usdt"\ndata = "bars.csv"\n'
                    '[strategy]\nparams = { rsi_period = 3 }\n' + textwrap.dedent(extra))
    return path


def test_defaults_without_the_sections(config_dir: Path):
    loaded = load_config(config(config_dir, ""))
    assert loaded.allocator is None and loaded.risk is None
    portfolio = build_engine(loaded).portfolio
    assert type(portfolio.allocator) is DefaultAllocator and type(portfolio.risk) is DefaultRisk


def test_sections_with_import_paths_and_params(config_dir: Path):
    loaded = load_config(config(config_dir, """
        [allocator]
        path = "myrisk:Half"
        params = { order_value = 300.0 }
        [risk]
        path = "myrisk:VetoAll"
        params = { reason = "test" }
    """))
    assert loaded.allocator is not None and loaded.allocator.params == {"order_value": 300.0}
    engine = build_engine(loaded)
    assert engine.portfolio.allocator.default_order_value == 150.0
    assert engine.portfolio.risk.reason == "test"
    engine.run()
    assert engine.portfolio.core.n_fills == 0  # every order vetoed


def test_default_allocator_by_section(config_dir: Path):
    loaded = load_config(config(config_dir, "[allocator]\nparams = { default_order_value = 50.0, size_decimals = 2 }\n"))
    allocator = build_engine(loaded).portfolio.allocator
    assert type(allocator) is DefaultAllocator
    assert (allocator.default_order_value, allocator.size_decimals) == (50.0, 2)


@pytest.mark.parametrize("extra, message", [
    ('[risk]\nmax = 1\n', '[risk] unknown key "max"; expected one of path, params'),
    ('[risk]\npath = "myrisk:Nope"\n', "[risk] path \"myrisk:Nope\" cannot be imported: module 'myrisk' has no attribute 'Nope'"),
    ('[risk]\npath = "myrisk:NoMethod"\n', '[risk] path "myrisk:NoMethod" must make an object with the method evaluate_order(order), got NoMethod'),
    ('[risk]\nparams = { x = 1 }\n', "[risk] params do not fit barter.portfolio:DefaultRisk"),
    ('[risk]\nparams = 3\n', "[risk] params must be a table of keyword arguments, got 3"),
    ('[allocator]\npath = "myrisk:VetoAll"\n', "[allocator] path \"myrisk:VetoAll\" must make an object with the method allocate_order(order, position, strength)"),
    ('[allocator]\nparams = { default_order_value = -1 }\n', "[allocator] params rejected by barter.portfolio:DefaultAllocator: ConfigError: default_order_value must be finite and > 0, was -1"),
    ('[allocator]\npath = 7\n', "[allocator] path must be a non-empty string, got 7"),
    ('[allocator]\npath = "no_such_mod_q:A"\n', "[allocator] path \"no_such_mod_q:A\" cannot be imported: cannot import module 'no_such_mod_q'"),
    ('[allocator]\n[portfolio]\norder_value = 5.0\n', "[portfolio] order_value sizes the default allocator; with an [allocator] section pass it in [allocator] params instead"),
])
def test_errors_name_the_section_and_key(config_dir: Path, extra: str, message: str):
    with pytest.raises(ConfigFileError) as info:
        load_config(config(config_dir, extra))
    assert str(info.value).startswith("config.toml: ")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_or_misshapen_sections(config_dir: Path):
    with pytest.raises(ConfigFileError, match=r"unknown section \[risks\]; did you mean \"risk\"\?"):
        parse_config({"markets": [], "risks": {}}, config_dir / "c.toml")
    with pytest.raises(ConfigFileError, match=r"c.toml: allocator must be a table \[allocator\], got 3"):
        parse_config({"markets": [], "allocator": 3}, config_dir / "c.toml")


def test_a_market_may_drop_its_bad_rows(config_dir: Path):
    import warnings

    from barter.config import load_market_data
    from barter.errors import DataError, DataWarning

    lines = (config_dir / "bars.csv").read_text().splitlines()
    lines[5] = lines[5].replace(",1", ",-1", 1)  # a negative volume
    (config_dir / "bars.csv").write_text("\n".join(lines) + "\n")
    market = config(config_dir, "").read_text().replace('data = "bars.csv"\n', 'data = "bars.csv"\nbad_rows = "Drop"\n')
    (config_dir / "config.toml").write_text(market)
    loaded = load_config(config_dir / "config.toml")
    with pytest.warns(DataWarning, match="dropped 1 bad row"):
        assert len(load_market_data(loaded.markets[0])) == 399
    (config_dir / "config.toml").write_text(market.replace('"Drop"', '"skip"'))
    with pytest.raises(ConfigFileError, match="bad_rows must be one of raise, drop"):
        load_config(config_dir / "config.toml")
    with warnings.catch_warnings(), pytest.raises(DataError, match="volume"):
        warnings.simplefilter("error")
        load_market_data(load_config(config(config_dir, "")).markets[0])
