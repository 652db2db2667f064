"""Slow, obviously-right references of the compiled core (STYLE.md section 4).

Money is exact (``fractions.Fraction`` of the float inputs) so a test can tell the core's rounding
from a real error. Import as ``from reference.seed_portfolio import SeedPortfolio``: ``tests/`` is on
``sys.path`` because ``tests/conftest.py`` lives there (pytest's rootdir-relative import).
"""
