"""Small strategies shared by tests."""
from __future__ import annotations

from typing import Any


class Idle:
    """Never trades."""

    def generate_signal(self, view: Any) -> None:
        return None
