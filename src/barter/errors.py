"""Errors raised by barter: one subclass per kind of failure, each message naming the bad value."""


class BarterError(Exception):
    """Base class of every error barter raises on purpose."""


class DataError(BarterError, ValueError):
    """Market data that cannot be used: bad rows, missing columns, unordered timestamps."""


class DataWarning(UserWarning):
    """Market data that was used after a documented recovery, e.g. bad rows dropped (``bad_rows="drop"``)."""


class ConfigWarning(UserWarning):
    """A configuration that runs but is likely not what was meant (e.g. one strategy object shared
    by several traders)."""


class UnknownMarket(BarterError, KeyError):
    """A market that the engine or portfolio was not built with."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class StrategyError(BarterError):
    """A strategy returned something that is not a ``Signal`` (or ``None``)."""


class ConfigError(BarterError, ValueError):
    """A configuration value that is missing, of the wrong type or out of range."""


class BookOutOfSync(DataError):
    """An order book that no longer follows the exchange's: it needs a new snapshot (resync)."""


class SequenceGap(BookOutOfSync):
    """A book delta whose update ids do not follow the last applied one (missed or out of order)."""


class CrossedBook(BookOutOfSync):
    """A book whose best bid is >= its best ask after a snapshot or delta."""


class InsufficientBalance(BarterError):
    """An order or fill that would take an asset's available balance below zero (without margin)."""


class InvalidOrder(DataError):
    """An order that cannot be sent as given (side, type, time in force, price or quantity)."""


class UnknownOrder(BarterError, KeyError):
    """A fill, or a cancel, for an order that was never sent or is no longer open."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class RepositoryError(BarterError):
    """A repository value that is missing, corrupt or not barter's (the message names the key)."""


class EngineStopped(BarterError):
    """A command the engine will not run: its run ended (or stopped on an error) before it."""
