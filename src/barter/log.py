"""Standard ``logging`` for the ``barter`` command: one format, level from ``--log-level`` or ``-v``.

Library code only creates loggers (``logging.getLogger(__name__)``, all under ``barter``); an
application configures them. ``configure_logging`` is what the CLI does: records of ``barter.*``
at the chosen level go to stderr as ``2024-01-01 12:00:00,000 INFO barter.cli: message``, so
stdout keeps only the results.
"""
from __future__ import annotations

import logging
import sys
from typing import Optional, TextIO, Union

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LEVELS = ("debug", "info", "warning", "error", "critical")
_HANDLER_NAME = "barter-cli"


def level_for(log_level: Optional[str] = None, verbose: int = 0) -> int:
    """The logging level: ``log_level`` by name if given, else WARNING, INFO with ``-v``, DEBUG with ``-vv``.

    Raises
    ------
    ValueError
        ``log_level`` is not one of ``LEVELS`` (any case), or ``verbose`` is negative.
    """
    if log_level is not None:
        if log_level.lower() not in LEVELS:
            raise ValueError(f"log level must be one of {', '.join(LEVELS)}, was {log_level!r}")
        return int(getattr(logging, log_level.upper()))
    if verbose < 0:
        raise ValueError(f"verbose must be >= 0, was {verbose!r}")
    return (logging.WARNING, logging.INFO)[verbose] if verbose < 2 else logging.DEBUG


def configure_logging(level: Union[int, str] = logging.WARNING, stream: Optional[TextIO] = None) -> logging.Logger:
    """Send the ``barter`` loggers' records at ``level`` and above to ``stream`` (default stderr).

    Calling it again replaces the handler it added before (and nothing else); returns the
    ``barter`` logger.
    """
    logger = logging.getLogger("barter")
    for old in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:
        logger.removeHandler(old)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter(FORMAT))
    logger.addHandler(handler)
    logger.setLevel(level_for(level) if isinstance(level, str) else level)
    return logger


__all__ = ["FORMAT", "LEVELS", "configure_logging", "level_for"]
