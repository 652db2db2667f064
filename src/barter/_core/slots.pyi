from typing import Any

class SlotsBuilder:
    """Builds instances of ``cls`` from all of ``fields`` (its slots, in ``__init__`` order), skipping
    ``__init__``."""
    cls: type
    fields: tuple[str, ...]
    def __init__(self, cls: type, fields: tuple[str, ...]) -> None: ...
    def new(self, *values: Any) -> Any: ...
