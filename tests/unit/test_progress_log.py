"""``barter.progress.ProgressBar`` and ``barter.log``: when they draw or log, and their errors."""
from __future__ import annotations

import io
import logging

import pytest

from barter.log import FORMAT, configure_logging, level_for
from barter.progress import ProgressBar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_draws_on_a_terminal_with_rate_and_eta():
    screen = Terminal()
    with ProgressBar("rsi", stream=screen, delay=0, refresh_per_second=1e9) as bar:
        for done in (65_536, 131_072, 150_000):
            bar(done, 150_000)
    out = screen.getvalue()
    assert "rsi" in out and "65536/150000" in out and "150000/150000" in out
    assert "events/s" in out and "eta" in out
    assert bar.calls == 3


@pytest.mark.parametrize("stream, quiet", [(io.StringIO(), False), (Terminal(), True)], ids=["pipe", "quiet"])
def test_bar_is_silent_off_a_terminal_or_when_quiet(stream: io.StringIO, quiet: bool):
    with ProgressBar(stream=stream, quiet=quiet) as bar:
        bar(10, 20)
        bar(20, 20)
    assert not bar.enabled and stream.getvalue() == "" and bar.calls == 2


def test_bar_redraws_at_most_at_its_rate_but_always_at_the_end():
    screen = Terminal()
    with ProgressBar(stream=screen, delay=0, refresh_per_second=1e-6) as bar:
        for done in range(1, 101):
            bar(done, 100)
    out = screen.getvalue()
    assert "1/100" in out and "100/100" in out and "50/100" not in out


def test_bar_waits_for_its_delay(monkeypatch: pytest.MonkeyPatch):
    screen = Terminal()
    with ProgressBar(stream=screen, delay=60) as bar:
        bar(50, 100)
        bar(100, 100)  # a run shorter than the delay never shows a bar
    assert screen.getvalue() == "" and bar.calls == 2
    monkeypatch.setenv("BARTER_PROGRESS_DELAY", "0")
    with ProgressBar(stream=screen) as bar:
        bar(100, 100)
    assert "100/100" in screen.getvalue()


def test_bar_rejects_bad_settings(monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(ValueError, match="refresh_per_second must be > 0, was 0"):
        ProgressBar(refresh_per_second=0)
    with pytest.raises(ValueError, match="delay must be >= 0 seconds, was -1"):
        ProgressBar(delay=-1)
    monkeypatch.setenv("BARTER_PROGRESS_DELAY", "soon")
    with pytest.raises(ValueError, match="BARTER_PROGRESS_DELAY must be a number of seconds, was 'soon'"):
        ProgressBar()


@pytest.mark.parametrize("name, verbose, level", [
    (None, 0, logging.WARNING), (None, 1, logging.INFO), (None, 3, logging.DEBUG),
    ("ERROR", 2, logging.ERROR), ("debug", 0, logging.DEBUG),
])
def test_level_for(name, verbose: int, level: int):
    assert level_for(name, verbose) == level


def test_level_for_rejects_unknown_names():
    with pytest.raises(ValueError, match="log level must be one of debug, .*, was 'loud'"):
        level_for("loud")


def test_configure_logging_formats_barter_records_and_replaces_its_handler():
    first, second = io.StringIO(), io.StringIO()
    configure_logging(logging.INFO, first)
    logger = configure_logging("debug", second)
    try:
        logging.getLogger("barter.test").debug("hello %d", 7)
        assert first.getvalue() == ""  # the first handler was replaced, not kept
        assert second.getvalue().rstrip().endswith("DEBUG barter.test: hello 7")
        assert FORMAT.startswith("%(asctime)s")
    finally:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
