"""Compiled one-pass statistics. Its C structs are used by the portfolio core; no Python API yet."""
