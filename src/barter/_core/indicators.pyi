class EMA:
    """Exponential moving average, k = 2 / (period + 1), seeded by the first input."""
    period: int
    def __init__(self, period: int) -> None: ...
    def update(self, x: float) -> float: ...

class SMA:
    """Simple moving average; NaN until ``period`` inputs."""
    period: int
    def __init__(self, period: int) -> None: ...
    def update(self, x: float) -> float: ...

class RSI:
    """The seed's EMA-smoothed RSI (ta 0.5); first value 50.0.

    50.0 when the smoothed gain and loss are both 0 (no movement, e.g. period 1 and an unchanged
    close); 100.0 when only the loss is 0; 0.0 when only the gain is 0.
    """
    period: int
    def __init__(self, period: int = 14) -> None: ...
    def update(self, x: float) -> float: ...

class WilderRSI:
    """Wilder's RSI; NaN for the first ``period`` inputs.

    100.0 when the average loss is 0, 50.0 when both averages are 0 (no movement).
    """
    period: int
    def __init__(self, period: int = 14) -> None: ...
    def update(self, x: float) -> float: ...
