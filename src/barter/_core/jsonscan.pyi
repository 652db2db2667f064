from typing import Any, Callable, Optional, Union

NONE: int
"""An absent optional id or time (ids and times are >= 0)."""

Levels = tuple[tuple[float, float], ...]

def depth_update(raw: Union[str, bytes]) -> Optional[tuple[str, int, int, int, int, int, Levels, Levels]]:
    """A combined-stream ``depthUpdate`` frame as ``(s, U, u, E, T, pu, b, a)`` (``NONE`` for an
    absent ``E``, ``T`` or ``pu``), exactly as ``_binance_typed.DEPTH`` decodes it; or None if the
    frame is not in the plain form Binance sends (msgspec then decides)."""
def trade(raw: Union[str, bytes]) -> Optional[tuple[str, float, float, int, bool]]:
    """A combined-stream ``trade``/``aggTrade`` frame printed by the market as ``(s, p, q, T, m)``,
    exactly as ``_binance_typed.TRADE`` decodes it; or None if the frame is not in the plain form."""

class BinanceReader:
    """Depth diffs and trades of ``markets`` (symbol -> Market) straight to their events, in one
    call: what ``BinanceParser``'s typed path builds, with its constructors."""
    def __init__(self, markets: dict[str, Any], new_event: Callable[..., Any], new_trade: Callable[..., Any],
                 new_l2: Callable[..., Any], buy: Any, sell: Any) -> None: ...
    def read(self, raw: Union[str, bytes]) -> Optional[list[Any]]:
        """``[event]`` for a depth diff or market trade in the plain form, for a known symbol, with
        a time; None for anything else (the parser's own path decides)."""
