"""The portfolio (the seed's MetaPortfolio): allocation, risk, positions, balances, statistics."""
from barter.portfolio.allocator import DefaultAllocator
from barter.portfolio.portfolio import Portfolio
from barter.portfolio.position import Balance, Position
from barter.portfolio.risk import DefaultRisk

__all__ = ["Balance", "DefaultAllocator", "DefaultRisk", "Portfolio", "Position"]
