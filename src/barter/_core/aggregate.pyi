import numpy as np
import numpy.typing as npt

class CandleAggregator:
    """Aggregates inputs into ``interval_ns`` candles (bar close times, UTC-aligned)."""
    interval_ns: int
    time_ns: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    trade_count: int
    bars: int
    def __init__(self, interval_ns: int) -> None: ...
    def update(self, time_ns: int, open: float, high: float, low: float, close: float, volume: float) -> bool: ...
    def flush(self) -> bool: ...
    def update_view(self, view: object) -> bool: ...

def resample(interval_ns: int, time_ns: npt.NDArray[np.int64], open: npt.NDArray[np.float64],
             high: npt.NDArray[np.float64], low: npt.NDArray[np.float64], close: npt.NDArray[np.float64],
             volume: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64],
                                                       npt.NDArray[np.float64], npt.NDArray[np.float64],
                                                       npt.NDArray[np.float64], npt.NDArray[np.float64],
                                                       npt.NDArray[np.int64]]: ...
