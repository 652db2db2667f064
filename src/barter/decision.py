"""The seed's Decision: what a signal advises. Values are the compiled core's codes."""
from enum import IntEnum


class Decision(IntEnum):
    LONG = 0
    CLOSE_LONG = 1
    SHORT = 2
    CLOSE_SHORT = 3

    @property
    def is_entry(self) -> bool:
        return self in (Decision.LONG, Decision.SHORT)

    @property
    def is_exit(self) -> bool:
        return not self.is_entry

    @property
    def mask(self) -> int:
        """Bit of this decision in a precomputed decisions array."""
        return 1 << int(self)

    def __str__(self) -> str:
        return self.name.lower()
